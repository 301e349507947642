import { RuntimeError } from '@botpress/sdk'
import { EndpointUrlError, parseEndpointUrl, type Endpoint } from './baton/endpoint'
import type { Context } from './types'

/** The endpoint URL from the configuration; a malformed one fails with a message that says how to fix it. */
export const endpointOf = (ctx: Pick<Context, 'configuration'>): Endpoint => {
  try {
    return parseEndpointUrl(ctx.configuration.endpointUrl)
  } catch (thrown) {
    if (thrown instanceof EndpointUrlError) {
      throw new RuntimeError(thrown.message)
    }
    throw thrown
  }
}
