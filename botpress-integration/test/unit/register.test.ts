import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { RuntimeError } from '@botpress/sdk'
import { register as registerWithBaton } from '../../src/baton/api'
import { parseEndpointUrl } from '../../src/baton/endpoint'
import { BatonCallError } from '../../src/baton/http'
import { registrationMessage } from '../../src/baton/messages'
import { register, unregister } from '../../src/register'
import { fakeClient } from '../support/fake-client'
import { refusedUrl, stubServer, type Answer, type Stub } from '../support/http-stub'
import { common } from '../support/props'

const KEY = '0123456789abcdef'.repeat(4)
const WEBHOOK = 'https://webhook.botpress.cloud/5c1f0000-0000-4000-8000-000000000000'

const stubs: Stub[] = []
after(() => Promise.all(stubs.map((s) => s.close())))

/** A Baton stand-in at `<url>/botpress/tok`, answering every call with `answer`. */
const batonAnswering = async (answer: Answer) => {
  const stub = await stubServer(() => answer)
  stubs.push(stub)
  return { stub, endpointUrl: `${stub.url}/botpress/tok` }
}

const registerAgainst = async (endpointUrl: string) => {
  const fake = fakeClient()
  const props = common(fake, endpointUrl)
  const run = register({ ...props, webhookUrl: WEBHOOK })
  return { fake, run }
}

const failsWith = async (run: Promise<unknown>, pattern: RegExp) =>
  assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof RuntimeError, `a RuntimeError, so Botpress shows the text (got ${String(e)})`)
    assert.match(e.message, pattern)
    return true
  })

describe('register', () => {
  it('sends the webhook URL and bot id, and keeps the signing key', async () => {
    const { stub, endpointUrl } = await batonAnswering({ status: 200, body: { signingKey: KEY, connection: 'Support bot' } })
    const { fake, run } = await registerAgainst(`${endpointUrl}/`)
    await run
    assert.equal(stub.received.length, 1)
    assert.equal(stub.received[0]?.path, '/botpress/tok/register')
    assert.equal(stub.received[0]?.headers['content-type'], 'application/json')
    assert.deepEqual(JSON.parse(stub.received[0]?.body ?? ''), { webhookUrl: WEBHOOK, botId: 'bot_1' })
    assert.deepEqual(fake.store.getState('integration', 'intver_1', 'connection').payload, {
      signingKey: KEY,
      connection: 'Support bot',
      webhookUrl: WEBHOOK,
    })
  })

  it('says "cannot reach Baton" when nothing listens there', async () => {
    const { run } = await registerAgainst(`${await refusedUrl()}/botpress/tok`)
    await failsWith(run, /^Cannot reach Baton at http:\/\/127\.0\.0\.1:\d+: connection refused\. Check the endpoint URL/)
  })

  it('says "cannot reach Baton" when the host name does not resolve', async () => {
    const endpoint = parseEndpointUrl('https://baton.invalid/botpress/tok')
    const dnsFailure = async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }) })
    }
    await assert.rejects(registerWithBaton(endpoint, { webhookUrl: WEBHOOK, botId: 'b' }, dnsFailure), (e: unknown) => {
      assert.ok(e instanceof BatonCallError)
      assert.match(registrationMessage(endpoint, e.failure), /^Cannot reach Baton at https:\/\/baton\.invalid: the host name does not resolve/)
      return true
    })
  })

  it('says the URL is not a Baton endpoint URL when another server answers', async () => {
    const { endpointUrl } = await batonAnswering({ status: 404, body: '<html>Not Found</html>' })
    const { run } = await registerAgainst(endpointUrl)
    await failsWith(run, /Cannot reach Baton at .*answered HTTP 404 \("<html>Not Found<\/html>"\), so this is not a Baton endpoint URL/)
  })

  it('says the token is wrong when Baton answers 404 with an empty body', async () => {
    const { endpointUrl } = await batonAnswering({ status: 404 })
    const { run } = await registerAgainst(endpointUrl)
    await failsWith(run, /^Baton does not know this endpoint URL: check the token part/)
  })

  it('says the connection is for plus/hitl-api on 409, with Baton’s words', async () => {
    const { endpointUrl } = await batonAnswering({
      status: 409,
      body: { error: 'this connection is for the Human in the Loop API integration' },
    })
    const { run } = await registerAgainst(endpointUrl)
    await failsWith(run, /^Baton refused: this connection is for the Human in the Loop API integration\. .*plus\/hitl-api/)
  })

  it('passes Baton’s own error message through on other 4xx and 5xx', async () => {
    for (const status of [400, 403, 500, 503]) {
      const { endpointUrl } = await batonAnswering({ status, body: { error: `reason ${status}` } })
      const { run } = await registerAgainst(endpointUrl)
      await failsWith(run, new RegExp(`^Baton refused the registration \\(HTTP ${status}\\): reason ${status}$`))
    }
  })

  it('refuses an answer without a proper signing key, and stores nothing', async () => {
    for (const body of [{ signingKey: 'short', connection: 'x' }, { connection: 'x' }, { signingKey: KEY }, 'not json']) {
      const { endpointUrl } = await batonAnswering({ status: 200, body })
      const { fake, run } = await registerAgainst(endpointUrl)
      await failsWith(run, /^Baton's answer was not understood/)
      assert.equal(fake.store.states.size, 0)
    }
  })

  it('does not follow redirects', async () => {
    const { endpointUrl } = await batonAnswering({ status: 307, headers: { location: 'https://elsewhere.example/' } })
    const { run } = await registerAgainst(endpointUrl)
    await failsWith(run, /answered HTTP 307 \(a redirect to https:\/\/elsewhere\.example\/\)/)
  })

  it('explains a malformed endpoint URL before calling anything', async () => {
    const { run } = await registerAgainst('baton.example.com/botpress/tok')
    await failsWith(run, /is not a URL/)
  })
})

describe('unregister', () => {
  it('tells Baton the webhook URL', async () => {
    const { stub, endpointUrl } = await batonAnswering({ status: 200, body: {} })
    const fake = fakeClient()
    await unregister({ ...common(fake, endpointUrl), webhookUrl: WEBHOOK })
    assert.equal(stub.received[0]?.path, '/botpress/tok/unregister')
    assert.deepEqual(JSON.parse(stub.received[0]?.body ?? ''), { webhookUrl: WEBHOOK })
  })

  it('logs a failure instead of throwing it', async () => {
    const fake = fakeClient()
    const props = common(fake, `${await refusedUrl()}/botpress/tok`)
    await unregister({ ...props, webhookUrl: WEBHOOK })
    assert.match(props.lines.join('\n'), /^warn: Could not tell Baton .*connection refused/m)
  })
})
