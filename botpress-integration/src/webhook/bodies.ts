/**
 * The bodies Baton POSTs to `<webhook URL>/<route>`. Unknown fields are ignored, so
 * Baton can add some without breaking older integrations.
 */
import * as sdk from '@botpress/sdk'

const { z } = sdk

export const ROUTES = ['message-from-agent', 'agent-assigned', 'stop-hitl'] as const
export type Route = (typeof ROUTES)[number]

const id = z.string().min(1).max(500)

const agent = z.object({
  id,
  name: z.string().min(1).max(500),
  avatarUrl: z.string().min(1).nullable().optional(),
})
export type Agent = sdk.z.infer<typeof agent>

/** The message types an agent can send; each must come with that type's own payload. */
export const AGENT_MESSAGE_TYPES = ['text', 'image', 'audio', 'video', 'file'] as const
type AgentMessageType = (typeof AGENT_MESSAGE_TYPES)[number]

const base = {
  ticketId: id,
  // Baton may not know the conversation yet (e.g. a ticket opened before it learned
  // it); the integration then finds it by its ticketId tag.
  conversationId: id.nullable().optional(),
}

const schemas = {
  'agent-assigned': z.object({ ...base, agent }),
  'stop-hitl': z.object(base),
  'message-from-agent': z.object({
    ...base,
    agent,
    /** Optional: with it, a redelivered message is created once. */
    messageId: id.optional(),
    messageType: z.enum(AGENT_MESSAGE_TYPES),
    payload: z.record(z.unknown()),
  }),
}

export type Body<R extends Route> = sdk.z.infer<(typeof schemas)[R]>

export type AgentMessage = {
  [K in AgentMessageType]: { type: K; payload: sdk.z.infer<(typeof sdk.messages.defaults)[K]['schema']> }
}[AgentMessageType]

export type Parsed<R extends Route> = { ok: true; body: Body<R> } | { ok: false; error: string }

const describeIssues = (error: sdk.z.ZodError): string =>
  error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ')

export const isRoute = (value: string): value is Route => (ROUTES as readonly string[]).includes(value)

export const parseBody = <R extends Route>(route: R, raw: string | undefined): Parsed<R> => {
  let json: unknown
  try {
    json = JSON.parse(raw ?? '')
  } catch {
    return { ok: false, error: 'the body is not JSON' }
  }
  const result = schemas[route].safeParse(json)
  if (!result.success) {
    return { ok: false, error: describeIssues(result.error) }
  }
  return { ok: true, body: result.data as Body<R> }
}

/**
 * The agent's message as Botpress will store it: the payload must hold what the
 * message type requires (e.g. `{ "imageUrl" }` for an image).
 */
export const agentMessage = (
  body: Body<'message-from-agent'>
): { ok: true; message: AgentMessage } | { ok: false; error: string } => {
  // Unknown keys are dropped: Botpress gets only what the type declares.
  const schema = sdk.messages.defaults[body.messageType].schema
  const result = schema.safeParse(body.payload)
  if (!result.success) {
    return { ok: false, error: `payload of a ${body.messageType} message: ${describeIssues(result.error)}` }
  }
  return { ok: true, message: { type: body.messageType, payload: result.data } as AgentMessage }
}
