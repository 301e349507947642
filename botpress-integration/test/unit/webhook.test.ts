import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { agentMessage, parseBody } from '../../src/webhook/bodies'
import { handleWebhook } from '../../src/webhook/handler'
import { sign } from '../../src/webhook/signature'
import { fakeClient, type FakeClient } from '../support/fake-client'
import { common } from '../support/props'

const KEY = 'fedcba9876543210'.repeat(4)
const NOW = 1_767_225_600
const ANA = { id: 'agt_ana', name: 'Ana Silva', avatarUrl: 'https://baton.example.com/avatars/ana.png' }

let fake: FakeClient
let conversationId: string

beforeEach(() => {
  fake = fakeClient()
  fake.store.setState('integration', 'intver_1', 'connection', { signingKey: KEY, connection: 'c', webhookUrl: 'w' })
  conversationId = fake.store.createConversation({ channel: 'hitl', tags: { ticketId: 'tkt_1' } }).id
})

type Call = { path: string; body: string; method?: string; headers?: Record<string, string>; at?: number }

const call = async ({ path, body, method = 'POST', headers, at = NOW }: Call) => {
  const timestamp = String(at)
  const signed = headers ?? { 'x-baton-timestamp': timestamp, 'x-baton-signature': sign(KEY, timestamp, body) }
  const props = common(fake)
  const response = await handleWebhook(
    { ...props, req: { method, path, query: '', headers: { 'content-type': 'application/json', ...signed }, body } },
    () => NOW
  )
  return { status: response.status, body: JSON.parse(response.body ?? '{}') as Record<string, unknown>, lines: props.lines }
}

const send = (path: string, body: object, extra: Partial<Call> = {}) => call({ path, body: JSON.stringify(body), ...extra })

describe('webhook: verification comes first', () => {
  it('refuses unsigned, wrongly signed, stale and future calls with 401, acting on nothing', async () => {
    const body = JSON.stringify({ ticketId: 'tkt_1', conversationId, agent: ANA })
    const writes = fake.store.writes
    const stale = String(NOW - 301)
    const attempts: Call[] = [
      { path: '/agent-assigned', body, headers: {} },
      { path: '/agent-assigned', body, headers: { 'x-baton-timestamp': String(NOW), 'x-baton-signature': sign('0'.repeat(64), String(NOW), body) } },
      { path: '/agent-assigned', body, headers: { 'x-baton-timestamp': stale, 'x-baton-signature': sign(KEY, stale, body) } },
      { path: '/agent-assigned', body, at: NOW + 301 },
    ]
    for (const attempt of attempts) {
      const answer = await call(attempt)
      assert.equal(answer.status, 401, JSON.stringify(answer.body))
      assert.equal(typeof answer.body.error, 'string')
    }
    assert.equal(fake.store.writes, writes)
    assert.deepEqual(fake.calls.map((c) => c.method).filter((m) => m !== 'getState'), [])
  })

  it('refuses everything with 401 before registration (no signing key)', async () => {
    fake.store.states.clear()
    const answer = await send('/stop-hitl', { ticketId: 'tkt_1', conversationId })
    assert.equal(answer.status, 401)
    assert.match(String(answer.body.error), /not registered/)
    assert.equal(fake.store.events.length, 0)
  })

  it('answers 404 for an unknown route and 405 for another method', async () => {
    assert.equal((await send('/agent-joined', {})).status, 404)
    assert.equal((await send('/', {})).status, 404)
    assert.equal((await send('/stop-hitl', { ticketId: 'tkt_1' }, { method: 'GET' })).status, 405)
  })
})

describe('webhook: routes', () => {
  it('agent-assigned: one Botpress user per agent, with name and picture, then hitlAssigned', async () => {
    const first = await send('/agent-assigned', { ticketId: 'tkt_1', conversationId, agent: ANA })
    assert.equal(first.status, 200)
    const second = await send('/agent-assigned/', { ticketId: 'tkt_1', conversationId: null, agent: ANA })
    assert.equal(second.status, 200)

    const agents = fake.store.users.filter((u) => u.tags.batonAgentId === 'agt_ana')
    assert.equal(agents.length, 1)
    assert.equal(agents[0]?.name, 'Ana Silva')
    assert.equal(agents[0]?.pictureUrl, ANA.avatarUrl)
    assert.deepEqual(
      fake.store.events.map((e) => [e.type, e.payload, e.conversationId]),
      [
        ['hitlAssigned', { conversationId, userId: agents[0]?.id }, conversationId],
        ['hitlAssigned', { conversationId, userId: agents[0]?.id }, conversationId],
      ]
    )
  })

  it('agent-assigned: a renamed agent keeps its user, with the new name', async () => {
    await send('/agent-assigned', { ticketId: 'tkt_1', conversationId, agent: ANA })
    await send('/agent-assigned', { ticketId: 'tkt_1', conversationId, agent: { ...ANA, name: 'Ana S.', avatarUrl: null } })
    const agents = fake.store.users.filter((u) => u.tags.batonAgentId === 'agt_ana')
    assert.equal(agents.length, 1)
    assert.equal(agents[0]?.name, 'Ana S.')
  })

  it('message-from-agent: created in the ticket’s conversation as the agent’s user', async () => {
    const texts = await send('/message-from-agent', {
      ticketId: 'tkt_1',
      conversationId,
      agent: ANA,
      messageType: 'text',
      payload: { text: 'Hello, I am Ana.' },
    })
    assert.equal(texts.status, 200)
    const file = await send('/message-from-agent', {
      ticketId: 'tkt_1',
      conversationId: null,
      agent: ANA,
      messageType: 'file',
      payload: { fileUrl: 'https://baton.example.com/files/f1/invoice.pdf', title: 'invoice.pdf' },
    })
    assert.equal(file.status, 200)
    const notice = await send('/message-from-agent', {
      ticketId: 'tkt_1',
      conversationId,
      agent: { id: 'agt_baton', name: 'Baton', avatarUrl: null },
      messageType: 'text',
      payload: { text: 'You are number 2 in the queue.' },
    })
    assert.equal(notice.status, 200)

    const ana = fake.store.users.find((u) => u.tags.batonAgentId === 'agt_ana')
    const baton = fake.store.users.find((u) => u.tags.batonAgentId === 'agt_baton')
    assert.deepEqual(
      fake.store.messages.map((m) => [m.conversationId, m.userId, m.type, m.payload]),
      [
        [conversationId, ana?.id, 'text', { text: 'Hello, I am Ana.' }],
        [conversationId, ana?.id, 'file', { fileUrl: 'https://baton.example.com/files/f1/invoice.pdf', title: 'invoice.pdf' }],
        [conversationId, baton?.id, 'text', { text: 'You are number 2 in the queue.' }],
      ]
    )
    assert.equal(baton?.name, 'Baton')
  })

  it('message-from-agent with a messageId: a redelivery creates the message once', async () => {
    const body = { ticketId: 'tkt_1', conversationId, agent: ANA, messageId: 'm_1', messageType: 'text', payload: { text: 'once' } }
    assert.equal((await send('/message-from-agent', body)).status, 200)
    assert.equal((await send('/message-from-agent', body)).status, 200)
    assert.equal(fake.store.messages.length, 1)
    assert.equal(fake.store.messages[0]?.tags.batonMessageId, 'm_1')
  })

  it('stop-hitl: hitlStopped for the conversation, found by its tag when Baton does not know it', async () => {
    assert.equal((await send('/stop-hitl', { ticketId: 'tkt_1', conversationId: null })).status, 200)
    assert.equal((await send('/stop-hitl', { ticketId: 'tkt_1' })).status, 200)
    assert.deepEqual(
      fake.store.events.map((e) => [e.type, e.payload, e.conversationId]),
      [
        ['hitlStopped', { conversationId }, conversationId],
        ['hitlStopped', { conversationId }, conversationId],
      ]
    )
  })

  it('checks a given conversationId against the ticket, and falls back to the tag', async () => {
    const other = fake.store.createConversation({ channel: 'hitl', tags: { ticketId: 'tkt_2' } }).id
    const answer = await send('/stop-hitl', { ticketId: 'tkt_1', conversationId: other })
    assert.equal(answer.status, 200)
    assert.equal(fake.store.events[0]?.conversationId, conversationId)
    assert.match(answer.lines.join('\n'), /is not the one of ticket tkt_1/)
    assert.equal((await send('/stop-hitl', { ticketId: 'tkt_1', conversationId: 'conv_gone' })).status, 200)
  })

  it('answers 422 for a ticket no conversation belongs to, creating nothing', async () => {
    const writes = fake.store.writes
    const answer = await send('/agent-assigned', { ticketId: 'tkt_unknown', conversationId: null, agent: ANA })
    assert.equal(answer.status, 422)
    assert.match(String(answer.body.error), /tkt_unknown/)
    assert.equal(fake.store.writes, writes)
  })

  it('answers 400 with a message for a malformed body', async () => {
    const cases: [object | string, RegExp][] = [
      ['{not json', /not JSON/],
      [{ conversationId }, /ticketId/],
      [{ ticketId: 'tkt_1', conversationId, agent: { id: 'agt_ana' }, messageType: 'text', payload: { text: 'x' } }, /agent\.name/],
      [{ ticketId: 'tkt_1', conversationId, agent: ANA, messageType: 'card', payload: { title: 'x' } }, /messageType/],
      [{ ticketId: 'tkt_1', conversationId, agent: ANA, messageType: 'image', payload: { text: 'x' } }, /image message: imageUrl/],
      [{ ticketId: 'tkt_1', conversationId, agent: ANA, messageType: 'text', payload: { text: '' } }, /text/],
    ]
    for (const [body, pattern] of cases) {
      const raw = typeof body === 'string' ? body : JSON.stringify(body)
      const answer = await call({ path: '/message-from-agent', body: raw })
      assert.equal(answer.status, 400, raw)
      assert.match(String(answer.body.error), pattern, raw)
    }
    assert.equal(fake.store.messages.length, 0)
  })

  it('answers 503 when the Botpress API fails, so Baton can send it again', async () => {
    fake.breakMethod('createEvent')
    const answer = await send('/stop-hitl', { ticketId: 'tkt_1', conversationId })
    assert.equal(answer.status, 503)
    assert.match(String(answer.body.error), /Botpress API failed/)
  })
})

describe('webhook bodies', () => {
  it('ignores unknown fields, so Baton may add some', () => {
    const parsed = parseBody('stop-hitl', JSON.stringify({ ticketId: 't', conversationId: 'c', closedBy: 'agt_1' }))
    assert.deepEqual(parsed, { ok: true, body: { ticketId: 't', conversationId: 'c' } })
  })

  it('keeps only the fields of the message type in the payload', () => {
    const parsed = parseBody(
      'message-from-agent',
      JSON.stringify({ ticketId: 't', conversationId: null, agent: ANA, messageType: 'image', payload: { imageUrl: 'u', extra: 1 } })
    )
    assert.ok(parsed.ok)
    assert.deepEqual(agentMessage(parsed.body), { ok: true, message: { type: 'image', payload: { imageUrl: 'u' } } })
  })
})
