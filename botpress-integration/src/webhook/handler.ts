/**
 * Baton's calls to the webhook URL (`<webhook URL>/<route>`). Each is verified first
 * (signature.ts); only then is the body read and acted on.
 *
 * Answers: 200 done; 400 malformed body; 401 unsigned, wrongly signed or stale; 404
 * unknown route; 405 not a POST; 422 no Botpress conversation for that ticket; 503 the
 * Botpress API failed before anything was written, so Baton may send it again.
 */
import { isApiError } from '@botpress/sdk'
import type { Request, Response } from '@botpress/sdk'
import { CONNECTION_STATE, HITL_CHANNEL, TAGS } from '../../definitions'
import type { Client, Context, Logger, Props } from '../types'
import { agentMessage, isRoute, parseBody, type Agent, type Body, type Route } from './bodies'
import { verify } from './signature'

const json = (status: number, body: object): Response => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

class Refusal extends Error {
  public constructor(
    public readonly status: number,
    message: string
  ) {
    super(message)
  }
}

const routeOf = (path: string): string => path.replace(/^\/+|\/+$/g, '')

/** The signing key register stored; none means the integration was never registered. */
const signingKeyOf = async (client: Client, ctx: Context): Promise<string> => {
  try {
    const { state } = await client.getState({ type: 'integration', id: ctx.integrationId, name: CONNECTION_STATE })
    return state.payload.signingKey
  } catch (thrown) {
    if (isApiError(thrown) && thrown.code === 404) {
      throw new Refusal(401, 'this integration is not registered with Baton yet (no signing key)')
    }
    throw thrown
  }
}

type Conversation = Awaited<ReturnType<Client['getConversation']>>['conversation']

/** The ticket's hitl conversation: by the id Baton gives, checked against the ticket, else by tag. */
const conversationOf = async (client: Client, body: Body<Route>, logger: Logger): Promise<Conversation> => {
  const { ticketId, conversationId } = body
  if (conversationId) {
    try {
      const { conversation } = await client.getConversation({ id: conversationId })
      if (conversation.tags[TAGS.conversation.ticketId] === ticketId) {
        return conversation
      }
      logger.forBot().warn(`Conversation ${conversationId} is not the one of ticket ${ticketId}; looking it up by tag.`)
    } catch (thrown) {
      if (!(isApiError(thrown) && thrown.code === 404)) {
        throw thrown
      }
    }
  }
  const { conversations } = await client.listConversations({
    channel: HITL_CHANNEL,
    tags: { [TAGS.conversation.ticketId]: ticketId },
  })
  const [found] = conversations
  if (!found) {
    throw new Refusal(422, `no Botpress conversation belongs to ticket ${ticketId}`)
  }
  return found as Conversation
}

/** The Botpress user standing for an agent: one per agent id, kept up to date. */
const agentUserOf = async (client: Client, agent: Agent): Promise<string> => {
  const pictureUrl = agent.avatarUrl ?? undefined
  const { user } = await client.getOrCreateUser({
    name: agent.name,
    pictureUrl,
    tags: { [TAGS.user.agentId]: agent.id },
    discriminateByTags: [TAGS.user.agentId],
  })
  if (user.name !== agent.name || (pictureUrl !== undefined && user.pictureUrl !== pictureUrl)) {
    await client.updateUser({ id: user.id, name: agent.name, pictureUrl })
  }
  return user.id
}

const act = async <R extends Route>(route: R, body: Body<R>, client: Client, logger: Logger): Promise<void> => {
  const conversation = await conversationOf(client, body, logger)
  const conversationId = conversation.id

  if (route === 'stop-hitl') {
    await client.createEvent({ type: 'hitlStopped', payload: { conversationId }, conversationId })
    return
  }

  const withAgent = body as Body<'agent-assigned'> | Body<'message-from-agent'>
  if (route === 'agent-assigned') {
    const userId = await agentUserOf(client, withAgent.agent)
    await client.createEvent({ type: 'hitlAssigned', payload: { conversationId, userId }, conversationId })
    return
  }

  const fromAgent = body as Body<'message-from-agent'>
  const parsed = agentMessage(fromAgent)
  if (!parsed.ok) {
    throw new Refusal(400, parsed.error)
  }
  const userId = await agentUserOf(client, fromAgent.agent)
  const { type, payload } = parsed.message
  if (fromAgent.messageId) {
    await client.getOrCreateMessage({
      conversationId,
      userId,
      type,
      payload,
      tags: { [TAGS.message.messageId]: fromAgent.messageId },
      discriminateByTags: [TAGS.message.messageId],
    })
  } else {
    await client.createMessage({ conversationId, userId, type, payload, tags: {} })
  }
}

export const handleWebhook = async (
  { req, client, ctx, logger }: Parameters<Props['handler']>[0],
  nowSeconds: () => number = () => Math.floor(Date.now() / 1000)
): Promise<Response> => {
  const route = routeOf(req.path)
  if (!isRoute(route)) {
    return json(404, { error: `unknown route /${route}` })
  }
  if (req.method.toUpperCase() !== 'POST') {
    return json(405, { error: `${req.method} is not allowed; POST` })
  }

  try {
    const key = await signingKeyOf(client, ctx)
    const verdict = verify({ key, headers: req.headers, rawBody: req.body ?? '', nowSeconds: nowSeconds() })
    if (!verdict.ok) {
      logger.forBot().warn(`Refused a call to /${route}: ${verdict.reason}.`)
      return json(401, { error: verdict.reason })
    }

    const parsed = parseBody(route, req.body)
    if (!parsed.ok) {
      return json(400, { error: parsed.error })
    }
    await act(route, parsed.body, client, logger)
    return json(200, { ok: true })
  } catch (thrown) {
    if (thrown instanceof Refusal) {
      return json(thrown.status, { error: thrown.message })
    }
    const reason = thrown instanceof Error ? thrown.message : String(thrown)
    logger.forBot().error(`Handling /${route} failed: ${reason}`)
    return json(503, { error: `the Botpress API failed: ${reason}` })
  }
}

export const handler: Props['handler'] = (props) => handleWebhook(props)
