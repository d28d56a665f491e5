import { gcm } from '@noble/ciphers/aes.js'
import { PIN_STRIKES } from '#shared/offline'

/**
 * The offline cache's envelope. Every record is AES-256-GCM under one random data key per device and user, with
 * a fresh 96-bit IV per write and the record's key as additional data (a record moved to another key does not
 * open). The data key itself is stored only wrapped (AES-GCM again):
 *  - by the server's key for this user and device (GET /api/auth/offline-key), which a live session gets;
 *  - optionally by a key derived from the device PIN (PBKDF2-SHA256), for opening without the server.
 * WebCrypto does the work; the one synchronous path (journals written to localStorage while the page may be
 * unloading) uses @noble/ciphers' AES-GCM, which produces the same format.
 */

/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
export const PBKDF2_ITERATIONS = 600_000

/** An encrypted value: base64 IV and ciphertext (with the GCM tag), JSON-safe for IndexedDB and localStorage. */
export interface Sealed { sealed: 1, iv: string, ct: string }

type Bytes = Uint8Array<ArrayBuffer>

/** The data key, usable by WebCrypto and (raw) by the synchronous path. */
export interface DataKey { key: CryptoKey, raw: Bytes }

export interface PinWrap { salt: string, iterations: number, wrapped: Sealed }

/** What the device stores about its cache's keys (no key in the clear). */
export interface Vault {
  v: 1
  userId: string
  /** The data key wrapped by the server's key. */
  server: Sealed
  /** The data key wrapped by the PIN's key; null = no PIN, no opening without the server. */
  pin: PinWrap | null
  /** Wrong PINs in a row. */
  failures: number
}

const subtle = () => globalThis.crypto.subtle
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const randomBytes = (n: number): Bytes => globalThis.crypto.getRandomValues(new Uint8Array(n))

export function toBase64(bytes: Uint8Array) {
  let text = ''
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(text)
}

export function fromBase64(text: string): Bytes {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

export const isSealed = (value: unknown): value is Sealed =>
  !!value && typeof value === 'object' && (value as Sealed).sealed === 1 && typeof (value as Sealed).iv === 'string' && typeof (value as Sealed).ct === 'string'

async function dataKeyFrom(raw: Bytes): Promise<DataKey> {
  return { raw, key: await subtle().importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']) }
}

export const newDataKey = () => dataKeyFrom(randomBytes(32))

/** The server's wrapping key (base64url from GET /api/auth/offline-key). */
export const importServerKey = (key: string) => subtle().importKey('raw', fromBase64(key), 'AES-GCM', false, ['encrypt', 'decrypt'])

/** The PIN's wrapping key: PBKDF2-SHA256 over the PIN with the vault's salt. */
export async function pinKey(pin: string, salt: Bytes, iterations: number) {
  const material = await subtle().importKey('raw', encoder.encode(pin), 'PBKDF2', false, ['deriveKey'])
  return subtle().deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
}

async function encryptBytes(key: CryptoKey, plain: Bytes, aad: string): Promise<Sealed> {
  const iv = randomBytes(12)
  const ct = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(aad) }, key, plain))
  return { sealed: 1, iv: toBase64(iv), ct: toBase64(ct) }
}

async function decryptBytes(key: CryptoKey, sealed: Sealed, aad: string) {
  return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: fromBase64(sealed.iv), additionalData: encoder.encode(aad) }, key, fromBase64(sealed.ct)))
}

/** Encrypts a JSON value under the data key; `aad` names where it is stored. */
export const seal = (dataKey: DataKey, value: unknown, aad: string) => encryptBytes(dataKey.key, encoder.encode(JSON.stringify(value)), aad)

/** The same, synchronously (for a localStorage journal written while the page may be going away). */
export function sealSync(dataKey: DataKey, value: unknown, aad: string): Sealed {
  const iv = randomBytes(12)
  const ct = gcm(dataKey.raw, iv, encoder.encode(aad)).encrypt(encoder.encode(JSON.stringify(value)))
  return { sealed: 1, iv: toBase64(iv), ct: toBase64(ct) }
}

/** Decrypts a sealed value; throws when the key, the place or the bytes are wrong. */
export async function unseal<T>(dataKey: DataKey, sealed: Sealed, aad: string): Promise<T> {
  return JSON.parse(decoder.decode(await decryptBytes(dataKey.key, sealed, aad))) as T
}

const wrapAad = (userId: string, by: 'server' | 'pin') => `energyapp-offline-key:${by}:${userId}`

/** A new vault for `userId`: a fresh data key, wrapped by the server's key only. */
export async function createVault(userId: string, serverKey: CryptoKey): Promise<{ vault: Vault, dataKey: DataKey }> {
  const dataKey = await newDataKey()
  const server = await encryptBytes(serverKey, dataKey.raw, wrapAad(userId, 'server'))
  return { vault: { v: 1, userId, server, pin: null, failures: 0 }, dataKey }
}

/** Opens the vault with the server's key (throws when it is not this vault's). */
export async function openWithServer(vault: Vault, serverKey: CryptoKey) {
  return dataKeyFrom(await decryptBytes(serverKey, vault.server, wrapAad(vault.userId, 'server')))
}

/** The vault with the data key also wrapped by `pin` (replacing any earlier PIN). */
export async function withPin(vault: Vault, dataKey: DataKey, pin: string, iterations = PBKDF2_ITERATIONS): Promise<Vault> {
  const salt = randomBytes(16)
  const wrapped = await encryptBytes(await pinKey(pin, salt, iterations), dataKey.raw, wrapAad(vault.userId, 'pin'))
  return { ...vault, pin: { salt: toBase64(salt), iterations, wrapped }, failures: 0 }
}

export type PinAttempt =
  | { ok: true, dataKey: DataKey, vault: Vault }
  /** `wipe`: this was the last allowed attempt, the cache must go. */
  | { ok: false, vault: Vault, left: number, wipe: boolean }

/** Tries a PIN: the data key and the strike count reset, or one strike more (PIN_STRIKES in a row wipe). */
export async function openWithPin(vault: Vault, pin: string): Promise<PinAttempt> {
  if (!vault.pin) return { ok: false, vault, left: 0, wipe: false }
  try {
    const key = await pinKey(pin, fromBase64(vault.pin.salt), vault.pin.iterations)
    const dataKey = await dataKeyFrom(await decryptBytes(key, vault.pin.wrapped, wrapAad(vault.userId, 'pin')))
    return { ok: true, dataKey, vault: { ...vault, failures: 0 } }
  }
  catch {
    const failures = vault.failures + 1
    return { ok: false, vault: { ...vault, failures }, left: Math.max(0, PIN_STRIKES - failures), wipe: failures >= PIN_STRIKES }
  }
}
