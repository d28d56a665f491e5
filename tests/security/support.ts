import { readFileSync } from 'node:fs'
import { request } from 'node:http'

/** Resident memory of a process in KB, from /proc/<pid>/status. */
export function rssKb(pid: number) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:'))
  return Number(line?.replace(/\D+/g, '') ?? 0)
}

/**
 * POSTs `total` bytes with `Transfer-Encoding: chunked` (no Content-Length) and stops sending once the answer
 * arrives. Resolves with the status, the body and how many bytes went out.
 */
export function postChunked(url: string, path: string, total: number, headers: Record<string, string> = {}) {
  return new Promise<{ status: number, body: string, sent: number }>((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...headers } })
    const chunk = Buffer.alloc(64 * 1024, 'a')
    let sent = 0
    let answered = false
    req.on('response', (res) => {
      answered = true
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { body += d })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body, sent }); req.destroy() })
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body, sent }))
    })
    req.on('error', (error) => { if (!answered) reject(error) })
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length
        if (!req.write(chunk)) { req.once('drain', pump); return }
      }
      if (!answered) req.end()
    }
    pump()
  })
}

/**
 * A TCP pass-through in front of a database server, to play an outage without stopping the shared PostgreSQL:
 * `cut()` drops every connection and refuses new ones, `freeze()` keeps connections open but forwards nothing
 * (a stopped or overloaded database), `restore()` goes back to normal.
 */
export async function startTcpProxy(targetHost: string, targetPort: number) {
  const { createServer, connect } = await import('node:net')
  type Socket = import('node:net').Socket
  let mode: 'pass' | 'cut' | 'freeze' = 'pass'
  const pairs = new Set<[Socket, Socket]>()
  const server = createServer((client) => {
    if (mode === 'cut') return client.destroy()
    if (mode === 'freeze') { client.pause(); pairs.add([client, client]); client.on('close', () => {}); return }
    const upstream = connect({ host: targetHost, port: targetPort })
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    client.pipe(upstream)
    upstream.pipe(client)
    const drop = () => { client.destroy(); upstream.destroy(); pairs.delete(pair) }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as import('node:net').AddressInfo).port
  const destroyAll = () => { for (const [a, b] of pairs) { a.destroy(); b.destroy() } pairs.clear() }
  return {
    port,
    cut: () => { mode = 'cut'; destroyAll() },
    freeze: () => { mode = 'freeze'; for (const [a, b] of pairs) { a.unpipe(); b.unpipe(); a.pause(); b.pause() } },
    restore: () => { mode = 'pass'; destroyAll() },
    close: () => { destroyAll(); return new Promise<void>(resolve => server.close(() => resolve())) },
  }
}
