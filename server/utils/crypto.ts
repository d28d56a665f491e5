import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'

/** A fresh random secret, URL-safe. */
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url')

/** Tokens and recovery codes are high-entropy, so a plain SHA-256 is the right hash for them at rest. */
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

export function safeEqual(a: string, b: string) {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

const keyFor = (secret: string, purpose: string) =>
  Buffer.from(hkdfSync('sha256', secret, 'energyapp', purpose, 32))

/** AES-256-GCM with a key derived from the session secret; used for TOTP secrets at rest. */
export function encryptSecret(plain: string, secret: string) {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret, 'totp'), iv)
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  return ['v1', iv, cipher.getAuthTag(), data].map(p => typeof p === 'string' ? p : p.toString('base64url')).join(':')
}

export function decryptSecret(sealed: string, secret: string) {
  const [version, iv, tag, data] = sealed.split(':')
  if (version !== 'v1' || !iv || !tag || !data) throw new Error('unknown secret format')
  const decipher = createDecipheriv('aes-256-gcm', keyFor(secret, 'totp'), Buffer.from(iv, 'base64url'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8')
}
