/**
 * stopHitl: the bot side ends the session (the end user typed the termination command,
 * the bot flow stopped it, or nobody took it in time). Baton closes the ticket.
 */
import { TAGS } from '../../definitions'
import * as baton from '../baton/api'
import { endpointOf } from '../config'
import type { Props } from '../types'

/**
 * The HITL plugin tags the session with why it ended (`hitlEndReason`) before it calls
 * stopHitl. Integrations may see other owners' tags prefixed (`<alias>#hitlEndReason`)
 * or not at all; when the reason cannot be read, the bot stopped it.
 */
export const stopReason = (tags: Record<string, string | undefined>): baton.StopReason => {
  const reason = Object.entries(tags).find(([key]) => key === 'hitlEndReason' || key.endsWith('#hitlEndReason'))?.[1]
  return reason === 'patient-used-termination-command' ? 'customer_ended' : 'bot_stopped'
}

export const stopHitl: Props['actions']['stopHitl'] = async ({ ctx, client, input, logger }) => {
  const { conversation } = await client.getConversation({ id: input.conversationId })
  const ticketId = conversation.tags[TAGS.conversation.ticketId]
  if (!ticketId) {
    logger.forBot().warn(`Conversation ${input.conversationId} is not a Baton ticket; nothing to stop.`)
    return {}
  }

  // The plugin has already ended the session on its side; failing here would only cost
  // the end user the plugin's closing message, so a failure is logged, not thrown.
  try {
    await baton.stopHitl(endpointOf(ctx), {
      ticketId,
      conversationId: conversation.id,
      reason: stopReason(conversation.tags as Record<string, string | undefined>),
    })
  } catch (thrown) {
    const reason = thrown instanceof Error ? thrown.message : String(thrown)
    logger.forBot().error(`Ticket ${ticketId} stays open in Baton: ${reason}`)
  }
  return {}
}
