import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type * as sdk from '@botpress/sdk'
import integration from '../../integration.definition'
import type { HistoryMessage, Integration } from '../../src/types'

const root = join(__dirname, '..', '..')
const schema = (s: unknown) => s as sdk.z.ZodTypeAny

/** The name the definition gets in a fresh process with this environment. */
const nameWith = (env: Record<string, string>): string =>
  execFileSync(process.execPath, ['--import', 'tsx', '-e', "console.log(require('./integration.definition').default.name)"], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  }).trim()

describe('integration definition', () => {
  it('is baton 0.1.0 unless BATON_INTEGRATION_NAME names it (private integrations: <workspace>/<name>)', () => {
    assert.equal(integration.version, '0.1.0')
    assert.equal(nameWith({ BATON_INTEGRATION_NAME: '' }), 'baton')
    assert.equal(nameWith({ BATON_INTEGRATION_NAME: 'acme/baton' }), 'acme/baton')
  })

  it('has one configuration field, the endpoint URL', () => {
    const config = schema(integration.configuration?.schema)
    assert.deepEqual(Object.keys((config as sdk.z.AnyZodObject).shape), ['endpointUrl'])
    assert.ok(config.safeParse({ endpointUrl: 'https://baton.example.com/botpress/tok' }).success)
    assert.ok(!config.safeParse({ endpointUrl: 'not a url' }).success)
    assert.ok(!config.safeParse({}).success)
  })

  it('takes Baton’s ticket settings as the hitlSession of startHitl', () => {
    const input = schema(integration.actions?.startHitl?.input.schema)
    const history: HistoryMessage[] = [
      { source: { type: 'bot' }, type: 'markdown', payload: { markdown: '**Hi**' } },
      { source: { type: 'user', userId: 'user_1' }, type: 'choice', payload: { text: 'Pick', options: [{ label: 'A', value: 'a' }] } },
    ]
    const good: Integration['actions']['startHitl']['input'] = {
      userId: 'user_1',
      hitlSession: { priority: 'urgent', team: 'Billing' },
      messageHistory: history,
    }
    assert.ok(input.safeParse(good).success)
    assert.ok(!input.safeParse({ ...good, hitlSession: { priority: 'critical' } }).success)
    assert.ok(!input.safeParse({ ...good, hitlSession: { team: '' } }).success)
    assert.ok(!input.safeParse({ userId: 'user_1' }).success, 'messageHistory is required')
  })

  it('declares the tags and the state the handlers use', () => {
    assert.deepEqual(Object.keys(integration.user?.tags ?? {}).sort(), ['batonAgentId', 'batonCustomerId', 'email'])
    assert.deepEqual(Object.keys(integration.channels?.hitl?.conversation?.tags ?? {}), ['ticketId'])
    assert.deepEqual(Object.keys(integration.channels?.hitl?.message?.tags ?? {}), ['batonMessageId'])
    const state = schema(integration.states?.connection?.schema)
    assert.equal(integration.states?.connection?.type, 'integration')
    assert.ok(state.safeParse({ signingKey: 'ab'.repeat(32), connection: 'c', webhookUrl: 'w' }).success)
    assert.ok(!state.safeParse({ signingKey: 'AB'.repeat(32), connection: 'c', webhookUrl: 'w' }).success)
  })

  it('limits additionalData on the hitl channel to 500 characters', () => {
    const text = schema(integration.channels?.hitl?.messages.text?.schema)
    assert.ok(text.safeParse({ text: 'x', additionalData: 'a'.repeat(500), userId: 'user_1' }).success)
    assert.ok(!text.safeParse({ text: 'x', additionalData: 'a'.repeat(501) }).success)
  })
})
