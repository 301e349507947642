/**
 * The interface as a package, in the shape `bp add` installs one under bp_modules/:
 * what `IntegrationDefinition.extend` takes. It carries no id: `bp deploy` looks the
 * public `hitl@2.1.0` up by name and version.
 */
import type * as sdk from '@botpress/sdk'
import definition from './interface.definition'

export default {
  type: 'interface',
  name: definition.name,
  version: definition.version,
  definition,
} satisfies sdk.InterfacePackage
