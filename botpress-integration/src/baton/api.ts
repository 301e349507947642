/**
 * Baton's routes behind the endpoint URL, with the bodies of the contract (docs/botpress.md
 * §15). Each function checks the answer's shape; failures throw BatonCallError.
 */
import type { Endpoint } from './endpoint'
import { BatonCallError, postToBaton } from './http'
import type { HistoryMessage, Ticket } from '../types'

type FetchLike = typeof fetch

const SIGNING_KEY = /^[0-9a-f]{64}$/

const field = (json: unknown, key: string): unknown =>
  typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[key] : undefined

const requireString = (endpoint: Endpoint, route: string, json: unknown, key: string, pattern?: RegExp): string => {
  const value = field(json, key)
  if (typeof value !== 'string' || value === '' || (pattern && !pattern.test(value))) {
    throw new BatonCallError(route, endpoint, {
      kind: 'bad-answer',
      status: 200,
      detail: `"${key}" is missing or malformed; is Baton up to date?`,
    })
  }
  return value
}

export type Registration = { signingKey: string; connection: string }

export const register = async (
  endpoint: Endpoint,
  body: { webhookUrl: string; botId: string },
  fetchImpl?: FetchLike
): Promise<Registration> => {
  const json = await postToBaton(endpoint, 'register', body, fetchImpl)
  return {
    signingKey: requireString(endpoint, 'register', json, 'signingKey', SIGNING_KEY),
    connection: requireString(endpoint, 'register', json, 'connection'),
  }
}

export const unregister = async (endpoint: Endpoint, body: { webhookUrl: string }, fetchImpl?: FetchLike) => {
  await postToBaton(endpoint, 'unregister', body, fetchImpl)
}

export type NewCustomer = { botpressUserId: string; name: string; email?: string; pictureUrl?: string }

export const createUser = async (endpoint: Endpoint, body: NewCustomer, fetchImpl?: FetchLike): Promise<string> => {
  const json = await postToBaton(endpoint, 'createUser', body, fetchImpl)
  return requireString(endpoint, 'createUser', json, 'customerId')
}

export type NewTicket = {
  customerId: string
  botpressUserId: string
  title?: string
  description?: string
  priority?: Ticket['priority']
  team?: string
  messageHistory: HistoryMessage[]
}

export const startHitl = async (endpoint: Endpoint, body: NewTicket, fetchImpl?: FetchLike): Promise<string> => {
  const json = await postToBaton(endpoint, 'startHitl', body, fetchImpl)
  return requireString(endpoint, 'startHitl', json, 'ticketId')
}

/** Why the bot side ends a session: the end user ended it, or the bot (or a timeout) did. */
export type StopReason = 'customer_ended' | 'bot_stopped'

export const stopHitl = async (
  endpoint: Endpoint,
  body: { ticketId: string; conversationId: string; reason: StopReason },
  fetchImpl?: FetchLike
) => {
  await postToBaton(endpoint, 'stopHitl', body, fetchImpl)
}

export type OutgoingMessage = {
  ticketId: string
  conversationId: string
  /** The Botpress message id: Baton stores a redelivered message once. */
  messageId: string
  from: 'customer' | 'bot'
  customerId?: string
  type: string
  payload: Record<string, unknown>
}

export const message = async (endpoint: Endpoint, body: OutgoingMessage, fetchImpl?: FetchLike) => {
  await postToBaton(endpoint, 'message', body, fetchImpl)
}
