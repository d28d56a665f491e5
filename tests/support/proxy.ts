import { createServer, request } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/**
 * A pass-through HTTP proxy in front of a test server, for what a browser flag cannot play reliably:
 * - `deploy()`: the next deploy — /sw.js at the same URL with different bytes, which is how a new version
 *   reaches installed apps;
 * - `cut()` / `restore()`: the network going away. Chromium's offline emulation (`context.setOffline`) does
 *   not cover the first moments of a reloaded document, so a request can slip out "offline"; with the proxy
 *   cut it fails as it would on a dead link. Open connections are dropped too.
 * The browser's Host header is kept, so the app's same-origin check sees the origin the browser used.
 */
export async function startProxy(target: string) {
  let deployed = false
  let cut = false
  const sockets = new Set<Socket>()
  const proxy = createServer((req, res) => {
    if (cut) { req.socket.destroy(); return }
    const isWorker = req.url?.split('?')[0] === '/sw.js'
    const headers = { ...req.headers }
    // the new bytes must not be answered with "304, you have them"
    if (deployed && isWorker) { delete headers['if-none-match']; delete headers['if-modified-since'] }
    const upstream = request(`${target}${req.url}`, { method: req.method, headers }, (answer) => {
      if (!(deployed && isWorker)) {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
        return
      }
      const chunks: Buffer[] = []
      answer.on('data', chunk => chunks.push(chunk))
      answer.on('end', () => {
        const { etag: _etag, 'content-length': _length, 'last-modified': _modified, ...rest } = answer.headers
        res.writeHead(answer.statusCode ?? 502, { ...rest, 'cache-control': 'no-cache' })
        res.end(`${Buffer.concat(chunks).toString('utf8')}\n// next deploy\n`)
      })
    })
    upstream.on('error', () => res.destroy())
    res.on('close', () => upstream.destroy())
    req.pipe(upstream)
  })
  proxy.on('connection', (socket) => {
    if (cut) { socket.destroy(); return }
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    deploy: () => { deployed = true },
    cut: () => {
      cut = true
      for (const socket of sockets) socket.destroy()
    },
    restore: () => { cut = false },
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise(resolve => proxy.close(resolve))
    },
  }
}
