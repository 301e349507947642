/**
 * The built integration, served as Botpress serves it, between a fake Botpress (API and
 * webhook gateway) and a stand-in Baton. Needs nothing but this package: it runs in
 * every `npm run test:e2e`. baton.test.ts runs the same kind of flow against the real
 * Baton.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sign } from '../../src/webhook/signature'
import { refusedUrl } from '../support/http-stub'
import { Botpress } from './botpress'
import { customerMessages, historyFor } from './fixtures'
import { StubBaton } from './stub-baton'

let baton: StubBaton
let botpress: Botpress

before(async () => {
  baton = await new StubBaton().start()
  botpress = await new Botpress(baton.endpointUrl).start()
})
after(async () => {
  await botpress?.stop()
  await baton?.close()
})

const ANA = { id: 'agt_ana', name: 'Ana Silva', avatarUrl: null }

describe('offline end to end (stand-in Baton)', () => {
  let userId = ''
  let conversationId = ''
  let ticketId = ''

  it('answers health checks like any SDK server', async () => {
    const response = await fetch(`${botpress.integration.url}/health`)
    assert.equal(response.status, 200)
  })

  it('register: gives Baton the webhook URL and keeps the signing key', async () => {
    const answer = await botpress.register()
    assert.equal(answer.status, 200, answer.text)
    assert.equal(baton.webhookUrl, botpress.webhookUrl)
    assert.equal(botpress.signingKey(), baton.signingKey)
  })

  it('createUser: one customer per email, tagged on the Botpress user', async () => {
    const first = await botpress.action<{ userId: string }>('createUser', { name: 'Dana Smith', email: 'dana@example.org' })
    assert.ok(first.ok, !first.ok ? first.message : '')
    userId = first.output.userId
    const again = await botpress.action<{ userId: string }>('createUser', { name: 'Dana Smith', email: 'dana@example.org' })
    assert.ok(again.ok)
    assert.equal(again.output.userId, userId)
    assert.match(botpress.api.store.getUser(userId).tags.batonCustomerId ?? '', /^cus_/)
  })

  it('startHitl: a ticket with the whole history and the team, and its hitl conversation', async () => {
    const history = historyFor(userId)
    const started = await botpress.action<{ conversationId: string }>('startHitl', {
      userId,
      title: 'Parcel missing',
      description: 'Order 5512',
      hitlSession: { priority: 'high', team: 'Billing' },
      messageHistory: history,
    })
    assert.ok(started.ok, !started.ok ? started.message : '')
    conversationId = started.output.conversationId
    const conversation = botpress.api.store.getConversation(conversationId)
    assert.equal(conversation.channel, 'hitl')
    ticketId = conversation.tags.ticketId ?? ''
    const ticket = baton.tickets.get(ticketId)
    assert.equal(ticket?.team, 'Billing')
    assert.equal(ticket?.priority, 'high')
    assert.deepEqual(ticket?.history, history)
  })

  it('customer messages of every hitl type reach the ticket in order, a redelivery once', async () => {
    const sent = []
    for (const [type, payload] of customerMessages) {
      const { message, answer } = await botpress.pluginWrites(conversationId, type, payload, userId)
      assert.equal(answer.status, 200, answer.text)
      sent.push(message)
    }
    const notice = await botpress.pluginWrites(conversationId, 'text', { text: '( a plugin notice )' })
    assert.equal(notice.answer.status, 200)
    assert.equal((await botpress.deliver(sent[0]!.id)).status, 200, 'redelivery accepted')

    const stored = baton.messages.get(ticketId) ?? []
    const customerId = botpress.api.store.getUser(userId).tags.batonCustomerId
    assert.deepEqual(
      stored.map((m) => [m.messageId, m.from, m.customerId, m.type, m.payload]),
      [
        // Whole, with the end user's Botpress id the plugin sends them as.
        ...sent.map((m, i) => [m.id, 'customer', customerId, customerMessages[i]![0], { ...customerMessages[i]![1], userId }]),
        [notice.message.id, 'bot', undefined, 'text', { text: '( a plugin notice )' }],
      ]
    )
  })

  it('agent-assigned, message-from-agent, stop-hitl: events and messages as the agent', async () => {
    assert.equal((await baton.push('agent-assigned', { ticketId, conversationId, agent: ANA })).status, 200)
    const reply = await baton.push('message-from-agent', {
      ticketId,
      conversationId: null,
      agent: ANA,
      messageType: 'file',
      payload: { fileUrl: `${baton.url}/files/1/label.pdf`, title: 'label.pdf' },
    })
    assert.equal(reply.status, 200)
    const transfer = await baton.push('agent-assigned', {
      ticketId,
      conversationId,
      agent: { id: 'agt_ben', name: 'Ben Okafor', avatarUrl: 'https://baton.example.com/a/ben.png' },
    })
    assert.equal(transfer.status, 200)
    assert.equal((await baton.push('stop-hitl', { ticketId, conversationId })).status, 200)

    const store = botpress.api.store
    const ana = store.users.find((u) => u.tags.batonAgentId === 'agt_ana')
    const ben = store.users.find((u) => u.tags.batonAgentId === 'agt_ben')
    assert.equal(ana?.name, 'Ana Silva')
    assert.equal(ben?.pictureUrl, 'https://baton.example.com/a/ben.png')
    assert.deepEqual(
      botpress.events('hitlAssigned').map((e) => e.payload),
      [
        { conversationId, userId: ana?.id },
        { conversationId, userId: ben?.id },
      ]
    )
    assert.deepEqual(botpress.events('hitlStopped').map((e) => e.payload), [{ conversationId }])
    const fromAna = store.messages.filter((m) => m.userId === ana?.id)
    assert.deepEqual(fromAna.map((m) => [m.conversationId, m.type, m.payload]), [
      [conversationId, 'file', { fileUrl: `${baton.url}/files/1/label.pdf`, title: 'label.pdf' }],
    ])
  })

  it('refuses unsigned, tampered, stale and replayed-late webhook calls, writing nothing', async () => {
    const writes = botpress.api.writes.length
    const body = JSON.stringify({ ticketId, conversationId })
    const now = Math.floor(Date.now() / 1000)
    const stale = String(now - 301)
    const attempts: Record<string, string>[] = [
      {},
      { 'x-baton-timestamp': String(now), 'x-baton-signature': sign(baton.signingKey, String(now), body + ' ') },
      { 'x-baton-timestamp': stale, 'x-baton-signature': sign(baton.signingKey, stale, body) },
    ]
    for (const headers of attempts) {
      const response = await fetch(`${botpress.webhookUrl}/stop-hitl`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      })
      assert.equal(response.status, 401)
    }
    // A call Baton really sent, replayed six minutes later.
    const late = await baton.push('stop-hitl', { ticketId, conversationId }, now - 360)
    assert.equal(late.status, 401)
    assert.equal(botpress.api.writes.length, writes)
  })

  it('finds the conversation by its ticket when Baton names one Botpress does not have', async () => {
    // Needs the API's 404 to reach the integration as a 404 (see src/client-compat.ts).
    const answer = await baton.push('message-from-agent', {
      ticketId,
      conversationId: 'conv_does_not_exist',
      agent: ANA,
      messageType: 'text',
      payload: { text: 'Still there?' },
    })
    assert.equal(answer.status, 200, JSON.stringify(answer.body))
    assert.equal(botpress.api.store.messages.at(-1)?.conversationId, conversationId)
  })

  it('stopHitl from the bot side closes the ticket, saying the end user ended it when the plugin says so', async () => {
    const started = await botpress.action<{ conversationId: string }>('startHitl', { userId, messageHistory: [] })
    assert.ok(started.ok)
    const second = started.output.conversationId
    botpress.api.store.updateConversation({ id: second, tags: { hitlEndReason: 'patient-used-termination-command' } })
    const stopped = await botpress.action('stopHitl', { conversationId: second })
    assert.ok(stopped.ok)
    const ticket = baton.tickets.get(botpress.api.store.getConversation(second).tags.ticketId ?? '')
    assert.equal(ticket?.status, 'closed')
    assert.equal(ticket?.closedReason, 'customer_ended')
  })

  it('an unknown team or priority fails the action with Baton’s message', async () => {
    const team = await botpress.action('startHitl', { userId, hitlSession: { team: 'Nope' }, messageHistory: [] })
    assert.ok(!team.ok)
    assert.match(team.message, /no team is named "Nope"; teams: Billing, Sales/)
    const priority = await botpress.action('startHitl', { userId, hitlSession: { priority: 'critical' }, messageHistory: [] })
    assert.ok(!priority.ok)
    assert.match(priority.message, /low, normal, high, urgent/)
  })

  it('register says what is wrong: unknown token, nothing listening', async () => {
    botpress.endpointUrl = `${baton.url}/botpress/not-the-token`
    const token = await botpress.register()
    assert.equal(token.status, 400)
    assert.match(String(token.body.message), /^Baton does not know this endpoint URL: check the token part/)
    botpress.endpointUrl = `${await refusedUrl()}/botpress/${baton.token}`
    const down = await botpress.register()
    assert.match(String(down.body.message), /^Cannot reach Baton at http:\/\/127\.0\.0\.1:\d+: connection refused/)
    botpress.endpointUrl = baton.endpointUrl
  })

  it('Baton down during startHitl fails the action with a clear message', async () => {
    await baton.close()
    const started = await botpress.action('startHitl', { userId, messageHistory: [] })
    assert.ok(!started.ok)
    assert.equal(started.status, 400, 'a RuntimeError: Botpress shows its message')
    assert.match(started.message, /^Baton is unreachable at http:\/\/127\.0\.0\.1:\d+: the handoff was not started \(connection refused\)\.$/)
  })
})
