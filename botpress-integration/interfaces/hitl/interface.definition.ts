/**
 * The `hitl` interface, version 2.1.0, declared locally.
 *
 * This is the contract that Botpress's HITL plugin (1.x) calls through: three actions
 * (`createUser`, `startHitl`, `stopHitl`), two events (`hitlAssigned`, `hitlStopped`),
 * one channel (`hitl`) and one entity (`hitlSession`). The names, the version and the
 * shape of every schema are the published contract: a deployed integration is checked
 * against the public `hitl@2.1.0`, so nothing here may drift from it. The contract test
 * (test/contract) compares this file with the table in docs/botpress.md §15.
 *
 * Titles and descriptions are ours; Botpress only compares names and schemas.
 */
import * as sdk from '@botpress/sdk'

const { z } = sdk

/** A message tag holds at most 500 characters, and `additionalData` travels as one. */
export const ADDITIONAL_DATA_MAX = 500

/** What every message on the `hitl` channel may carry besides its own fields. */
const hitlExtras = {
  userId: z.string().optional().describe('Send the message as this Botpress user instead of the bot'),
  additionalData: z
    .string()
    .max(ADDITIONAL_DATA_MAX)
    .optional()
    .describe('Free data for the integration, encoded as a string (at most 500 characters)'),
}

const onHitlChannel = (message: { schema: sdk.z.AnyZodObject }) => ({
  schema: () => message.schema.extend(hitlExtras),
})

/** Who wrote a history message: an end user (by Botpress user id) or the bot. */
const historySource = z.union([
  z.object({ type: z.literal('user'), userId: z.string() }),
  z.object({ type: z.literal('bot') }),
])

/**
 * Every message type a history entry may have: the SDK's defaults, plus the deprecated
 * `markdown`, with `bloc` in its markdown-capable form (as the published version has it).
 */
const historyTypes: Record<string, { schema: sdk.z.AnyZodObject }> = {
  ...sdk.messages.defaults,
  markdown: sdk.messages.markdown,
  bloc: sdk.messages.markdownBloc,
}

type AtLeastTwo<T> = [T, T, ...T[]]
const historyEntries: sdk.z.AnyZodObject[] = Object.entries(historyTypes).map(([type, message]) =>
  z.object({ source: historySource, type: z.literal(type), payload: message.schema })
)

const historyMessage = z.union(historyEntries as AtLeastTwo<sdk.z.AnyZodObject>)

const conversationId = () =>
  z.string().title('HITL session ID').describe('The Botpress conversation that stands for the HITL session')

const hidden = { ...sdk.WELL_KNOWN_ATTRIBUTES.HIDDEN_IN_STUDIO }

export default new sdk.InterfaceDefinition({
  name: 'hitl',
  version: '2.1.0',
  entities: {
    hitlSession: {
      title: 'HITL session',
      description: 'A handoff to people, which the external system calls a ticket or a conversation',
      schema: z.object({}),
    },
  },
  events: {
    hitlAssigned: {
      attributes: hidden,
      schema: () =>
        z.object({
          conversationId: conversationId(),
          userId: z
            .string()
            .title('Human agent user ID')
            .describe('The Botpress user that stands for the human agent now handling the session'),
        }),
    },
    hitlStopped: {
      attributes: hidden,
      schema: () => z.object({ conversationId: conversationId() }),
    },
  },
  actions: {
    createUser: {
      attributes: hidden,
      title: 'Create external user',
      description: 'Create the end user in the external system and in Botpress',
      input: {
        schema: () =>
          z.object({
            name: z.string().title('Display name').describe("The end user's display name"),
            pictureUrl: z.string().title('Picture URL').describe("The end user's avatar").optional(),
            email: z.string().title('Email address').describe("The end user's email address").optional(),
          }),
      },
      output: {
        schema: () =>
          z.object({
            userId: z.string().title('Botpress user ID').describe('The Botpress user that stands for the end user'),
          }),
      },
    },
    startHitl: {
      attributes: hidden,
      title: 'Start new HITL session',
      description: 'Open a HITL session in the external system and in Botpress',
      input: {
        schema: (entities) =>
          z.object({
            userId: z.string().title('User ID').describe('The Botpress user that stands for the end user'),
            title: z.string().title('Title').describe('A title for the session (a ticket subject)').optional(),
            description: z
              .string()
              .title('Description')
              .describe('A description of the session (a ticket body)')
              .optional(),
            hitlSession: entities.hitlSession
              .optional()
              .title('Extra configuration')
              .describe('Settings of this session, as the integration defines them'),
            messageHistory: z
              .array(historyMessage)
              .title('Conversation history')
              .describe('Every message of the conversation before the handoff, oldest first'),
          }),
      },
      output: {
        schema: () => z.object({ conversationId: conversationId() }),
      },
    },
    stopHitl: {
      attributes: hidden,
      title: 'Stop HITL session',
      description: 'Close a HITL session in the external system',
      input: {
        schema: () => z.object({ conversationId: conversationId() }),
      },
      output: {
        schema: () => z.object({}),
      },
    },
  },
  channels: {
    hitl: {
      messages: {
        text: onHitlChannel(sdk.messages.defaults.text),
        image: onHitlChannel(sdk.messages.defaults.image),
        audio: onHitlChannel(sdk.messages.defaults.audio),
        video: onHitlChannel(sdk.messages.defaults.video),
        file: onHitlChannel(sdk.messages.defaults.file),
        // 2.1.0 publishes the markdown-capable bloc on the channel too.
        bloc: onHitlChannel(sdk.messages.markdownBloc),
      },
    },
  },
  // The published 2.1.0 was built with the legacy schema transformer; keeping it makes
  // the JSON schemas Botpress compares identical.
  __advanced: {
    useLegacyZuiTransformer: true,
  },
})
