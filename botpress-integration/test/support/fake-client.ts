/**
 * A stand-in for the SDK's integration client over a BotpressStore, for unit tests:
 * the same method names and answers, and the client's own error classes, so
 * `isApiError` and `.code` work as they do against the real API.
 */
import { InvalidPayloadError, ResourceNotFoundError, UnknownError } from '@botpress/client'
import type { Client } from '../../src/types'
import { BotpressStore, InvalidPayload, NotFound } from './botpress-store'

type Call = { method: string; input: unknown }

export type FakeClient = {
  client: Client
  store: BotpressStore
  calls: Call[]
  /** Makes every later call of `method` fail as the API does when it is down. */
  breakMethod: (method: string) => void
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

export const fakeClient = (store = new BotpressStore()): FakeClient => {
  const calls: Call[] = []
  const broken = new Set<string>()
  const wrap =
    <I, O>(method: string, run: (input: I) => O) =>
    async (input: I): Promise<O> => {
      calls.push({ method, input: copy(input) })
      if (broken.has(method)) {
        throw new UnknownError('the Botpress API is down')
      }
      try {
        return copy(run(input))
      } catch (thrown) {
        if (thrown instanceof NotFound) throw new ResourceNotFoundError(thrown.message)
        if (thrown instanceof InvalidPayload) throw new InvalidPayloadError(thrown.message)
        throw thrown
      }
    }
  type In<M extends keyof BotpressStore> = BotpressStore[M] extends (input: infer I) => unknown ? I : never
  type ById = { id: string }
  type StateRef = { type: string; id: string; name: string }
  const methods = {
    createUser: wrap('createUser', (i: In<'createUser'>) => ({ user: store.createUser(i) })),
    getUser: wrap('getUser', (i: ById) => ({ user: store.getUser(i.id) })),
    getOrCreateUser: wrap('getOrCreateUser', (i: In<'getOrCreateUser'>) => ({ user: store.getOrCreateUser(i) })),
    updateUser: wrap('updateUser', (i: In<'updateUser'>) => ({ user: store.updateUser(i) })),
    getConversation: wrap('getConversation', (i: ById) => ({ conversation: store.getConversation(i.id) })),
    getOrCreateConversation: wrap('getOrCreateConversation', (i: In<'getOrCreateConversation'>) => ({
      conversation: store.getOrCreateConversation(i),
    })),
    listConversations: wrap('listConversations', (i: In<'listConversations'>) => ({
      conversations: store.listConversations(i),
      meta: {},
    })),
    createMessage: wrap('createMessage', (i: In<'createMessage'>) => ({ message: store.createMessage(i) })),
    getOrCreateMessage: wrap('getOrCreateMessage', (i: In<'getOrCreateMessage'>) => ({
      message: store.getOrCreateMessage(i),
    })),
    updateMessage: wrap('updateMessage', (i: In<'updateMessage'>) => ({ message: store.updateMessage(i) })),
    createEvent: wrap('createEvent', (i: In<'createEvent'>) => ({ event: store.createEvent(i) })),
    getState: wrap('getState', (i: StateRef) => ({
      state: store.getState(i.type, i.id, i.name),
      meta: { cached: false },
    })),
    setState: wrap('setState', (i: StateRef & { payload: unknown }) => ({
      state: store.setState(i.type, i.id, i.name, i.payload),
    })),
  }
  return {
    client: methods as unknown as Client,
    store,
    calls,
    breakMethod: (method) => broken.add(method),
  }
}
