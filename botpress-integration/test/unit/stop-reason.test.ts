import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { stopReason } from '../../src/actions/stop-hitl'

describe('why the bot side stops', () => {
  it('is customer_ended when the plugin says the end user used the termination command', () => {
    assert.equal(stopReason({ hitlEndReason: 'patient-used-termination-command' }), 'customer_ended')
    assert.equal(stopReason({ ticketId: 't', 'hitl#hitlEndReason': 'patient-used-termination-command' }), 'customer_ended')
  })

  it('is bot_stopped otherwise, including when the reason cannot be read', () => {
    for (const reason of ['close-action-called', 'agent-assignment-timeout', 'internal-error', undefined]) {
      assert.equal(stopReason({ ticketId: 't', hitlEndReason: reason }), 'bot_stopped', String(reason))
    }
    assert.equal(stopReason({}), 'bot_stopped')
  })
})
