/**
 * The integration's types, written from the definition (what `bp gen` would generate
 * into `.botpress/`). The schemas they come from live in definitions/ and
 * interfaces/hitl; test/unit/definition.test.ts checks the two stay in step.
 */
import type * as sdk from '@botpress/sdk'
import type { connectionStateSchema, configurationSchema, ticketSchema } from '../definitions'

type Infer<T extends sdk.z.ZodTypeAny> = sdk.z.infer<T>

export type Configuration = Infer<typeof configurationSchema>
export type Ticket = Infer<typeof ticketSchema>
export type ConnectionState = Infer<typeof connectionStateSchema>

/** What the hitl interface adds to every message of its channel. */
type HitlExtras = { userId?: string; additionalData?: string }

type Default = typeof import('@botpress/sdk').messages.defaults
type Payload<K extends keyof Default> = Infer<Default[K]['schema']>
type MarkdownPayload = Infer<typeof import('@botpress/sdk').messages.markdown.schema>
type MarkdownBlocPayload = Infer<typeof import('@botpress/sdk').messages.markdownBloc.schema>

export type HitlMessages = {
  text: Payload<'text'> & HitlExtras
  image: Payload<'image'> & HitlExtras
  audio: Payload<'audio'> & HitlExtras
  video: Payload<'video'> & HitlExtras
  file: Payload<'file'> & HitlExtras
  bloc: MarkdownBlocPayload & HitlExtras
}
export type HitlMessageType = keyof HitlMessages

type HistoryPayloads = { [K in keyof Default]: Payload<K> } & {
  markdown: MarkdownPayload
  bloc: MarkdownBlocPayload
}
export type HistorySource = { type: 'user'; userId: string } | { type: 'bot' }
export type HistoryMessage = {
  [K in keyof HistoryPayloads]: { source: HistorySource; type: K; payload: HistoryPayloads[K] }
}[keyof HistoryPayloads]

export type Integration = {
  name: string
  version: string
  configuration: Configuration
  configurations: {}
  actions: {
    createUser: {
      input: { name: string; pictureUrl?: string; email?: string }
      output: { userId: string }
    }
    startHitl: {
      input: {
        userId: string
        title?: string
        description?: string
        hitlSession?: Ticket
        messageHistory: HistoryMessage[]
      }
      output: { conversationId: string }
    }
    stopHitl: {
      input: { conversationId: string }
      output: {}
    }
  }
  channels: {
    hitl: {
      messages: HitlMessages
      message: { tags: { batonMessageId?: string } }
      conversation: { tags: { ticketId?: string } }
    }
  }
  events: {
    hitlAssigned: { conversationId: string; userId: string }
    hitlStopped: { conversationId: string }
  }
  states: {
    connection: { type: 'integration'; payload: ConnectionState }
  }
  user: { tags: { batonCustomerId?: string; batonAgentId?: string; email?: string } }
  entities: { ticket: Ticket }
}

export type Props = sdk.IntegrationProps<Integration>
export type Client = sdk.IntegrationSpecificClient<Integration>
export type Logger = sdk.IntegrationLogger
export type Context = sdk.IntegrationContext<Integration>
