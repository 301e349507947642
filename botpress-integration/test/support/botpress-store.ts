/**
 * An in-memory Botpress workspace: the users, conversations, messages, events and
 * states an integration creates through the Runtime API. The unit tests use it through
 * fake-client.ts; the end-to-end tests serve it over HTTP (test/e2e/fake-botpress-api.ts).
 */
import { randomUUID } from 'node:crypto'

export type Tags = Record<string, string>
export type User = { id: string; name?: string; pictureUrl?: string; tags: Tags; createdAt: string; updatedAt: string }
export type Conversation = {
  id: string
  channel: string
  integration: string
  tags: Tags
  createdAt: string
  updatedAt: string
}
export type Message = {
  id: string
  conversationId: string
  userId: string
  type: string
  payload: Record<string, unknown>
  tags: Tags
  direction: 'incoming' | 'outgoing'
  createdAt: string
  updatedAt: string
}
export type Event = {
  id: string
  type: string
  payload: Record<string, unknown>
  conversationId?: string
  userId?: string
  messageId?: string
  status: 'pending'
  createdAt: string
}
export type State = { id: string; type: string; name: string; payload: unknown; createdAt: string; updatedAt: string }

export class NotFound extends Error {}
export class InvalidPayload extends Error {}

const now = () => new Date().toISOString()
const newId = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 26)}`

/** Tags with null or '' removed, as the API stores them. */
const cleanTags = (tags: Record<string, string | null | undefined> | undefined): Tags =>
  Object.fromEntries(Object.entries(tags ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''))

const matches = (have: Tags, want: Tags, keys?: string[]): boolean =>
  (keys ?? Object.keys(want)).every((key) => want[key] !== undefined && have[key] === want[key])

export class BotpressStore {
  public readonly users: User[] = []
  public readonly conversations: Conversation[] = []
  public readonly messages: Message[] = []
  public readonly events: Event[] = []
  public readonly states = new Map<string, State>()
  /** The integration alias conversations are created under. */
  public integration = 'baton'

  /** How many writes happened: lets a test prove that a refused call wrote nothing. */
  public get writes(): number {
    return this.users.length + this.conversations.length + this.messages.length + this.events.length + this.states.size
  }

  public createUser(input: { id?: string; name?: string; pictureUrl?: string; tags?: Record<string, string | null> }): User {
    const user: User = {
      id: input.id ?? newId('user'),
      name: input.name,
      pictureUrl: input.pictureUrl,
      tags: cleanTags(input.tags),
      createdAt: now(),
      updatedAt: now(),
    }
    this.users.push(user)
    return user
  }

  public getUser(id: string): User {
    const user = this.users.find((u) => u.id === id)
    if (!user) {
      throw new NotFound(`User ${id} not found`)
    }
    return user
  }

  public getOrCreateUser(input: {
    name?: string
    pictureUrl?: string
    tags: Record<string, string | null>
    discriminateByTags?: string[]
  }): User {
    const tags = cleanTags(input.tags)
    const found = this.users.find((u) => matches(u.tags, tags, input.discriminateByTags))
    return found ?? this.createUser(input)
  }

  public updateUser(input: { id: string; name?: string; pictureUrl?: string; tags?: Record<string, string | null> }): User {
    const user = this.getUser(input.id)
    if (input.name !== undefined) user.name = input.name
    if (input.pictureUrl !== undefined) user.pictureUrl = input.pictureUrl
    for (const [key, value] of Object.entries(input.tags ?? {})) {
      if (value === null || value === '') delete user.tags[key]
      else user.tags[key] = value
    }
    user.updatedAt = now()
    return user
  }

  public createConversation(input: { channel: string; tags?: Record<string, string | null> }): Conversation {
    const conversation: Conversation = {
      id: newId('conv'),
      channel: input.channel,
      integration: this.integration,
      tags: cleanTags(input.tags),
      createdAt: now(),
      updatedAt: now(),
    }
    this.conversations.push(conversation)
    return conversation
  }

  public getConversation(id: string): Conversation {
    const conversation = this.conversations.find((c) => c.id === id)
    if (!conversation) {
      throw new NotFound(`Conversation ${id} not found`)
    }
    return conversation
  }

  public getOrCreateConversation(input: {
    channel: string
    tags: Record<string, string | null>
    discriminateByTags?: string[]
  }): Conversation {
    const tags = cleanTags(input.tags)
    const found = this.conversations.find(
      (c) => c.channel === input.channel && matches(c.tags, tags, input.discriminateByTags)
    )
    return found ?? this.createConversation(input)
  }

  public listConversations(filter: { channel?: string; tags?: Tags }): Conversation[] {
    return this.conversations.filter(
      (c) => (!filter.channel || c.channel === filter.channel) && matches(c.tags, filter.tags ?? {})
    )
  }

  public updateConversation(input: { id: string; tags?: Record<string, string | null> }): Conversation {
    const conversation = this.getConversation(input.id)
    for (const [key, value] of Object.entries(input.tags ?? {})) {
      if (value === null || value === '') delete conversation.tags[key]
      else conversation.tags[key] = value
    }
    return conversation
  }

  public createMessage(input: {
    conversationId: string
    userId: string
    type: string
    payload: Record<string, unknown>
    tags?: Record<string, string | null>
  }): Message {
    this.getConversation(input.conversationId)
    this.getUser(input.userId)
    if (typeof input.type !== 'string' || typeof input.payload !== 'object' || input.payload === null) {
      throw new InvalidPayload('a message needs a type and a payload')
    }
    const message: Message = {
      id: newId('msg'),
      conversationId: input.conversationId,
      userId: input.userId,
      type: input.type,
      payload: input.payload,
      tags: cleanTags(input.tags),
      direction: 'incoming',
      createdAt: now(),
      updatedAt: now(),
    }
    this.messages.push(message)
    return message
  }

  public getOrCreateMessage(input: Parameters<BotpressStore['createMessage']>[0] & { discriminateByTags?: string[] }): Message {
    const tags = cleanTags(input.tags)
    const found = this.messages.find(
      (m) => m.conversationId === input.conversationId && matches(m.tags, tags, input.discriminateByTags)
    )
    return found ?? this.createMessage(input)
  }

  public updateMessage(input: { id: string; tags?: Record<string, string | null> }): Message {
    const message = this.messages.find((m) => m.id === input.id)
    if (!message) {
      throw new NotFound(`Message ${input.id} not found`)
    }
    Object.assign(message.tags, cleanTags(input.tags))
    return message
  }

  public createEvent(input: {
    type: string
    payload: Record<string, unknown>
    conversationId?: string
    userId?: string
    messageId?: string
  }): Event {
    if (input.conversationId) this.getConversation(input.conversationId)
    const event: Event = {
      id: newId('evt'),
      type: input.type,
      payload: input.payload,
      conversationId: input.conversationId,
      userId: input.userId,
      messageId: input.messageId,
      status: 'pending',
      createdAt: now(),
    }
    this.events.push(event)
    return event
  }

  public getState(type: string, id: string, name: string): State {
    const state = this.states.get(`${type}/${id}/${name}`)
    if (!state) {
      throw new NotFound(`State ${name} of ${type} ${id} not found`)
    }
    return state
  }

  public setState(type: string, id: string, name: string, payload: unknown): State {
    const key = `${type}/${id}/${name}`
    const state: State = { id, type, name, payload, createdAt: this.states.get(key)?.createdAt ?? now(), updatedAt: now() }
    this.states.set(key, state)
    return state
  }
}
