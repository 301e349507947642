/**
 * startHitl: opens the ticket in Baton with the whole history, then the Botpress
 * conversation (channel `hitl`, tagged with the ticket id) that stands for it.
 */
import { RuntimeError } from '@botpress/sdk'
import { HITL_CHANNEL, TAGS } from '../../definitions'
import * as baton from '../baton/api'
import { endpointOf } from '../config'
import type { Props } from '../types'
import { callForAction } from './errors'

export const startHitl: Props['actions']['startHitl'] = async ({ ctx, client, input }) => {
  const endpoint = endpointOf(ctx)
  const { user } = await client.getUser({ id: input.userId })
  const customerId = user.tags[TAGS.user.customerId]
  if (!customerId) {
    throw new RuntimeError(
      `The Botpress user ${input.userId} has no Baton customer (no ${TAGS.user.customerId} tag): ` +
        "create it with this integration's createUser first."
    )
  }

  const session = input.hitlSession ?? {}
  const ticketId = await callForAction(endpoint, 'the handoff was not started', () =>
    baton.startHitl(endpoint, {
      customerId,
      botpressUserId: input.userId,
      title: input.title,
      description: input.description,
      priority: session.priority,
      team: session.team,
      messageHistory: input.messageHistory ?? [],
    })
  )

  const { conversation } = await client.getOrCreateConversation({
    channel: HITL_CHANNEL,
    tags: { [TAGS.conversation.ticketId]: ticketId },
    discriminateByTags: [TAGS.conversation.ticketId],
  })
  return { conversationId: conversation.id }
}
