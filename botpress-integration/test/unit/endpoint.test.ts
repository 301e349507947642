import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { EndpointUrlError, parseEndpointUrl, routeUrl } from '../../src/baton/endpoint'

describe('endpoint URL', () => {
  it('appends routes with exactly one slash, with or without a trailing slash', () => {
    for (const raw of [
      'https://baton.example.com/botpress/tok',
      'https://baton.example.com/botpress/tok/',
      'https://baton.example.com/botpress/tok//',
      '  https://baton.example.com/botpress/tok  ',
    ]) {
      const endpoint = parseEndpointUrl(raw)
      assert.equal(routeUrl(endpoint, 'register'), 'https://baton.example.com/botpress/tok/register', raw)
      assert.equal(routeUrl(endpoint, '/startHitl'), 'https://baton.example.com/botpress/tok/startHitl', raw)
    }
  })

  it('keeps a sub-path and a port, and shows only the origin', () => {
    const endpoint = parseEndpointUrl('http://127.0.0.1:8080/inbox/botpress/t0k')
    assert.equal(routeUrl(endpoint, 'message'), 'http://127.0.0.1:8080/inbox/botpress/t0k/message')
    assert.equal(endpoint.origin, 'http://127.0.0.1:8080')
  })

  it('refuses what cannot be an endpoint URL, saying why', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['baton.example.com/botpress/tok', /not a URL/],
      ['ftp://baton.example.com/botpress/tok', /https:\/\//],
      ['https://baton.example.com/botpress/tok?x=1', /query/],
      ['https://baton.example.com/botpress/tok#frag', /fragment/],
      ['https://user:pw@baton.example.com/botpress/tok', /user name or password/],
    ]
    for (const [raw, message] of cases) {
      assert.throws(() => parseEndpointUrl(raw), (e: unknown) => e instanceof EndpointUrlError && message.test(e.message), raw)
    }
  })
})
