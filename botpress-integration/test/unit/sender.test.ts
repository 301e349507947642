import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { payloadForBaton } from '../../src/channels'
import { resolveSender, senderOf } from '../../src/sender'
import { fakeClient } from '../support/fake-client'

describe('customer or bot', () => {
  it('is the customer when the user carries a Baton customer id, else the bot', () => {
    assert.deepEqual(senderOf({ id: 'u', tags: { batonCustomerId: 'cus_1' } }), { from: 'customer', customerId: 'cus_1' })
    assert.deepEqual(senderOf({ id: 'u', tags: { batonAgentId: 'agt_1' } }), { from: 'bot' })
    assert.deepEqual(senderOf({ id: 'u', tags: { batonCustomerId: '' } }), { from: 'bot' })
    assert.deepEqual(senderOf(undefined), { from: 'bot' })
  })

  it('follows payload.userId ("send as this user"), as the HITL plugin writes customer messages', async () => {
    const fake = fakeClient()
    const customer = fake.store.createUser({ name: 'Dana', tags: { batonCustomerId: 'cus_7' } })
    const bot = { id: 'bot_1', tags: {} }
    assert.deepEqual(await resolveSender(fake.client, { userId: customer.id }, bot), {
      from: 'customer',
      customerId: 'cus_7',
    })
  })

  it('is the bot for the plugin’s own notices (no payload.userId)', async () => {
    const fake = fakeClient()
    assert.deepEqual(await resolveSender(fake.client, {}, { id: 'bot_1', tags: {} }), { from: 'bot' })
    assert.equal(fake.calls.length, 0, 'no lookup needed')
  })

  it('uses the message author when payload.userId is absent or the author itself', async () => {
    const fake = fakeClient()
    const author = { id: 'user_1', tags: { batonCustomerId: 'cus_9' } }
    assert.deepEqual(await resolveSender(fake.client, {}, author), { from: 'customer', customerId: 'cus_9' })
    assert.deepEqual(await resolveSender(fake.client, { userId: 'user_1' }, author), { from: 'customer', customerId: 'cus_9' })
  })

  it('treats a user that no longer exists as the bot, and lets other API failures through', async () => {
    const fake = fakeClient()
    assert.deepEqual(await resolveSender(fake.client, { userId: 'user_gone' }, { id: 'bot_1', tags: {} }), { from: 'bot' })
    fake.breakMethod('getUser')
    await assert.rejects(resolveSender(fake.client, { userId: 'user_x' }, { id: 'bot_1', tags: {} }), /down/)
  })

  it('sends Baton the payload whole but for the plugin’s type', () => {
    assert.deepEqual(payloadForBaton({ type: 'text', text: 'hi', userId: 'user_1', additionalData: 'x' }), {
      text: 'hi',
      userId: 'user_1',
      additionalData: 'x',
    })
  })
})
