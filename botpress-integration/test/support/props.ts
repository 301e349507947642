/** Handler props as the SDK builds them, for calling handlers directly in unit tests. */
import * as sdk from '@botpress/sdk'
import type { Context } from '../../src/types'
import type { FakeClient } from './fake-client'

export const ENDPOINT = 'https://baton.example.com/botpress/tok_123'

export const context = (endpointUrl = ENDPOINT, operation = 'action_triggered'): Context => ({
  botId: 'bot_1',
  botUserId: 'user_bot',
  integrationId: 'intver_1',
  integrationAlias: 'baton',
  webhookId: 'wh_1',
  operation,
  configurationType: null,
  configuration: { endpointUrl },
})

/** A logger that keeps what it is told, so tests can check warnings. */
export const recordingLogger = () => {
  const lines: string[] = []
  const logger = new sdk.IntegrationLogger({})
  const keep =
    (level: string) =>
    (...args: unknown[]) =>
      lines.push(`${level}: ${args.map(String).join(' ')}`)
  const forBot = () => ({ info: keep('info'), warn: keep('warn'), error: keep('error'), debug: keep('debug') })
  Object.assign(logger, { forBot, info: keep('info'), warn: keep('warn'), error: keep('error'), debug: keep('debug') })
  return { logger, lines }
}

export const common = (fake: FakeClient, endpointUrl?: string) => {
  const { logger, lines } = recordingLogger()
  return { ctx: context(endpointUrl), client: fake.client, logger, lines }
}
