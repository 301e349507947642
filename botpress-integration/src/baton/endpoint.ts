/**
 * The connection's endpoint URL, as the bot owner pasted it, and the URLs of the
 * routes behind it. Baton shows it as `https://baton.example.com/botpress/<token>`;
 * people paste it with or without a trailing slash, so both work.
 */

export type Endpoint = {
  /** The URL without trailing slashes. */
  base: string
  /** Scheme, host and port only: safe to show in messages and logs (no token). */
  origin: string
}

export class EndpointUrlError extends Error {}

export const parseEndpointUrl = (raw: string | undefined): Endpoint => {
  const text = (raw ?? '').trim()
  if (!text) {
    throw new EndpointUrlError('The endpoint URL is empty: paste the connection’s endpoint URL from Baton.')
  }
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new EndpointUrlError(
      `"${text}" is not a URL: paste the connection’s endpoint URL from Baton, e.g. https://baton.example.com/botpress/<token>.`
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EndpointUrlError(`The endpoint URL must start with https:// (it starts with ${url.protocol}//).`)
  }
  // Routes are appended to the path: a query or fragment would swallow them.
  if (url.search || url.hash) {
    throw new EndpointUrlError(
      'The endpoint URL must not have a query (?…) or fragment (#…): paste it exactly as Baton shows it.'
    )
  }
  if (url.username || url.password) {
    throw new EndpointUrlError('The endpoint URL must not contain a user name or password.')
  }
  return { base: url.href.replace(/\/+$/, ''), origin: url.origin }
}

/** The URL of one of Baton's routes behind the endpoint URL. */
export const routeUrl = (endpoint: Endpoint, route: string): string => `${endpoint.base}/${route.replace(/^\/+/, '')}`
