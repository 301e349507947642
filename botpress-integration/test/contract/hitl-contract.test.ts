/**
 * The local declaration of the hitl interface against the contract as the project
 * documents it (docs/botpress.md §15, the ```json hitl-contract block): the same names,
 * version, fields, and required/optional split. Either side changing alone fails here.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type * as sdk from '@botpress/sdk'
import hitl from '../../interfaces/hitl/interface.definition'
import integration from '../../integration.definition'

const DOC = join(__dirname, '..', '..', '..', 'docs', 'botpress.md')

type Presence = 'required' | 'optional'
type Fields = Record<string, Presence>
type Contract = {
  name: string
  version: string
  entities: string[]
  actions: Record<string, { input: Fields; output: Fields }>
  events: Record<string, Fields>
  channels: Record<string, { messages: Record<string, Fields>; additionalDataMaxLength: number }>
  messageHistory: { sources: string[]; types: string[] }
}

const documented = (): Contract | undefined => {
  if (!existsSync(DOC)) {
    return undefined
  }
  const match = /```json hitl-contract\n([\s\S]*?)\n```/.exec(readFileSync(DOC, 'utf8'))
  assert.ok(match?.[1], 'docs/botpress.md has a ```json hitl-contract block')
  return JSON.parse(match[1]) as Contract
}

type AnyObject = sdk.z.AnyZodObject
const shapeOf = (schema: unknown): Record<string, sdk.z.ZodTypeAny> => (schema as AnyObject).shape
const fieldsOf = (schema: unknown): Fields =>
  Object.fromEntries(
    Object.entries(shapeOf(schema)).map(([key, field]) => [key, field.isOptional() ? 'optional' : 'required'])
  )
const sorted = <T>(record: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)))

/** The declaration, in the contract's own terms. */
const declared = (): Contract => {
  const history = shapeOf(hitl.actions.startHitl.input.schema).messageHistory as sdk.z.ZodArray<sdk.z.ZodUnion<[AnyObject, ...AnyObject[]]>>
  const entries = history.element.options
  const sources = new Set<string>()
  for (const entry of entries) {
    for (const source of (entry.shape.source as sdk.z.ZodUnion<[AnyObject, ...AnyObject[]]>).options) {
      sources.add((source.shape.type as sdk.z.ZodLiteral<string>).value)
    }
  }
  const text = shapeOf(hitl.channels.hitl.messages.text.schema)
  const additionalData = (text.additionalData as sdk.z.ZodOptional<sdk.z.ZodString>).unwrap()
  return {
    name: hitl.name,
    version: hitl.version,
    entities: Object.keys(hitl.entities),
    actions: Object.fromEntries(
      Object.entries(hitl.actions).map(([name, action]) => [
        name,
        { input: fieldsOf(action.input.schema), output: fieldsOf(action.output.schema) },
      ])
    ),
    events: Object.fromEntries(Object.entries(hitl.events).map(([name, event]) => [name, fieldsOf(event.schema)])),
    channels: Object.fromEntries(
      Object.entries(hitl.channels).map(([name, channel]) => [
        name,
        {
          messages: Object.fromEntries(Object.entries(channel.messages).map(([type, m]) => [type, fieldsOf(m.schema)])),
          additionalDataMaxLength: additionalData.maxLength ?? -1,
        },
      ])
    ),
    messageHistory: {
      sources: [...sources],
      types: entries.map((entry) => (entry.shape.type as sdk.z.ZodLiteral<string>).value),
    },
  }
}

describe('the hitl 2.1.0 contract', () => {
  const doc = documented()
  const skip = doc ? false : 'docs/botpress.md is not beside this package'

  it('has the documented name, version and entity', { skip }, () => {
    const local = declared()
    assert.equal(local.name, doc?.name)
    assert.equal(local.version, doc?.version)
    assert.equal(local.version, '2.1.0')
    assert.deepEqual(local.entities, doc?.entities)
  })

  it('has the documented actions, with the same required and optional fields', { skip }, () => {
    assert.deepEqual(sorted(declared().actions), sorted(doc?.actions ?? {}))
  })

  it('has the documented events', { skip }, () => {
    assert.deepEqual(sorted(declared().events), sorted(doc?.events ?? {}))
  })

  it('has the documented channel, message types and payload fields, additionalData at most 500', { skip }, () => {
    const local = declared().channels
    assert.deepEqual(Object.keys(local), Object.keys(doc?.channels ?? {}))
    for (const [name, channel] of Object.entries(doc?.channels ?? {})) {
      assert.deepEqual(sorted(local[name]?.messages ?? {}), sorted(channel.messages), name)
      assert.equal(local[name]?.additionalDataMaxLength, channel.additionalDataMaxLength)
    }
  })

  it('accepts the documented history sources and message types, and nothing else', { skip }, () => {
    const local = declared().messageHistory
    assert.deepEqual([...local.sources].sort(), [...(doc?.messageHistory.sources ?? [])].sort())
    assert.deepEqual([...local.types].sort(), [...(doc?.messageHistory.types ?? [])].sort())
  })

  it('is what the integration implements, with Baton’s ticket as the hitlSession', () => {
    const extension = Object.values(integration.interfaces ?? {}).find((i) => i.name === 'hitl')
    assert.ok(extension, 'the integration extends hitl')
    assert.equal(extension.version, '2.1.0')
    assert.equal(extension.entities.hitlSession?.name, 'ticket')
    for (const action of Object.keys(hitl.actions)) {
      assert.ok(integration.actions?.[action], `the integration has action ${action}`)
    }
    for (const event of Object.keys(hitl.events)) {
      assert.ok(integration.events?.[event], `the integration has event ${event}`)
    }
    assert.deepEqual(
      Object.keys(integration.channels?.hitl?.messages ?? {}).sort(),
      Object.keys(hitl.channels.hitl.messages).sort()
    )
  })
})
