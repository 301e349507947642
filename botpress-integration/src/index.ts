// First: adapts @botpress/client for the SDK before the SDK loads (see the file).
import './client-compat'

import * as sdk from '@botpress/sdk'
import { actions } from './actions'
import { channels } from './channels'
import { register, unregister } from './register'
import type { Integration } from './types'
import { handler } from './webhook/handler'

export default new sdk.Integration<Integration>({
  register,
  unregister,
  actions,
  channels,
  handler,
})
