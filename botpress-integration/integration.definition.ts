import * as sdk from '@botpress/sdk'
import {
  CONNECTION_STATE,
  DEFAULT_INTEGRATION_NAME,
  HITL_CHANNEL,
  TAGS,
  configurationSchema,
  connectionStateSchema,
  ticketSchema,
} from './definitions'
import hitl from './interfaces/hitl'

/**
 * Read at build and deploy time: a private integration must be named
 * `<workspace-handle>/<name>`, e.g. BATON_INTEGRATION_NAME=acme/baton.
 */
const name = process.env.BATON_INTEGRATION_NAME?.trim() || DEFAULT_INTEGRATION_NAME

export default new sdk.IntegrationDefinition({
  name,
  version: '0.1.0',
  title: 'Baton',
  description: 'Hand conversations over to your own Baton inbox, where live agents answer them.',
  icon: 'icon.svg',
  readme: 'hub.md',
  configuration: { schema: configurationSchema },
  states: {
    [CONNECTION_STATE]: { type: 'integration', schema: connectionStateSchema },
  },
  user: {
    tags: {
      [TAGS.user.customerId]: { title: 'Baton customer ID', description: "Baton's id of this end user (cus_…)" },
      [TAGS.user.agentId]: { title: 'Baton agent ID', description: "Baton's id of this agent" },
      [TAGS.user.email]: { title: 'Email', description: 'The end user’s email address, as createUser received it' },
    },
  },
  entities: {
    ticket: {
      title: 'Baton ticket',
      description: 'How Baton should queue the handoff',
      schema: ticketSchema,
    },
  },
  attributes: {
    category: 'Customer Support',
  },
}).extend(hitl, (self) => ({
  entities: { hitlSession: self.entities.ticket },
  channels: {
    [HITL_CHANNEL]: {
      title: 'Baton',
      description: 'A ticket in Baton',
      conversation: {
        tags: {
          [TAGS.conversation.ticketId]: { title: 'Baton ticket ID', description: "Baton's ticket id (tkt_…)" },
        },
      },
      message: {
        tags: {
          [TAGS.message.messageId]: { title: 'Baton message ID', description: "Baton's id of an agent message" },
        },
      },
    },
  },
}))
