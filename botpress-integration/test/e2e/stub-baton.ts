/**
 * A stand-in for Baton's side of the contract (docs/botpress.md §15.2), small enough to
 * read: the six routes the integration calls and the signed calls Baton makes to the
 * webhook URL. The offline end-to-end test runs against it; the same flow runs against
 * the real Baton in baton.test.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { sign } from '../../src/webhook/signature'
import { closeServer, listen, readBody } from '../support/http-stub'

const PRIORITIES = ['low', 'normal', 'high', 'urgent']

type Ticket = {
  id: string
  customerId: string
  conversationId?: string
  title?: string
  priority: string
  team?: string
  history: unknown[]
  status: 'queued' | 'assigned' | 'closed'
  closedReason?: string
}
export type StoredMessage = { messageId: string; from: string; customerId?: string; type: string; payload: unknown }

export class StubBaton {
  public url = ''
  public readonly token = randomBytes(16).toString('hex')
  public readonly signingKey = randomBytes(32).toString('hex')
  public readonly teams = ['Billing', 'Sales']
  public webhookUrl?: string
  public readonly customers = new Map<string, string>() // email or botpress user -> cus_
  public readonly tickets = new Map<string, Ticket>()
  public readonly messages = new Map<string, StoredMessage[]>() // ticket -> messages
  private readonly _server = createServer((req, res) => void this._handle(req, res))

  public get endpointUrl(): string {
    return `${this.url}/botpress/${this.token}`
  }

  public async start(): Promise<this> {
    this.url = await listen(this._server)
    return this
  }

  public close(): Promise<void> {
    return closeServer(this._server)
  }

  /** A signed call to the integration's webhook, as Baton's outbox makes it. */
  public async push(route: string, body: object, at = Math.floor(Date.now() / 1000)) {
    const raw = JSON.stringify(body)
    const timestamp = String(at)
    const response = await fetch(`${this.webhookUrl}/${route}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-baton-timestamp': timestamp,
        'x-baton-signature': sign(this.signingKey, timestamp, raw),
      },
      body: raw,
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }

  private async _handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body?: object) =>
      body === undefined
        ? res.writeHead(status).end()
        : res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    const [, prefix, token, route] = (req.url ?? '').split('/')
    if (prefix !== 'botpress' || token !== this.token || req.method !== 'POST') {
      return void reply(404) // unknown token: 404 with an empty body
    }
    const b = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>
    switch (route) {
      case 'register':
        this.webhookUrl = String(b.webhookUrl)
        return void reply(200, { signingKey: this.signingKey, connection: 'Stub bot' })
      case 'unregister':
        this.webhookUrl = undefined
        return void reply(200, {})
      case 'createUser': {
        const key = typeof b.email === 'string' ? b.email : String(b.botpressUserId)
        const id = this.customers.get(key) ?? `cus_${randomUUID().slice(0, 8)}`
        this.customers.set(key, id)
        return void reply(200, { customerId: id })
      }
      case 'startHitl': {
        const priority = (b.priority as string | undefined) ?? 'normal'
        if (!PRIORITIES.includes(priority)) {
          return void reply(400, { error: `priority must be one of ${PRIORITIES.join(', ')}, not "${priority}"` })
        }
        const team = b.team as string | undefined
        if (team !== undefined && !this.teams.includes(team)) {
          return void reply(400, { error: `no team is named "${team}"; teams: ${this.teams.join(', ')}` })
        }
        const id = `tkt_${randomUUID().slice(0, 8)}`
        this.tickets.set(id, {
          id,
          customerId: String(b.customerId),
          title: b.title as string | undefined,
          priority,
          team,
          history: b.messageHistory as unknown[],
          status: 'queued',
        })
        return void reply(200, { ticketId: id })
      }
      case 'message': {
        const ticket = this.tickets.get(String(b.ticketId))
        if (!ticket) return void reply(400, { error: `no ticket ${String(b.ticketId)}` })
        ticket.conversationId = String(b.conversationId)
        const list = this.messages.get(ticket.id) ?? []
        if (!list.some((m) => m.messageId === b.messageId)) {
          list.push({
            messageId: String(b.messageId),
            from: String(b.from),
            customerId: b.customerId as string | undefined,
            type: String(b.type),
            payload: b.payload,
          })
        }
        this.messages.set(ticket.id, list)
        return void reply(200, {})
      }
      case 'stopHitl': {
        const ticket = this.tickets.get(String(b.ticketId))
        if (ticket) {
          ticket.status = 'closed'
          ticket.closedReason = String(b.reason)
        }
        return void reply(200, {})
      }
      default:
        return void reply(404)
    }
  }
}
