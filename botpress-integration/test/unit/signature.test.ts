import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { describe, it } from 'node:test'
import { sign, verify, TOLERANCE_SECONDS } from '../../src/webhook/signature'

const KEY = 'a'.repeat(32) + '0123456789abcdef0123456789abcdef'
const NOW = 1_767_225_600
const BODY = '{"ticketId":"tkt_1","conversationId":null}'

const headers = (timestamp: number | string, signature: string) => ({
  'x-baton-timestamp': String(timestamp),
  'x-baton-signature': signature,
})

describe('webhook signatures', () => {
  it('is v1= and the lowercase hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the key text', () => {
    const expected = createHmac('sha256', Buffer.from(KEY, 'utf8')).update(`${NOW}.${BODY}`).digest('hex')
    assert.equal(sign(KEY, String(NOW), BODY), `v1=${expected}`)
    assert.match(sign(KEY, String(NOW), BODY), /^v1=[0-9a-f]{64}$/)
  })

  it('accepts a good signature, whatever the header case', () => {
    const signature = sign(KEY, String(NOW), BODY)
    assert.deepEqual(verify({ key: KEY, headers: headers(NOW, signature), rawBody: BODY, nowSeconds: NOW }), { ok: true })
    const upper = { 'X-Baton-Timestamp': String(NOW), 'X-Baton-Signature': signature }
    assert.deepEqual(verify({ key: KEY, headers: upper, rawBody: BODY, nowSeconds: NOW + 10 }), { ok: true })
  })

  it('refuses a wrong signature: another key, another body, another timestamp, odd formats', () => {
    const cases = [
      sign('b'.repeat(64), String(NOW), BODY),
      sign(KEY, String(NOW), BODY + ' '),
      sign(KEY, String(NOW - 1), BODY),
      sign(KEY, String(NOW), BODY).toUpperCase(),
      sign(KEY, String(NOW), BODY).replace('v1=', 'v0='),
      sign(KEY, String(NOW), BODY).slice(3),
      'v1=',
    ]
    for (const signature of cases) {
      const verdict = verify({ key: KEY, headers: headers(NOW, signature), rawBody: BODY, nowSeconds: NOW })
      assert.deepEqual(verdict, { ok: false, reason: 'wrong signature' }, signature)
    }
  })

  it('refuses a call without either header', () => {
    const signature = sign(KEY, String(NOW), BODY)
    for (const h of [{}, { 'x-baton-timestamp': String(NOW) }, { 'x-baton-signature': signature }]) {
      const verdict = verify({ key: KEY, headers: h, rawBody: BODY, nowSeconds: NOW })
      assert.equal(verdict.ok, false)
      assert.match(!verdict.ok ? verdict.reason : '', /missing/)
    }
  })

  it('refuses a stale or future timestamp, even when correctly signed', () => {
    for (const skew of [-(TOLERANCE_SECONDS + 1), TOLERANCE_SECONDS + 1, -86_400]) {
      const timestamp = String(NOW + skew)
      const verdict = verify({
        key: KEY,
        headers: headers(timestamp, sign(KEY, timestamp, BODY)),
        rawBody: BODY,
        nowSeconds: NOW,
      })
      assert.equal(verdict.ok, false, `skew ${skew}`)
      assert.match(!verdict.ok ? verdict.reason : '', /300 s from now/)
    }
    for (const skew of [-TOLERANCE_SECONDS, TOLERANCE_SECONDS]) {
      const timestamp = String(NOW + skew)
      const signature = sign(KEY, timestamp, BODY)
      assert.deepEqual(verify({ key: KEY, headers: headers(timestamp, signature), rawBody: BODY, nowSeconds: NOW }), {
        ok: true,
      })
    }
  })

  it('refuses a timestamp that is not unix seconds', () => {
    for (const timestamp of ['2026-01-01T00:00:00Z', '1.5', '-1', '0x10', '1767225600000000']) {
      const verdict = verify({
        key: KEY,
        headers: headers(timestamp, sign(KEY, timestamp, BODY)),
        rawBody: BODY,
        nowSeconds: NOW,
      })
      assert.equal(verdict.ok, false, timestamp)
    }
  })
})
