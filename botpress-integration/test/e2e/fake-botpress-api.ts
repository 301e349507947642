/**
 * A fake Botpress Runtime API on loopback: the `/v1/chat/...` routes that
 * @botpress/client calls for an integration, over an in-memory BotpressStore. The
 * integration under test reaches it through BP_API_URL, so every user, conversation,
 * message, event and state it creates lands here, where the test can read it.
 *
 * Errors have the API's shape, `{ id, code, type, message }`, so the client turns them
 * into its own error classes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { BotpressStore, InvalidPayload, NotFound } from '../support/botpress-store'
import { closeServer, listen, readBody } from '../support/http-stub'

export type ApiCall = { method: string; path: string; body: unknown; botId?: string; integrationId?: string }

type Json = Record<string, unknown>
type Route = {
  method: string
  pattern: RegExp
  run: (params: string[], body: Json, query: URLSearchParams) => unknown
}

class ApiFailure extends Error {
  public constructor(
    public readonly code: number,
    public readonly type: string,
    message: string
  ) {
    super(message)
  }
}

/** `tags[key]=value` or `tags.key=value`, as query strings carry a tag filter. */
const tagsFromQuery = (query: URLSearchParams): Record<string, string> => {
  const tags: Record<string, string> = {}
  for (const [key, value] of query) {
    const match = /^tags(?:\[([^\]]+)\]|\.(.+))$/.exec(key)
    const name = match?.[1] ?? match?.[2]
    if (name) tags[name] = value
  }
  return tags
}

export class FakeBotpressApi {
  public readonly store = new BotpressStore()
  public readonly calls: ApiCall[] = []
  public url = ''
  private readonly _server = createServer((req, res) => void this._handle(req, res))
  private readonly _routes: Route[]

  public constructor() {
    const s = this.store
    const r = (method: string, path: string, run: Route['run']): Route => ({
      method,
      pattern: new RegExp(`^${path.replace(/:[a-z]+/g, '([^/]+)')}$`),
      run,
    })
    // The store checks what it needs; the body takes the type its method asks for.
    const as = <T,>(b: Json): T => b as unknown as T
    this._routes = [
      r('POST', '/v1/chat/users/get-or-create', (_, b) => ({ user: s.getOrCreateUser(as(b)) })),
      r('POST', '/v1/chat/users', (_, b) => ({ user: s.createUser(as(b)) })),
      r('GET', '/v1/chat/users/:id', ([id]) => ({ user: s.getUser(id ?? '') })),
      r('PUT', '/v1/chat/users/:id', ([id], b) => ({ user: s.updateUser(as({ ...b, id })) })),
      r('POST', '/v1/chat/conversations/get-or-create', (_, b) => ({ conversation: s.getOrCreateConversation(as(b)) })),
      r('POST', '/v1/chat/conversations', (_, b) => ({ conversation: s.createConversation(as(b)) })),
      r('GET', '/v1/chat/conversations', (_, __, q) => ({
        conversations: s.listConversations({ channel: q.get('channel') ?? undefined, tags: tagsFromQuery(q) }),
        meta: {},
      })),
      r('GET', '/v1/chat/conversations/:id', ([id]) => ({ conversation: s.getConversation(id ?? '') })),
      r('PUT', '/v1/chat/conversations/:id', ([id], b) => ({ conversation: s.updateConversation(as({ ...b, id })) })),
      r('POST', '/v1/chat/messages/get-or-create', (_, b) => ({ message: s.getOrCreateMessage(as(b)) })),
      r('POST', '/v1/chat/messages', (_, b) => ({ message: s.createMessage(as(b)) })),
      r('PUT', '/v1/chat/messages/:id', ([id], b) => ({ message: s.updateMessage(as({ ...b, id })) })),
      r('POST', '/v1/chat/events', (_, b) => ({ event: s.createEvent(as(b)) })),
      r('GET', '/v1/chat/states/:type/:id/:name', ([type, id, name]) => ({
        state: s.getState(type ?? '', id ?? '', name ?? ''),
        meta: { cached: false },
      })),
      r('POST', '/v1/chat/states/:type/:id/:name', ([type, id, name], b) => ({
        state: s.setState(type ?? '', id ?? '', name ?? '', b.payload),
      })),
    ]
  }

  public async start(): Promise<this> {
    this.url = await listen(this._server)
    return this
  }

  public close(): Promise<void> {
    return closeServer(this._server)
  }

  /** The calls that wrote something (not GETs). */
  public get writes(): ApiCall[] {
    return this.calls.filter((c) => c.method !== 'GET')
  }

  private async _handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const raw = await readBody(req)
    let body: Json = {}
    try {
      body = raw ? (JSON.parse(raw) as Json) : {}
    } catch {
      return this._fail(res, new ApiFailure(400, 'InvalidPayload', 'the body is not JSON'))
    }
    const botId = req.headers['x-bot-id'] as string | undefined
    const integrationId = req.headers['x-integration-id'] as string | undefined
    this.calls.push({ method: req.method ?? 'GET', path: url.pathname + url.search, body, botId, integrationId })

    // An integration's calls always name the bot and the integration (the SDK sets both).
    if (!botId || !integrationId) {
      return this._fail(res, new ApiFailure(401, 'Unauthorized', 'x-bot-id and x-integration-id are required'))
    }
    for (const route of this._routes) {
      const match = route.method === req.method ? route.pattern.exec(url.pathname) : null
      if (!match) continue
      try {
        const answer = route.run(match.slice(1).map(decodeURIComponent), body, url.searchParams)
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
      } catch (thrown) {
        if (thrown instanceof NotFound) return this._fail(res, new ApiFailure(404, 'ResourceNotFound', thrown.message))
        if (thrown instanceof InvalidPayload) return this._fail(res, new ApiFailure(400, 'InvalidPayload', thrown.message))
        return this._fail(res, new ApiFailure(500, 'Internal', String(thrown)))
      }
      return
    }
    this._fail(res, new ApiFailure(404, 'MethodNotFound', `${req.method} ${url.pathname} is not faked`))
  }

  private _fail(res: ServerResponse, failure: ApiFailure): void {
    const body = { id: `err_${Date.now()}`, code: failure.code, type: failure.type, message: failure.message }
    res.writeHead(failure.code, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }
}
