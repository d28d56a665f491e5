import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { expect } from 'vitest'

/** One message as the SMTP server received it, with its text and HTML parts decoded. */
export interface ReceivedMail { from: string, to: string[], subject: string, text: string, html: string, raw: string, secure: boolean }

export interface Mailbox {
  /** `smtp://user:pass@127.0.0.1:PORT`: what the app's SMTP_URL should be. */
  url: string
  mails: ReceivedMail[]
  /**
   * While set, each message is read but not accepted until this promise settles: a mail server as slow as the test
   * wants, with no guess at how long the app would take to answer without it.
   */
  hold: Promise<unknown> | null
  /** Messages read and not yet accepted (waiting at `hold`). */
  holding: number
  /** Waits until `count` mails to `to` have arrived and returns the newest. */
  waitFor: (to: string, count?: number) => Promise<ReceivedMail>
  /** Mails received so far for `to`. */
  to: (address: string) => ReceivedMail[]
  close: () => Promise<void>
}

const USER = 'energyapp'
const PASS = 'mail-test-secret'

/**
 * A real SMTP server in this process (the `smtp-server` package), with authentication like a production relay
 * and STARTTLS offered with smtp-server's self-signed certificate (the app accepts it from a loopback relay).
 */
export async function startMailbox(): Promise<Mailbox> {
  const mails: ReceivedMail[] = []
  const box: { hold: Promise<unknown> | null, holding: number } = { hold: null, holding: 0 }
  const server = new SMTPServer({
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASS) callback(null, { user: USER })
      else callback(new Error('Invalid username or password'))
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        mails.push({
          ...parseMessage(raw),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map(r => r.address.toLowerCase()),
          raw,
          secure: session.secure,
        })
        if (!box.hold) return callback()
        box.holding++
        void box.hold.finally(() => { box.holding--; callback() })
      })
    },
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  const to = (address: string) => mails.filter(m => m.to.includes(address.toLowerCase()))
  return Object.assign(box, {
    url: `smtp://${USER}:${PASS}@127.0.0.1:${port}`,
    mails,
    to,
    async waitFor(address: string, count = 1) {
      await expect.poll(() => to(address).length, { timeout: 15_000, interval: 50, message: `mail #${count} to ${address}` }).toBeGreaterThanOrEqual(count)
      return to(address).at(-1)!
    },
    close: () => new Promise<void>(resolve => server.close(() => resolve())),
  })
}

/** The first link in a mail to `origin` + `path` (e.g. `/verify-email`), and its `token` parameter. */
export function linkIn(mail: ReceivedMail, path: string) {
  const match = new RegExp(`https?://[^\\s"<>]+${path}\\?token=([\\w-]+)`).exec(mail.text)
  if (!match) throw new Error(`no ${path} link in:\n${mail.text}`)
  return { url: match[0], token: match[1]! }
}

// ---- a minimal MIME reader: enough for nodemailer's text + HTML alternative --------------------------------

function splitHead(block: string) {
  const at = block.search(/\r?\n\r?\n/)
  const head = at < 0 ? block : block.slice(0, at)
  const body = at < 0 ? '' : block.slice(at).replace(/^\r?\n\r?\n/, '')
  const headers = new Map<string, string>()
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  return { headers, body }
}

function decodeBody(body: string, encoding = '') {
  const enc = encoding.toLowerCase()
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body)
  return body
}

function decodeQuotedPrintable(text: string) {
  const bytes: number[] = []
  const soft = text.replace(/=\r?\n/g, '')
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(soft.slice(i + 1, i + 3), 16))
      i += 2
    }
    else bytes.push(...Buffer.from(soft[i]!, 'utf8'))
  }
  return Buffer.from(bytes).toString('utf8')
}

/** RFC 2047 encoded words (`=?UTF-8?Q?...?=`) in a header. */
function decodeWords(value: string) {
  return value.replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=\s*/gi, (_all, _charset: string, kind: string, data: string) =>
    kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')))
}

function parseMessage(raw: string) {
  const { headers, body } = splitHead(raw)
  const parts = { text: '', html: '' }
  const collect = (type: string, content: string, encoding?: string) => {
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1]
    if (boundary) {
      for (const piece of content.split(`--${boundary}`).slice(1)) {
        if (piece.startsWith('--')) break
        const part = splitHead(piece.replace(/^\r?\n/, ''))
        collect(part.headers.get('content-type') ?? 'text/plain', part.body, part.headers.get('content-transfer-encoding'))
      }
    }
    else if (/^text\/html/i.test(type)) parts.html += decodeBody(content, encoding)
    else if (/^text\/plain/i.test(type)) parts.text += decodeBody(content, encoding)
  }
  collect(headers.get('content-type') ?? 'text/plain', body, headers.get('content-transfer-encoding'))
  return { subject: decodeWords(headers.get('subject') ?? ''), ...parts }
}
