/**
 * One call to Baton: a JSON POST to a route behind the endpoint URL. Failures are
 * sorted into the few cases a bot owner can act on, so each caller can say what went
 * wrong in its own words.
 */
import { routeUrl, type Endpoint } from './endpoint'

/** Baton answers quickly; a bot turn has 60 s for everything, so give up well before. */
export const CALL_TIMEOUT_MS = 15_000

export type BatonFailure =
  /** No HTTP answer: DNS, refused connection, TLS, timeout. */
  | { kind: 'unreachable'; detail: string }
  /** 404 with an empty body: Baton's answer to an endpoint token it does not know. */
  | { kind: 'unknown-endpoint'; status: 404 }
  /** An HTTP answer that is not Baton's: another server at that address. */
  | { kind: 'not-baton'; status: number; detail: string }
  /** Baton refused or failed, and said why in `{"error": "…"}`. */
  | { kind: 'refused'; status: number; error: string }
  /** A 2xx whose body is not what the route promises. */
  | { kind: 'bad-answer'; status: number; detail: string }

export class BatonCallError extends Error {
  public constructor(
    public readonly route: string,
    public readonly endpoint: Endpoint,
    public readonly failure: BatonFailure
  ) {
    super(`${route}: ${describeFailure(endpoint, failure)}`)
    this.name = 'BatonCallError'
  }

  /** True when Baton may have done nothing and trying again later can succeed. */
  public get transient(): boolean {
    const f = this.failure
    return f.kind === 'unreachable' || ((f.kind === 'refused' || f.kind === 'not-baton') && f.status >= 500) ||
      (f.kind === 'refused' && f.status === 429)
  }
}

/** A neutral description, used in logs and as the end of user-facing messages. */
export const describeFailure = (endpoint: Endpoint, f: BatonFailure): string => {
  switch (f.kind) {
    case 'unreachable':
      return `cannot reach Baton at ${endpoint.origin} (${f.detail})`
    case 'unknown-endpoint':
      return 'Baton does not know this endpoint URL (404)'
    case 'not-baton':
      return `the server at ${endpoint.origin} answered HTTP ${f.status} but is not Baton (${f.detail})`
    case 'refused':
      return `Baton answered HTTP ${f.status}: ${f.error}`
    case 'bad-answer':
      return `Baton's answer (HTTP ${f.status}) was not understood: ${f.detail}`
  }
}

type FetchLike = typeof fetch

/** Turns fetch's "fetch failed" into the cause a person can act on. */
const networkDetail = (thrown: unknown): string => {
  if (thrown instanceof Error && (thrown.name === 'TimeoutError' || thrown.name === 'AbortError')) {
    return `no answer within ${CALL_TIMEOUT_MS / 1000} s`
  }
  const cause = thrown instanceof Error ? (thrown.cause as { code?: string; message?: string } | undefined) : undefined
  switch (cause?.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve'
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'ECONNRESET':
      return 'the connection was reset'
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'the connection timed out'
  }
  if (cause?.code?.startsWith('ERR_TLS') || cause?.code?.includes('CERT')) {
    return `TLS failed: ${cause.message ?? cause.code}`
  }
  return cause?.message ?? (thrown instanceof Error ? thrown.message : String(thrown))
}

/**
 * POSTs `body` to `route` and returns the parsed JSON answer of a 2xx. Anything else
 * throws a BatonCallError.
 */
export const postToBaton = async (
  endpoint: Endpoint,
  route: string,
  body: unknown,
  fetchImpl: FetchLike = fetch
): Promise<unknown> => {
  let response: Response
  try {
    response = await fetchImpl(routeUrl(endpoint, route), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      // A redirected POST may be replayed as a GET without its body: never follow one.
      redirect: 'manual',
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    })
  } catch (thrown) {
    throw new BatonCallError(route, endpoint, { kind: 'unreachable', detail: networkDetail(thrown) })
  }

  let text: string
  try {
    text = await response.text()
  } catch (thrown) {
    throw new BatonCallError(route, endpoint, { kind: 'unreachable', detail: networkDetail(thrown) })
  }
  const status = response.status
  const json = parseJson(text)

  if (status >= 200 && status < 300) {
    if (json === undefined && text.trim() !== '') {
      throw new BatonCallError(route, endpoint, { kind: 'bad-answer', status, detail: 'the body is not JSON' })
    }
    return json ?? {}
  }
  if (status === 404 && text.trim() === '') {
    throw new BatonCallError(route, endpoint, { kind: 'unknown-endpoint', status: 404 })
  }
  const error = errorMessageOf(json)
  if (error !== undefined) {
    throw new BatonCallError(route, endpoint, { kind: 'refused', status, error })
  }
  const detail =
    status >= 300 && status < 400 ? `a redirect to ${response.headers.get('location') ?? '?'}` : snippet(text)
  throw new BatonCallError(route, endpoint, { kind: 'not-baton', status, detail })
}

const parseJson = (text: string): unknown => {
  if (text.trim() === '') {
    return undefined
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** Baton's errors are `{"error": "…"}`. */
const errorMessageOf = (json: unknown): string | undefined => {
  if (typeof json === 'object' && json !== null && 'error' in json) {
    const error = (json as { error: unknown }).error
    if (typeof error === 'string' && error.trim() !== '') {
      return error.trim()
    }
  }
  return undefined
}

const snippet = (text: string): string => {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (!flat) {
    return 'an empty body'
  }
  return flat.length > 120 ? `"${flat.slice(0, 120)}…"` : `"${flat}"`
}
