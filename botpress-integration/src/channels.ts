/**
 * The hitl channel: every message the HITL plugin writes into a ticket's conversation
 * (the end user's messages and the plugin's notices) goes to Baton, in order. A failure
 * that may pass (Baton unreachable or failing) is thrown as a plain error so the
 * delivery fails and can be retried; Baton stores a redelivered message once, by its
 * Botpress message id.
 */
import { RuntimeError } from '@botpress/sdk'
import { TAGS } from '../definitions'
import * as baton from './baton/api'
import { BatonCallError } from './baton/http'
import { endpointOf } from './config'
import { resolveSender } from './sender'
import type { HitlMessageType, Props } from './types'

type HitlHandlers = NonNullable<Props['channels']['hitl']['messages']>
type HandlerProps = Parameters<HitlHandlers[HitlMessageType]>[0]

/**
 * The payload as Baton stores it: whole, `userId` (the end user's Botpress user, which
 * Baton's customer page reads) and `additionalData` included, without the plugin's
 * `type` (sent beside it).
 */
export const payloadForBaton = (payload: object): Record<string, unknown> => {
  const { type: _type, ...rest } = payload as Record<string, unknown>
  return rest
}

const relay = async ({ ctx, client, conversation, message, user, type, payload }: HandlerProps): Promise<void> => {
  const ticketId = conversation.tags[TAGS.conversation.ticketId]
  if (!ticketId) {
    throw new RuntimeError(`Conversation ${conversation.id} is not a Baton ticket (it has no ${TAGS.conversation.ticketId} tag).`)
  }
  const endpoint = endpointOf(ctx)
  const sender = await resolveSender(client, payload, user)
  try {
    await baton.message(endpoint, {
      ticketId,
      conversationId: conversation.id,
      messageId: message.id,
      ...sender,
      type: String(type),
      payload: payloadForBaton(payload),
    })
  } catch (thrown) {
    // Baton refusing the message (4xx) will refuse it again: fail for good. Anything
    // else may pass: fail so the delivery is retried.
    if (thrown instanceof BatonCallError && !thrown.transient && thrown.failure.kind === 'refused') {
      throw new RuntimeError(`Baton refused message ${message.id} of ticket ${ticketId}: ${thrown.failure.error}`)
    }
    throw thrown
  }
}

export const channels = {
  hitl: {
    messages: {
      text: relay,
      image: relay,
      audio: relay,
      video: relay,
      file: relay,
      bloc: relay,
    },
  },
} satisfies Props['channels']
