/**
 * Botpress, as far as the integration can tell: the fake Runtime API, the webhook
 * gateway (`<gateway>/<webhookId>/<route>` becomes a `webhook_received` operation), and
 * the operations Botpress sends to the integration's server, with its headers:
 *
 *   x-bp-operation        register | unregister | action_triggered | message_created | webhook_received | …
 *   x-bp-type             the action name (action_triggered) or message type (message_created)
 *   x-bot-id, x-bot-user-id, x-integration-id, x-integration-alias, x-webhook-id
 *   x-bp-configuration    the configuration, base64 JSON
 *
 * and the bodies the SDK reads: `{ webhookUrl }` for register and unregister,
 * `{ type, input }` for action_triggered, `{ conversation, user, type, payload, message }`
 * for message_created, `{ req: { method, path, query, headers, body } }` for
 * webhook_received.
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { User } from '../support/botpress-store'
import { closeServer, listen, readBody } from '../support/http-stub'
import { FakeBotpressApi } from './fake-botpress-api'
import { startIntegration, type IntegrationProcess } from './integration-process'

export type Answer = { status: number; body: Record<string, unknown>; text: string }

const BOT_ID = 'bot_e2e_0000000000000000000000'

export class Botpress {
  public readonly api = new FakeBotpressApi()
  public readonly webhookId = randomUUID()
  public readonly integrationId = 'intver_e2e_000000000000000000'
  public integration!: IntegrationProcess
  public gatewayUrl = ''
  /** What the gateway forwarded, newest last, with the integration's answer. */
  public readonly forwarded: { route: string; headers: Record<string, string>; body: string; status: number }[] = []
  /** What the gateway refused while down, newest last: never forwarded to the integration. */
  public readonly refused: { route: string; body: string; status: number }[] = []
  public bot!: User
  /** While set, the status the gateway answers to every call (see `gatewayDown`). */
  private _downWith: number | undefined
  private readonly _gateway = createServer((req, res) => void this._forward(req, res))

  public constructor(public endpointUrl: string) {}

  public get webhookUrl(): string {
    return `${this.gatewayUrl}/${this.webhookId}`
  }

  public async start(): Promise<this> {
    await this.api.start()
    this.gatewayUrl = await listen(this._gateway)
    this.integration = await startIntegration(this.api.url)
    this.bot = this.api.store.createUser({ id: BOT_ID, name: 'Support bot' })
    return this
  }

  public async stop(): Promise<void> {
    await this.integration?.stop()
    await closeServer(this._gateway)
    await this.api.close()
  }

  /** One operation, as Botpress sends it to the integration's server. */
  public async operation(operation: string, body: object, type?: string): Promise<Answer> {
    const configuration = Buffer.from(JSON.stringify({ endpointUrl: this.endpointUrl })).toString('base64')
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-bp-operation': operation,
      'x-bot-id': BOT_ID,
      'x-bot-user-id': BOT_ID,
      'x-integration-id': this.integrationId,
      'x-integration-alias': 'baton',
      'x-webhook-id': this.webhookId,
      'x-bp-configuration': configuration,
      ...(type ? { 'x-bp-type': type } : {}),
    }
    const response = await fetch(`${this.integration.url}/`, { method: 'POST', headers, body: JSON.stringify(body) })
    const text = await response.text()
    let parsed: Record<string, unknown> = {}
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {}
    } catch {
      parsed = {}
    }
    return { status: response.status, body: parsed, text }
  }

  /** register, with the webhook URL Botpress would give: here, the loopback gateway's. */
  public register(webhookUrl = this.webhookUrl): Promise<Answer> {
    return this.operation('register', { webhookUrl })
  }

  public unregister(): Promise<Answer> {
    return this.operation('unregister', { webhookUrl: this.webhookUrl })
  }

  /** An action; the output on success, else the error message Botpress would show. */
  public async action<T = Record<string, unknown>>(type: string, input: object): Promise<{ ok: true; output: T } | { ok: false; status: number; message: string }> {
    const answer = await this.operation('action_triggered', { type, input }, type)
    if (answer.status === 200) {
      return { ok: true, output: answer.body.output as T }
    }
    return { ok: false, status: answer.status, message: String(answer.body.message ?? answer.text) }
  }

  /**
   * A message the HITL plugin writes into the ticket's conversation: authored by the
   * bot, with the plugin's `type` in the payload and, for the end user's messages, the
   * user it speaks for in `payload.userId`. Then the message_created operation.
   */
  public async pluginWrites(conversationId: string, type: string, payload: object, speaksFor?: string) {
    const message = this.api.store.createMessage({
      conversationId,
      userId: this.bot.id,
      type,
      payload: { type, ...payload, ...(speaksFor ? { userId: speaksFor } : {}) },
    })
    message.direction = 'outgoing'
    return { message, answer: await this.deliver(message.id) }
  }

  /** (Re)delivers a stored message to the integration, as Botpress does on message_created. */
  public deliver(messageId: string): Promise<Answer> {
    const store = this.api.store
    const message = store.messages.find((m) => m.id === messageId)
    if (!message) throw new Error(`no message ${messageId}`)
    return this.operation(
      'message_created',
      {
        conversation: store.getConversation(message.conversationId),
        user: store.getUser(message.userId),
        type: message.type,
        payload: message.payload,
        message,
      },
      message.type
    )
  }

  /** Events the integration created, by type. */
  public events(type: string) {
    return this.api.store.events.filter((e) => e.type === type)
  }

  /** The signing key register stored (what Baton returned). */
  public signingKey(): string {
    const state = this.api.store.getState('integration', this.integrationId, 'connection')
    return (state.payload as { signingKey: string }).signingKey
  }

  /**
   * An outage of the webhook gateway: until `gatewayRecovers`, every call is answered
   * `status` (by default 503, a load refusal a caller may retry) and forwarded to nothing.
   */
  public gatewayDown(status = 503): void {
    this._downWith = status
  }

  public gatewayRecovers(): void {
    this._downWith = undefined
  }

  /** The webhook gateway: a call to `<webhookId>/<route>` reaches the integration as webhook_received. */
  private async _forward(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://gateway')
    const [, webhookId, ...rest] = url.pathname.split('/')
    const body = await readBody(req)
    if (this._downWith !== undefined) {
      const status = this._downWith
      this.refused.push({ route: '/' + rest.join('/'), body, status })
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'the webhook gateway is down' }))
      return
    }
    if (webhookId !== this.webhookId) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'unknown webhook' }))
      return
    }
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v ?? '')])
    )
    const path = '/' + rest.join('/')
    const answer = await this.operation('webhook_received', {
      req: { method: req.method ?? 'POST', path, query: url.search.replace(/^\?/, ''), headers, body },
    })
    this.forwarded.push({ route: path, headers, body, status: answer.status })
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.text)
  }
}
