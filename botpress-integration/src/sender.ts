/**
 * Who a message on the hitl channel comes from. The HITL plugin writes every message
 * into the hitl conversation as the bot; the end user's messages carry `userId` in the
 * payload ("send as this user"), its own notices do not. A user that createUser made
 * carries a Baton customer id: that is the customer. Anyone else is the bot.
 */
import { isApiError } from '@botpress/sdk'
import { TAGS } from '../definitions'
import type { Client } from './types'

export type Sender = { from: 'customer'; customerId: string } | { from: 'bot' }

type TaggedUser = { id: string; tags: Record<string, string | undefined> }

/** The decision itself, given the user the message speaks for. */
export const senderOf = (user: TaggedUser | undefined): Sender => {
  const customerId = user?.tags[TAGS.user.customerId]
  return customerId ? { from: 'customer', customerId } : { from: 'bot' }
}

/** The user the message speaks for: `payload.userId` when set, else its author. */
export const resolveSender = async (
  client: Pick<Client, 'getUser'>,
  payload: { userId?: string },
  author: TaggedUser
): Promise<Sender> => {
  const speaksFor = payload.userId?.trim()
  if (!speaksFor || speaksFor === author.id) {
    return senderOf(author)
  }
  try {
    const { user } = await client.getUser({ id: speaksFor })
    return senderOf(user)
  } catch (thrown) {
    // A user that no longer exists cannot be a customer; anything else is retried.
    if (isApiError(thrown) && thrown.code === 404) {
      return { from: 'bot' }
    }
    throw thrown
  }
}
