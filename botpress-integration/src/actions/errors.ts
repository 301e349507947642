import { RuntimeError } from '@botpress/sdk'
import type { Endpoint } from '../baton/endpoint'
import { BatonCallError } from '../baton/http'
import { actionMessage } from '../baton/messages'

/**
 * Runs a call to Baton for an action; a failure becomes a RuntimeError, whose message
 * Botpress shows as is (any other error would be replaced by a generic text).
 */
export const callForAction = async <T>(endpoint: Endpoint, outcome: string, call: () => Promise<T>): Promise<T> => {
  try {
    return await call()
  } catch (thrown) {
    if (thrown instanceof BatonCallError) {
      throw new RuntimeError(actionMessage(endpoint, thrown.failure, outcome))
    }
    throw thrown
  }
}
