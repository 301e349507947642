import type { Props } from '../types'
import { createUser } from './create-user'
import { startHitl } from './start-hitl'
import { stopHitl } from './stop-hitl'

export const actions = { createUser, startHitl, stopHitl } satisfies Props['actions']
