/**
 * What both the integration definition and the handlers need to agree on: the
 * configuration, the entity, the state and the tag names. Keeping them here means a
 * renamed tag cannot leave a handler reading a tag the definition no longer declares.
 */
import { z } from '@botpress/sdk'

/** The name on Botpress. A private integration needs `<workspace-handle>/<name>`. */
export const DEFAULT_INTEGRATION_NAME = 'baton'

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const
export type Priority = (typeof PRIORITIES)[number]

/** The channel the hitl interface prescribes. */
export const HITL_CHANNEL = 'hitl'

export const TAGS = {
  user: {
    /** Baton's id of the end user (`cus_…`): the user is a customer. */
    customerId: 'batonCustomerId',
    /** Baton's id of the agent (or `agt_baton` for Baton's own notices). */
    agentId: 'batonAgentId',
    /** Lets createUser find the same Botpress user again for the same address. */
    email: 'email',
  },
  conversation: {
    /** Baton's ticket id (`tkt_…`); one hitl conversation per ticket. */
    ticketId: 'ticketId',
  },
  message: {
    /** Baton's id of an agent message, when Baton sends one: makes redelivery harmless. */
    messageId: 'batonMessageId',
  },
} as const

export const configurationSchema = z.object({
  endpointUrl: z
    .string()
    .url()
    .title('Endpoint URL')
    .describe(
      "The connection's endpoint URL exactly as Baton shows it, e.g. https://baton.example.com/botpress/<token>. " +
        'The token part is a secret: anyone who has it can open tickets in Baton.'
    )
    .secret(),
})

/** Baton's own settings of a handoff, mapped onto the interface's `hitlSession`. */
export const ticketSchema = z.object({
  priority: z
    .enum(PRIORITIES)
    .title('Priority')
    .describe('How urgent the ticket is. Leave empty for Baton’s default (normal).')
    .optional(),
  team: z
    .string()
    .min(1)
    .max(60)
    .title('Team')
    .describe('The name of the Baton team that should take the ticket. Leave empty to use the connection’s routing.')
    .optional(),
})

export const CONNECTION_STATE = 'connection'

/** What register keeps: the key Baton signs its webhook calls with. */
export const connectionStateSchema = z.object({
  signingKey: z.string().regex(/^[0-9a-f]{64}$/).title('Signing key').describe('Verifies the calls Baton makes'),
  connection: z.string().title('Connection').describe('The name of the Baton connection'),
  webhookUrl: z.string().title('Webhook URL').describe('The webhook URL Baton was given at registration'),
})
