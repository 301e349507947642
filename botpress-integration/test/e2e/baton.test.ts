/**
 * The whole handoff against a real Baton: set BATON_BIN to a `baton` binary (one with
 * Baton's own integration routes and `baton connection create --integration baton`).
 * Without it the suite is skipped, saying so.
 *
 * Botpress is faked (botpress.ts); Baton is real and is driven through its CLI and REST
 * API, as an admin and two agents would.
 */
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sign } from '../../src/webhook/signature'
import { BatonProcess, type Rest } from './baton-process'
import { Botpress } from './botpress'
import { customerMessages, eventually, historyFor } from './fixtures'

// Relative to where the tests were started, as a person would type it.
const BIN = process.env.BATON_BIN?.trim() ? resolve(process.env.BATON_BIN.trim()) : undefined
const skip = BIN ? false : 'BATON_BIN is not set: set it to a baton binary to run the end-to-end test against Baton'

type Me = { public_id: string }
type TicketMessage = {
  id: number
  origin: string
  type: string
  payload: Record<string, unknown>
  author_name: string | null
  delivery: 'pending' | 'sent' | 'failed' | null
  delivery_error: string | null
}
type Ticket = {
  id: string
  status: string
  title: string
  priority: string | null
  team: string | null
  assignee_id: string | null
  messages: TicketMessage[]
}
type Team = { id: number; name: string }

describe('end to end with Baton', { skip }, () => {
  let baton: BatonProcess
  let botpress: Botpress
  let admin: Rest
  let ana: Rest
  let ben: Rest
  let anaId = ''
  let benId = ''
  let userId = ''
  let conversationId = ''
  let ticketId = ''

  before(async () => {
    baton = await new BatonProcess(BIN ?? '').start()
    admin = await baton.account('admin@example.org', 'Ada Admin', 'admin')
    ana = await baton.account('ana@example.org', 'Ana Silva', 'agent')
    ben = await baton.account('ben@example.org', 'Ben Okafor', 'agent')
    anaId = (await ana.get<Me>('/api/v1/me')).body.public_id
    benId = (await ben.get<Me>('/api/v1/me')).body.public_id
    const connection = await baton.connection('E2E bot')
    assert.match(connection.endpointUrl, /\/botpress\/[^/]+$/, 'the last line is the endpoint URL')
    const team = await admin.post<Team>('/api/v1/teams', { name: 'Billing', agent_ids: [anaId, benId], connection_ids: [connection.id] })
    assert.equal(team.status, 201, team.text)
    botpress = await new Botpress(connection.endpointUrl).start()
  })

  after(async () => {
    // E2E_VERBOSE=1 prints what Baton sent to the webhook and Baton's log, to debug a failure.
    if (process.env.E2E_VERBOSE) {
      for (const call of botpress?.forwarded ?? []) console.log(`webhook ${call.route} -> ${call.status}: ${call.body}`)
      console.log(baton?.logs.join(''))
    }
    await botpress?.stop()
    await baton?.dispose()
  })

  const ticket = async () => {
    const answer = await admin.get<Ticket>(`/api/v1/tickets/${ticketId}`)
    assert.equal(answer.status, 200, answer.text)
    return answer.body
  }
  const agentUser = (publicId: string) => botpress.api.store.users.find((u) => u.tags.batonAgentId === publicId)

  it('register: Baton learns the webhook URL and hands back a signing key', async () => {
    const answer = await botpress.register()
    assert.equal(answer.status, 200, `${answer.text}\n${baton.logs.join('')}`)
    assert.match(botpress.signingKey(), /^[0-9a-f]{64}$/)
  })

  it('createUser and startHitl: the ticket is queued for the team, with the history', async () => {
    const created = await botpress.action<{ userId: string }>('createUser', { name: 'Dana Smith', email: 'dana@example.org' })
    assert.ok(created.ok, !created.ok ? created.message : '')
    userId = created.output.userId
    const again = await botpress.action<{ userId: string }>('createUser', { name: 'Dana Smith', email: 'dana@example.org' })
    assert.ok(again.ok)
    assert.equal(botpress.api.store.getUser(again.output.userId).tags.batonCustomerId, botpress.api.store.getUser(userId).tags.batonCustomerId)

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
    ticketId = botpress.api.store.getConversation(conversationId).tags.ticketId ?? ''
    assert.match(ticketId, /^tkt_/)

    const t = await ticket()
    assert.equal(t.status, 'queued')
    assert.equal(t.title, 'Parcel missing')
    assert.equal(t.team, 'Billing')
    assert.equal(t.priority, 'high')
    const imported = t.messages.filter((m) => m.origin.startsWith('transcript_'))
    assert.deepEqual(
      imported.map((m) => [m.origin, m.type]),
      history.map((h) => [h.source.type === 'user' ? 'transcript_customer' : 'transcript_bot', h.type])
    )
    assert.deepEqual(imported[0]?.payload, history[0]?.payload)

    const transcript = await admin.get(`/api/v1/tickets/${ticketId}/transcript`)
    assert.equal(transcript.status, 200)
    assert.match(transcript.text, /My parcel has not arrived\./)

    const queue = await ana.get<{ tickets: { id: string }[] }>('/api/v1/tickets?status=queued')
    assert.ok(queue.body.tickets.some((x) => x.id === ticketId), 'the team’s agent sees it queued')
  })

  it('customer messages of every hitl type reach the ticket in order; a redelivery is stored once', async () => {
    const sent = []
    for (const [type, payload] of customerMessages) {
      const { message, answer } = await botpress.pluginWrites(conversationId, type, payload, userId)
      assert.equal(answer.status, 200, answer.text)
      sent.push(message)
    }
    assert.equal((await botpress.deliver(sent[2]!.id)).status, 200)
    const fromCustomer = (await ticket()).messages.filter((m) => m.origin === 'customer')
    assert.deepEqual(
      fromCustomer.map((m) => [m.type, m.payload]),
      // Whole, with the end user's Botpress id the plugin sends them as.
      customerMessages.map(([type, payload]) => [type, { ...payload, userId }])
    )
  })

  it('an agent takes it: hitlAssigned names the agent’s Botpress user', async () => {
    const taken = await ana.post(`/api/v1/tickets/${ticketId}/assign`, {})
    assert.equal(taken.status, 200, taken.text)
    const event = await eventually('hitlAssigned for Ana', () =>
      botpress.events('hitlAssigned').find((e) => e.payload.userId === agentUser(anaId)?.id)
    )
    assert.deepEqual(event.payload, { conversationId, userId: agentUser(anaId)?.id })
    assert.equal(event.conversationId, conversationId)
    assert.equal(agentUser(anaId)?.name, 'Ana Silva')
  })

  it('the agent replies with text and a file: created as the agent’s user, the file reachable', async () => {
    const text = await ana.post(`/api/v1/tickets/${ticketId}/messages`, { text: 'Hello Dana, I am looking into it.' })
    assert.equal(text.status, 201, text.text)
    const bytes = Buffer.from('%PDF-1.4\n% a tiny test file\n')
    const file = await ana.upload(`/api/v1/tickets/${ticketId}/attachments?name=label.pdf`, bytes, 'application/pdf')
    assert.equal(file.status, 201, file.text)

    const fromAna = await eventually('both replies in Botpress', () => {
      const found = botpress.api.store.messages.filter((m) => m.userId === agentUser(anaId)?.id)
      return found.length >= 2 ? found : undefined
    })
    assert.deepEqual(fromAna[0] && [fromAna[0].conversationId, fromAna[0].type, fromAna[0].payload], [
      conversationId,
      'text',
      { text: 'Hello Dana, I am looking into it.' },
    ])
    assert.equal(fromAna[1]?.type, 'file')
    const fileUrl = String(fromAna[1]?.payload.fileUrl)
    const download = await fetch(fileUrl)
    assert.equal(download.status, 200, fileUrl)
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), bytes)
  })

  it('the bot’s webhook is down while the agent replies: Baton retries, and the reply reaches the customer once', async () => {
    const text = 'Sorry for the wait, Dana: the parcel left the depot this morning.'
    const fromAna = () => botpress.api.store.messages.filter((m) => m.userId === agentUser(anaId)?.id && m.payload.text === text)
    const refusedReply = () => botpress.refused.filter((c) => c.route === '/message-from-agent' && c.body.includes(text))
    const forwardedReply = () => botpress.forwarded.filter((c) => c.route === '/message-from-agent' && c.body.includes(text))
    const delivery = async (id: number) => (await ticket()).messages.find((m) => m.id === id)

    botpress.gatewayDown(503)
    try {
      const sent = await ana.post<{ id: number; delivery: string }>(`/api/v1/tickets/${ticketId}/messages`, { text })
      assert.equal(sent.status, 201, sent.text)
      assert.equal(sent.body.delivery, 'pending')

      // A first attempt and a retry (1 s later), both refused by the gateway.
      await eventually('two refused attempts', () => (refusedReply().length >= 2 ? true : undefined))
      assert.ok(refusedReply().every((c) => c.status === 503))
      const waiting = await delivery(sent.body.id)
      assert.deepEqual(
        waiting && [waiting.origin, waiting.type, waiting.payload, waiting.delivery, waiting.delivery_error],
        ['agent', 'text', { text }, 'pending', null],
        'pending, with no error to show while Baton retries'
      )
      assert.deepEqual(fromAna(), [], 'nothing reached Botpress while the gateway was down')
      assert.deepEqual(forwardedReply(), [])

      botpress.gatewayRecovers()
      const shown = await eventually('the reply sent', async () => {
        const message = await delivery(sent.body.id)
        return message?.delivery === 'sent' ? message : undefined
      })
      assert.equal(shown.delivery_error, null)
    } finally {
      botpress.gatewayRecovers()
    }

    const [created, ...more] = fromAna()
    assert.deepEqual(more, [], 'the reply is created in Botpress exactly once')
    assert.deepEqual(created && [created.conversationId, created.type, created.payload], [conversationId, 'text', { text }])
    assert.deepEqual(forwardedReply().map((c) => c.status), [200], 'one attempt got through')
  })

  it('a transfer to a second agent: a second hitlAssigned, with the other user', async () => {
    const moved = await ana.post(`/api/v1/tickets/${ticketId}/assign`, { agent_id: benId })
    assert.equal(moved.status, 200, moved.text)
    await eventually('hitlAssigned for Ben', () => botpress.events('hitlAssigned').find((e) => e.payload.userId === agentUser(benId)?.id))
    assert.notEqual(agentUser(benId)?.id, agentUser(anaId)?.id)
  })

  it('a hand-back: hitlStopped', async () => {
    const closed = await ben.post(`/api/v1/tickets/${ticketId}/close`)
    assert.equal(closed.status, 200, closed.text)
    const stopped = await eventually('hitlStopped', () => botpress.events('hitlStopped')[0])
    assert.deepEqual(stopped.payload, { conversationId })
  })

  it('refuses unsigned and stale calls to the webhook, writing nothing', async () => {
    const writes = botpress.api.writes.length
    const body = JSON.stringify({ ticketId, conversationId })
    const stale = String(Math.floor(Date.now() / 1000) - 301)
    const attempts: Record<string, string>[] = [
      {},
      { 'x-baton-timestamp': stale, 'x-baton-signature': sign(botpress.signingKey(), stale, body) },
    ]
    for (const headers of attempts) {
      const response = await fetch(`${botpress.webhookUrl}/stop-hitl`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      })
      assert.equal(response.status, 401)
    }
    assert.equal(botpress.api.writes.length, writes)
  })

  it('a second ticket stopped from the bot’s side is closed in Baton', async () => {
    const started = await botpress.action<{ conversationId: string }>('startHitl', { userId, title: 'Second', messageHistory: [] })
    assert.ok(started.ok, !started.ok ? started.message : '')
    const second = botpress.api.store.getConversation(started.output.conversationId).tags.ticketId
    const stopped = await botpress.action('stopHitl', { conversationId: started.output.conversationId })
    assert.ok(stopped.ok)
    const status = await eventually('the second ticket closed', async () => {
      const answer = await admin.get<Ticket>(`/api/v1/tickets/${second}`)
      return answer.body.status === 'closed' ? answer.body.status : undefined
    })
    assert.equal(status, 'closed')
  })

  it('an unknown team or priority is refused with the allowed values', async () => {
    const team = await botpress.action('startHitl', { userId, hitlSession: { team: 'Nope' }, messageHistory: [] })
    assert.ok(!team.ok)
    assert.match(team.message, /Billing/)
    const priority = await botpress.action('startHitl', { userId, hitlSession: { priority: 'critical' }, messageHistory: [] })
    assert.ok(!priority.ok)
    assert.match(priority.message, /low.*normal.*high.*urgent/)
  })

  it('Baton down: startHitl fails with a clear message', async () => {
    await baton.stop()
    const started = await botpress.action('startHitl', { userId, messageHistory: [] })
    assert.ok(!started.ok)
    assert.match(started.message, /^Baton is unreachable at http:\/\/127\.0\.0\.1:\d+: the handoff was not started/)
  })
})
