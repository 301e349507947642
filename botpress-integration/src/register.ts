/**
 * register and unregister run when the bot owner saves, enables or removes the
 * integration. register hands Baton the webhook URL and keeps the key Baton will sign
 * its calls with; a failure here is shown to the owner, so it must say what to fix.
 */
import { RuntimeError } from '@botpress/sdk'
import { CONNECTION_STATE } from '../definitions'
import * as baton from './baton/api'
import { BatonCallError } from './baton/http'
import { registrationMessage } from './baton/messages'
import { endpointOf } from './config'
import type { Props } from './types'

export const register: Props['register'] = async ({ ctx, client, webhookUrl, logger }) => {
  const endpoint = endpointOf(ctx)
  let registration: baton.Registration
  try {
    registration = await baton.register(endpoint, { webhookUrl, botId: ctx.botId })
  } catch (thrown) {
    if (thrown instanceof BatonCallError) {
      throw new RuntimeError(registrationMessage(endpoint, thrown.failure))
    }
    throw thrown
  }

  await client.setState({
    type: 'integration',
    id: ctx.integrationId,
    name: CONNECTION_STATE,
    payload: { signingKey: registration.signingKey, connection: registration.connection, webhookUrl },
  })
  logger.forBot().info(`Connected to Baton at ${endpoint.origin} (connection "${registration.connection}").`)
}

export const unregister: Props['unregister'] = async ({ ctx, webhookUrl, logger }) => {
  // Removing the integration must not be blocked by an unreachable Baton: log and go on.
  try {
    await baton.unregister(endpointOf(ctx), { webhookUrl })
  } catch (thrown) {
    const reason = thrown instanceof Error ? thrown.message : String(thrown)
    logger.forBot().warn(`Could not tell Baton that this integration was removed: ${reason}`)
  }
}
