/**
 * A real Baton: the binary named by BATON_BIN, on a random loopback port, with a fresh
 * SQLite database in a temporary folder, allowed to call webhooks on loopback (the fake
 * Botpress gateway). Accounts, tokens and the connection are made with its own CLI;
 * everything else goes through its REST API.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

/** A REST answer; the caller names the type of the JSON body it expects. */
export type RestAnswer<T> = { status: number; body: T; text: string }
export type Rest = {
  get: <T = unknown>(path: string) => Promise<RestAnswer<T>>
  post: <T = unknown>(path: string, body?: object) => Promise<RestAnswer<T>>
  upload: <T = unknown>(path: string, bytes: Buffer, type: string) => Promise<RestAnswer<T>>
}

export class BatonProcess {
  public readonly dir = mkdtempSync(join(tmpdir(), 'baton-e2e-'))
  public port = 0
  public logs: string[] = []
  private _child?: ChildProcess

  public constructor(public readonly bin: string) {}

  public get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Every setting through the environment, and nothing inherited from the caller's. */
  private get _env(): NodeJS.ProcessEnv {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BATON_')))
    return {
      ...env,
      BATON_ADDR: `127.0.0.1:${this.port}`,
      BATON_PUBLIC_URL: this.url,
      BATON_DATABASE_URL: `sqlite://${join(this.dir, 'baton.db')}`,
      BATON_SITE_ROOT: join(this.dir, 'site'),
      BATON_LOG: 'warn',
    }
  }

  public async start(): Promise<this> {
    if (!this.port) this.port = await freePort()
    const child = spawn(this.bin, ['serve', '--allow-private-webhooks'], {
      cwd: this.dir,
      env: this._env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this._child = child
    child.stdout?.on('data', (c: Buffer) => this.logs.push(c.toString('utf8')))
    child.stderr?.on('data', (c: Buffer) => this.logs.push(c.toString('utf8')))
    const deadline = Date.now() + 30_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`baton exited (${child.exitCode}):\n${this.logs.join('')}`)
      try {
        if ((await fetch(`${this.url}/readyz`)).status === 200) return this
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`baton did not become ready:\n${this.logs.join('')}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  public stop(): Promise<void> {
    const child = this._child
    if (!child || child.exitCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }

  public async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** `baton <args>` against the same database; its stdout. */
  public cli(args: string[], stdin?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, args, { cwd: this.dir, env: this._env, stdio: ['pipe', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')))
      child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')))
      child.on('exit', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`baton ${args.join(' ')} failed (${code}):\n${err}${out}`))
      )
      child.stdin.end(stdin ?? '')
    })
  }

  /** An account with a password and a personal API token. */
  public async account(email: string, name: string, role: 'admin' | 'agent'): Promise<Rest> {
    await this.cli(['user', 'create', '--email', email, '--name', name, '--role', role, '--password-stdin'], 'correct horse battery staple')
    const token = (await this.cli(['token', 'create', '--email', email, '--label', 'e2e'])).trim()
    return this.rest(token)
  }

  /** A connection for Baton's integration: its id and endpoint URL (the last line printed). */
  public async connection(name: string): Promise<{ id: number; endpointUrl: string }> {
    const out = (await this.cli(['connection', 'create', '--integration', 'baton', '--name', name])).trim().split('\n')
    const id = Number(/\(id (\d+)\)/.exec(out[0] ?? '')?.[1])
    return { id, endpointUrl: (out.at(-1) ?? '').trim() }
  }

  public rest(token: string): Rest {
    const call = async <T,>(method: string, path: string, body?: string | Uint8Array, type = 'application/json'): Promise<RestAnswer<T>> => {
      const response = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': type } : {}) },
        body,
      })
      const text = await response.text()
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = undefined
      }
      return { status: response.status, body: parsed as T, text }
    }
    return {
      get: <T,>(path: string) => call<T>('GET', path),
      post: <T,>(path: string, body?: object) => call<T>('POST', path, JSON.stringify(body ?? {})),
      upload: <T,>(path: string, bytes: Buffer, type: string) => call<T>('POST', path, new Uint8Array(bytes), type),
    }
  }
}
