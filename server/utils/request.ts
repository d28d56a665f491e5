import type { H3Event } from 'h3'

const loopback = (ip: string) => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1'

/**
 * The client's address. Behind Caddy on the same host the peer is loopback, so the address Caddy appended
 * to X-Forwarded-For (the last entry) is the real client; from anywhere else the header is ignored.
 */
export function clientIp(event: H3Event): string {
  const peer = event.node.req.socket?.remoteAddress ?? ''
  if (loopback(peer)) {
    const forwarded = getRequestHeader(event, 'x-forwarded-for')?.split(',').map(s => s.trim()).filter(Boolean)
    if (forwarded?.length) return forwarded[forwarded.length - 1]!.slice(0, 64)
  }
  return peer.replace(/^::ffff:/, '') || 'unknown'
}

export const userAgent = (event: H3Event) => (getRequestHeader(event, 'user-agent') ?? '').slice(0, 300) || null
