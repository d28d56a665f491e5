// A lean keep-alive HTTP/1.1 client for the load benches (run by hand, not tests). Node's global fetch (undici's
// fetch: WHATWG streams, Headers objects, spec checks) costs the generator ~0.3 ms of CPU per request, more than the
// server's /api/auth/me; on the same two cores that capped the measured req/s. node:http with one socket per client
// costs a fraction of it and still reads the whole body and checks the status.
import http from 'node:http'

/**
 * One client: a single keep-alive connection to `baseUrl` (requests on it go one after another, like one browser
 * tab's fetches). `request(path, {method, headers, body})` resolves to `{status, headers, body}` with the whole
 * body as a Buffer; `close()` ends the connection.
 */
export function keepAliveClient(baseUrl) {
  const { hostname, port } = new URL(baseUrl)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  return {
    request: (path, { method = 'GET', headers = {}, body } = {}) => new Promise((resolve, reject) => {
      const req = http.request({ agent, hostname, port, path, method, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        const parts = []
        res.on('data', part => parts.push(part))
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    }),
    close: () => agent.destroy(),
  }
}

/** CPU time (ms, user + system) this process has used so far: the generator's own share of the machine. */
export const ownCpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}
