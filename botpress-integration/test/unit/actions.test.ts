import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { RuntimeError } from '@botpress/sdk'
import { actions } from '../../src/actions'
import { channels } from '../../src/channels'
import type { HistoryMessage } from '../../src/types'
import { fakeClient, type FakeClient } from '../support/fake-client'
import { refusedUrl, stubServer, type Answer, type Received, type Stub } from '../support/http-stub'
import { common } from '../support/props'

/** Baton's answers by route; a test may replace one. */
let answers: Record<string, Answer>
let baton: Stub
let endpointUrl: string
let fake: FakeClient

const received = (route: string): Received[] => baton.received.filter((r) => r.path === `/botpress/tok/${route}`)
const bodyOf = (r: Received | undefined): Record<string, unknown> => JSON.parse(r?.body ?? '{}')

before(async () => {
  baton = await stubServer((r) => answers[r.path.split('/').pop() ?? ''] ?? { status: 404 })
  endpointUrl = `${baton.url}/botpress/tok`
})
after(() => baton.close())
beforeEach(() => {
  baton.received.length = 0
  fake = fakeClient()
  answers = {
    createUser: { status: 200, body: { customerId: 'cus_1' } },
    startHitl: { status: 200, body: { ticketId: 'tkt_1' } },
    stopHitl: { status: 200, body: {} },
    message: { status: 200, body: {} },
  }
})

const props = () => ({ ...common(fake, endpointUrl), metadata: { setCost: () => {} } })
const createUser = (input: Parameters<typeof actions.createUser>[0]['input']) =>
  actions.createUser({ ...props(), type: 'createUser', input })

const HISTORY: HistoryMessage[] = [
  { source: { type: 'bot' }, type: 'text', payload: { text: 'Hi! How can I help?' } },
  { source: { type: 'user', userId: 'user_x' }, type: 'location', payload: { latitude: 45.5, longitude: -73.6 } },
]

describe('createUser', () => {
  it('makes the Botpress user, then the Baton customer, and tags the user with it', async () => {
    const { userId } = await createUser({ name: 'Dana', email: 'dana@example.org', pictureUrl: 'https://x/d.png' })
    const user = fake.store.getUser(userId)
    assert.deepEqual(user.tags, { email: 'dana@example.org', batonCustomerId: 'cus_1' })
    assert.equal(user.name, 'Dana')
    assert.deepEqual(bodyOf(received('createUser')[0]), {
      botpressUserId: userId,
      name: 'Dana',
      email: 'dana@example.org',
      pictureUrl: 'https://x/d.png',
    })
  })

  it('gives the same Botpress user for the same email, and omits what is missing', async () => {
    const first = await createUser({ name: 'Dana', email: 'dana@example.org' })
    const second = await createUser({ name: 'Dana again', email: 'dana@example.org' })
    assert.equal(first.userId, second.userId)
    const third = await createUser({ name: 'Anonymous' })
    assert.notEqual(third.userId, first.userId)
    assert.deepEqual(bodyOf(received('createUser')[2]), { botpressUserId: third.userId, name: 'Anonymous' })
  })

  it('fails with a clear message when Baton is down', async () => {
    endpointUrl = `${await refusedUrl()}/botpress/tok`
    try {
      await assert.rejects(createUser({ name: 'Dana' }), (e: unknown) => {
        assert.ok(e instanceof RuntimeError)
        assert.match(e.message, /^Baton is unreachable at http:\/\/127\.0\.0\.1:\d+: the end user was not created \(connection refused\)\.$/)
        return true
      })
    } finally {
      endpointUrl = `${baton.url}/botpress/tok`
    }
  })
})

describe('startHitl', () => {
  it('opens the ticket with the history and Baton’s settings, then the tagged hitl conversation', async () => {
    const { userId } = await createUser({ name: 'Dana', email: 'dana@example.org' })
    const { conversationId } = await actions.startHitl({
      ...props(),
      type: 'startHitl',
      input: { userId, title: 'Refund', description: 'Order 5512', hitlSession: { priority: 'high', team: 'Billing' }, messageHistory: HISTORY },
    })
    assert.deepEqual(bodyOf(received('startHitl')[0]), {
      customerId: 'cus_1',
      botpressUserId: userId,
      title: 'Refund',
      description: 'Order 5512',
      priority: 'high',
      team: 'Billing',
      messageHistory: HISTORY,
    })
    const conversation = fake.store.getConversation(conversationId)
    assert.equal(conversation.channel, 'hitl')
    assert.deepEqual(conversation.tags, { ticketId: 'tkt_1' })
    const again = await actions.startHitl({ ...props(), type: 'startHitl', input: { userId, messageHistory: [] } })
    assert.equal(again.conversationId, conversationId, 'same ticket id, same conversation')
    assert.deepEqual(bodyOf(received('startHitl')[1]), { customerId: 'cus_1', botpressUserId: userId, messageHistory: [] })
  })

  it('passes Baton’s refusal through (e.g. an unknown team)', async () => {
    const { userId } = await createUser({ name: 'Dana' })
    answers.startHitl = { status: 400, body: { error: 'no team is named "Bilingual"; teams: Billing, Sales' } }
    await assert.rejects(
      actions.startHitl({ ...props(), type: 'startHitl', input: { userId, hitlSession: { team: 'Bilingual' }, messageHistory: [] } }),
      /Baton refused: no team is named "Bilingual"; teams: Billing, Sales \(HTTP 400\); the handoff was not started\./
    )
    assert.equal(fake.store.conversations.length, 0)
  })

  it('says the handoff was not started when Baton is unreachable', async () => {
    const { userId } = await createUser({ name: 'Dana' })
    endpointUrl = `${await refusedUrl()}/botpress/tok`
    try {
      await assert.rejects(
        actions.startHitl({ ...props(), type: 'startHitl', input: { userId, messageHistory: [] } }),
        /Baton is unreachable at http:\/\/127\.0\.0\.1:\d+: the handoff was not started \(connection refused\)\.$/
      )
    } finally {
      endpointUrl = `${baton.url}/botpress/tok`
    }
  })

  it('refuses a user that createUser did not make', async () => {
    const stranger = fake.store.createUser({ name: 'x' })
    await assert.rejects(
      actions.startHitl({ ...props(), type: 'startHitl', input: { userId: stranger.id, messageHistory: [] } }),
      /has no Baton customer/
    )
    assert.equal(received('startHitl').length, 0)
  })
})

describe('stopHitl', () => {
  it('closes the ticket, saying whether the end user ended it', async () => {
    const conversation = fake.store.createConversation({ channel: 'hitl', tags: { ticketId: 'tkt_9' } })
    await actions.stopHitl({ ...props(), type: 'stopHitl', input: { conversationId: conversation.id } })
    fake.store.updateConversation({ id: conversation.id, tags: { hitlEndReason: 'patient-used-termination-command' } })
    await actions.stopHitl({ ...props(), type: 'stopHitl', input: { conversationId: conversation.id } })
    assert.deepEqual(received('stopHitl').map(bodyOf), [
      { ticketId: 'tkt_9', conversationId: conversation.id, reason: 'bot_stopped' },
      { ticketId: 'tkt_9', conversationId: conversation.id, reason: 'customer_ended' },
    ])
  })

  it('logs instead of failing when Baton refuses or is down', async () => {
    const conversation = fake.store.createConversation({ channel: 'hitl', tags: { ticketId: 'tkt_9' } })
    answers.stopHitl = { status: 500, body: { error: 'database is locked' } }
    const p = props()
    assert.deepEqual(await actions.stopHitl({ ...p, type: 'stopHitl', input: { conversationId: conversation.id } }), {})
    assert.match(p.lines.join('\n'), /error: Ticket tkt_9 stays open in Baton: .*database is locked/)
  })
})

describe('hitl channel', () => {
  const relay = async (type: 'text' | 'image', payload: Record<string, unknown>, authorId = 'bot_1') => {
    const conversation = fake.store.getOrCreateConversation({ channel: 'hitl', tags: { ticketId: 'tkt_1' }, discriminateByTags: ['ticketId'] })
    const handler = channels.hitl.messages[type] as (p: unknown) => Promise<void>
    await handler({
      ...props(),
      type,
      payload,
      conversation,
      user: { id: authorId, tags: {} },
      message: { id: `msg_${baton.received.length}` },
      ack: async () => {},
    })
  }

  it('sends the customer’s messages as the customer and the plugin’s notices as the bot', async () => {
    const customer = fake.store.createUser({ name: 'Dana', tags: { batonCustomerId: 'cus_1' } })
    await relay('text', { type: 'text', text: 'It has not arrived', userId: customer.id })
    await relay('image', { type: 'image', imageUrl: 'https://x/p.png', userId: customer.id })
    await relay('text', { type: 'text', text: '( The user has ended the session. )' })
    const conversationId = fake.store.conversations[0]?.id
    assert.deepEqual(received('message').map(bodyOf), [
      { ticketId: 'tkt_1', conversationId, messageId: 'msg_0', from: 'customer', customerId: 'cus_1', type: 'text', payload: { text: 'It has not arrived', userId: customer.id } },
      { ticketId: 'tkt_1', conversationId, messageId: 'msg_1', from: 'customer', customerId: 'cus_1', type: 'image', payload: { imageUrl: 'https://x/p.png', userId: customer.id } },
      { ticketId: 'tkt_1', conversationId, messageId: 'msg_2', from: 'bot', type: 'text', payload: { text: '( The user has ended the session. )' } },
    ])
  })

  it('fails for good when Baton refuses, and for retry when Baton is down', async () => {
    answers.message = { status: 400, body: { error: 'ticket tkt_1 is closed' } }
    await assert.rejects(relay('text', { text: 'late' }), (e: unknown) => e instanceof RuntimeError && /ticket tkt_1 is closed/.test(e.message))
    answers.message = { status: 503, body: { error: 'busy' } }
    await assert.rejects(relay('text', { text: 'later' }), (e: unknown) => !(e instanceof RuntimeError))
  })
})
