// Builds the integration the way `bp build` does, without the Botpress CLI:
//
// 1. loads integration.definition.ts (as `bp gen` does) so a broken definition fails
//    the build, and writes a summary to .botpress/definition.json;
// 2. bundles src/index.ts with esbuild into .botpress/dist/index.cjs, with the options
//    the CLI uses (node platform, ES2020, names kept, no minification). That file is
//    what `bp serve` starts and what `bp deploy` uploads.
//
// Offline: it needs nothing but the installed packages.
import { build } from 'esbuild'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, '.botpress')
const require = createRequire(import.meta.url)

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'es2020',
  legalComments: 'none',
  keepNames: true,
  minify: false,
  logLevel: 'warning',
}

const loadDefinition = async () => {
  const outfile = join(outDir, 'definition.cjs')
  await build({ ...common, entryPoints: [join(root, 'integration.definition.ts')], outfile, packages: 'external' })
  delete require.cache[outfile]
  const definition = require(outfile).default
  if (!definition?.name || !definition?.version) {
    throw new Error('integration.definition.ts must export an IntegrationDefinition by default')
  }
  const keys = (record) => Object.keys(record ?? {}).sort()
  const summary = {
    name: definition.name,
    version: definition.version,
    interfaces: Object.fromEntries(
      Object.entries(definition.interfaces ?? {}).map(([key, i]) => [key, { name: i.name, version: i.version }])
    ),
    configuration: keys(definition.configuration?.schema?.shape),
    actions: keys(definition.actions),
    events: keys(definition.events),
    channels: Object.fromEntries(
      Object.entries(definition.channels ?? {}).map(([name, c]) => [
        name,
        { messages: keys(c.messages), conversationTags: keys(c.conversation?.tags), messageTags: keys(c.message?.tags) },
      ])
    ),
    states: keys(definition.states),
    userTags: keys(definition.user?.tags),
    entities: keys(definition.entities),
  }
  writeFileSync(join(outDir, 'definition.json'), JSON.stringify(summary, null, 2) + '\n')
  return summary
}

const bundle = async () => {
  const outfile = join(outDir, 'dist', 'index.cjs')
  await build({
    ...common,
    // The same entry the CLI writes: the default export, and its handler beside it.
    stdin: {
      contents: "import x from './src/index'; export default x; export const handler = x.handler;",
      resolveDir: root,
      loader: 'ts',
    },
    outfile,
  })
  return outfile
}

rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
const summary = await loadDefinition()
const outfile = await bundle()
const hitl = Object.values(summary.interfaces).find((i) => i.name === 'hitl')
console.log(
  `Built integration ${summary.name} v${summary.version}` +
    (hitl ? ` (implements hitl ${hitl.version})` : '') +
    ` -> ${outfile.slice(root.length + 1)}`
)
