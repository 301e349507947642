/**
 * The built integration (.botpress/dist/index.cjs) in a process of its own, served by
 * the SDK's own HTTP server, with its Botpress client pointed at the fake API.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export const BUNDLE = join(__dirname, '..', '..', '.botpress', 'dist', 'index.cjs')

export type IntegrationProcess = { url: string; logs: string[]; stop: () => Promise<void> }

export const startIntegration = async (apiUrl: string): Promise<IntegrationProcess> => {
  if (!existsSync(BUNDLE)) {
    throw new Error(`${BUNDLE} is missing: run \`npm run build\` first (npm run test:e2e does).`)
  }
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'serve-bundle.cjs'), BUNDLE], {
    env: { ...process.env, BP_API_URL: apiUrl, BP_TOKEN: 'bp_bak_e2e', BP_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: string[] = []
  child.stderr?.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')))
  const lines = createInterface({ input: child.stdout! })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the integration did not start:\n${logs.join('')}`)), 20_000)
    child.once('exit', (code) => reject(new Error(`the integration exited (${code}):\n${logs.join('')}`)))
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { port?: number }
        if (parsed.port) {
          clearTimeout(timer)
          resolve(parsed.port)
          return
        }
      } catch {
        // the SDK's own log lines
      }
      logs.push(line + '\n')
    })
  })
  return {
    url: `http://127.0.0.1:${port}`,
    logs,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
