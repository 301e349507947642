/**
 * Baton signs every call it makes to the webhook URL:
 *
 *   x-baton-timestamp: <unix seconds>
 *   x-baton-signature: v1=<lowercase hex HMAC-SHA256(key, "<timestamp>.<raw body>")>
 *
 * The key is the signing key Baton returned at registration, used as the text it is
 * (its 64 hex characters, UTF-8), not decoded from hex. A call is refused unless the
 * signature matches and the timestamp is within five minutes of now, either way, so a
 * recorded call cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const TIMESTAMP_HEADER = 'x-baton-timestamp'
export const SIGNATURE_HEADER = 'x-baton-signature'
export const TOLERANCE_SECONDS = 300

export type Verdict = { ok: true } | { ok: false; reason: string }

export const sign = (key: string, timestamp: string, rawBody: string): string =>
  'v1=' + createHmac('sha256', key).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex')

/** A header by name, whatever its case, as one string. */
export const headerOf = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) {
      return Array.isArray(value) ? value[0] : value
    }
  }
  return undefined
}

export const verify = (props: {
  key: string
  headers: Record<string, string | string[] | undefined>
  rawBody: string
  nowSeconds: number
}): Verdict => {
  const timestamp = headerOf(props.headers, TIMESTAMP_HEADER)?.trim()
  const signature = headerOf(props.headers, SIGNATURE_HEADER)?.trim()
  if (!timestamp || !signature) {
    return { ok: false, reason: `missing ${TIMESTAMP_HEADER} or ${SIGNATURE_HEADER}` }
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: `${TIMESTAMP_HEADER} is not unix seconds` }
  }
  if (Math.abs(props.nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) {
    return { ok: false, reason: `${TIMESTAMP_HEADER} is more than ${TOLERANCE_SECONDS} s from now` }
  }
  const expected = Buffer.from(sign(props.key, timestamp, props.rawBody), 'utf8')
  const given = Buffer.from(signature, 'utf8')
  // timingSafeEqual needs equal lengths; a length mismatch is a wrong signature anyway.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'wrong signature' }
  }
  return { ok: true }
}
