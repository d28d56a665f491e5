import type { Client } from '../support/http'

export interface Received { event: string, data: any }

/** Reads `/api/events` as `client`; collects events and comment lines until closed or the server ends it. */
export class LiveReader {
  events: Received[] = []
  comments: string[] = []
  status = 0
  contentType = ''
  ended = false
  private controller = new AbortController()
  private done!: Promise<void>

  static async open(client: Client) {
    const reader = new LiveReader()
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (client.cookies.size) headers.cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    if (client.bearer) headers.authorization = `Bearer ${client.bearer}`
    const res = await fetch(`${client.baseUrl}/api/events`, { headers, signal: reader.controller.signal })
    reader.status = res.status
    reader.contentType = res.headers.get('content-type') ?? ''
    reader.done = reader.pump(res)
    return reader
  }

  private async pump(res: Response) {
    if (!res.body) return
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let cut: number
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          let name = 'message'
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) this.comments.push(line)
            else if (line.startsWith('event: ')) name = line.slice(7)
            else if (line.startsWith('data: ')) data.push(line.slice(6))
          }
          if (data.length) this.events.push({ event: name, data: JSON.parse(data.join('\n')) })
        }
      }
    }
    catch {}
    this.ended = true
  }

  named = (name: string) => this.events.filter(e => e.event === name).map(e => e.data)
  lastUnread = () => this.named('unread').at(-1)?.count
  close = async () => { this.controller.abort(); await this.done }
}
