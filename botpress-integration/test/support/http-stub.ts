/** A throwaway HTTP server on loopback whose answers a test chooses, recording what it got. */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Received = { method: string; path: string; headers: IncomingMessage['headers']; body: string }
export type Answer = { status: number; body?: string | object; headers?: Record<string, string> }

export type Stub = {
  url: string
  received: Received[]
  close: () => Promise<void>
}

export const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })

export const listen = (server: Server): Promise<string> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)))

export const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })

export const stubServer = async (answer: (request: Received) => Answer | Promise<Answer>): Promise<Stub> => {
  const received: Received[] = []
  const server = createServer(async (req, res) => {
    const request = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: await readBody(req) }
    received.push(request)
    const reply = await answer(request)
    const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
    const type = typeof reply.body === 'object' ? { 'content-type': 'application/json' } : {}
    res.writeHead(reply.status, { ...type, ...reply.headers }).end(body)
  })
  const url = await listen(server)
  return { url, received, close: () => closeServer(server) }
}

/** A loopback URL where nothing listens: connections are refused. */
export const refusedUrl = async (): Promise<string> => {
  const server = createServer()
  const url = await listen(server)
  await closeServer(server)
  return url
}
