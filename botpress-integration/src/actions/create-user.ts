/**
 * createUser: the HITL plugin calls it once per end user (and for every other user it
 * finds in the history) before a handoff. The Botpress user it returns is the end
 * user's stand-in in hitl conversations; its `batonCustomerId` tag is what makes its
 * messages count as the customer's.
 */
import { TAGS } from '../../definitions'
import * as baton from '../baton/api'
import { endpointOf } from '../config'
import type { Props } from '../types'
import { callForAction } from './errors'

export const createUser: Props['actions']['createUser'] = async ({ ctx, client, input }) => {
  const endpoint = endpointOf(ctx)
  const email = input.email?.trim() || undefined
  const pictureUrl = input.pictureUrl?.trim() || undefined

  // The same address gives the same Botpress user (and Baton the same customer), so a
  // returning customer keeps one identity. Without one, every call is a new person.
  const { user } = email
    ? await client.getOrCreateUser({
        name: input.name,
        pictureUrl,
        tags: { [TAGS.user.email]: email },
        discriminateByTags: [TAGS.user.email],
      })
    : await client.createUser({ name: input.name, pictureUrl, tags: {} })

  const customerId = await callForAction(endpoint, 'the end user was not created', () =>
    baton.createUser(endpoint, { botpressUserId: user.id, name: input.name, email, pictureUrl })
  )

  if (user.tags[TAGS.user.customerId] !== customerId) {
    await client.updateUser({ id: user.id, tags: { [TAGS.user.customerId]: customerId } })
  }
  return { userId: user.id }
}
