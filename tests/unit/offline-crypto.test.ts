import { describe, expect, it } from 'vitest'
import { PIN_STRIKES } from '#shared/offline'
import { createOfflineHistory } from '../../utils/idb-history'
import { createSealedStore, placeOf } from '../../utils/idb-sealed'
import { createVault, fromBase64, importServerKey, isSealed, newDataKey, openWithPin, openWithServer, PBKDF2_ITERATIONS, seal, sealSync, toBase64, unseal, type Vault, withPin } from '../../utils/offline-crypto'
import { memoryDb } from '../support/memory-kv'

// The offline cache's envelope (utils/offline-crypto.ts, utils/idb-sealed.ts) with Node's WebCrypto, the same API
// the browser has. PINs are tested with few PBKDF2 rounds (the envelope stores the count it used) except where
// the default itself is checked.
const FAST = 1000
const serverKey = () => importServerKey(toBase64(crypto.getRandomValues(new Uint8Array(32))))
const SECRET = 'Turbina 7 del parque norte: falla en el rodamiento principal'

describe('sealed values', () => {
  it('open with the data key at the same place only, and never hold the text in the clear', async () => {
    const dataKey = await newDataKey()
    const sealed = await seal(dataKey, { content: SECRET }, 'here')
    expect(isSealed(sealed)).toBe(true)
    expect(JSON.stringify(sealed)).not.toContain('Turbina')
    expect(new TextDecoder().decode(fromBase64(sealed.ct))).not.toContain('Turbina')
    await expect(unseal(dataKey, sealed, 'here')).resolves.toEqual({ content: SECRET })
    await expect(unseal(dataKey, sealed, 'elsewhere')).rejects.toThrow()
    await expect(unseal(await newDataKey(), sealed, 'here')).rejects.toThrow()
    // a flipped bit in the ciphertext is refused (GCM's tag), not decrypted to garbage
    const bytes = fromBase64(sealed.ct)
    bytes[0]! ^= 1
    await expect(unseal(dataKey, { ...sealed, ct: toBase64(bytes) }, 'here')).rejects.toThrow()
  })

  it('use a fresh IV for every write', async () => {
    const dataKey = await newDataKey()
    const ivs = new Set<string>()
    for (let i = 0; i < 20; i++) ivs.add((await seal(dataKey, SECRET, 'same')).iv)
    ivs.add(sealSync(dataKey, SECRET, 'same').iv)
    expect(ivs.size).toBe(21)
  })

  it('sealed synchronously (the journals) opens with WebCrypto', async () => {
    const dataKey = await newDataKey()
    const sealed = sealSync(dataKey, { content: SECRET }, 'journal')
    expect(JSON.stringify(sealed)).not.toContain('Turbina')
    await expect(unseal(dataKey, sealed, 'journal')).resolves.toEqual({ content: SECRET })
    await expect(unseal(dataKey, sealed, 'other')).rejects.toThrow()
  })
})

describe('the vault (the data key, wrapped twice)', () => {
  it('opens with the server key it was made with; another user\'s or a revoked one does not open it', async () => {
    const key = await serverKey()
    const { vault, dataKey } = await createVault('u1', key)
    expect(JSON.stringify(vault)).not.toContain(toBase64(dataKey.raw))
    const opened = await openWithServer(vault, key)
    expect(toBase64(opened.raw)).toBe(toBase64(dataKey.raw))
    await expect(openWithServer(vault, await serverKey())).rejects.toThrow()
    // the wrap names its user: a vault relabelled for another user does not open
    await expect(openWithServer({ ...vault, userId: 'u2' }, key)).rejects.toThrow()
  })

  it('with a PIN: the right PIN opens it, wrong ones count, and the fifth wrong one in a row says wipe', async () => {
    const { vault: plain, dataKey } = await createVault('u1', await serverKey())
    expect((await openWithPin(plain, '123456')).ok).toBe(false)
    let vault: Vault = await withPin(plain, dataKey, '482915', FAST)
    expect(JSON.stringify(vault)).not.toContain('482915')

    for (let strike = 1; strike < PIN_STRIKES; strike++) {
      const attempt = await openWithPin(vault, '000000')
      expect(attempt).toMatchObject({ ok: false, wipe: false, left: PIN_STRIKES - strike })
      vault = attempt.vault
      expect(vault.failures).toBe(strike)
    }
    // the right PIN before the last strike resets the count
    const right = await openWithPin(vault, '482915')
    if (!right.ok) throw new Error('the right PIN did not open the vault')
    expect(toBase64(right.dataKey.raw)).toBe(toBase64(dataKey.raw))
    expect(right.vault.failures).toBe(0)

    vault = right.vault
    let last
    for (let strike = 1; strike <= PIN_STRIKES; strike++) {
      last = await openWithPin(vault, '111111')
      vault = last.vault
    }
    expect(last).toMatchObject({ ok: false, wipe: true, left: 0 })
  })

  it('a changed PIN replaces the old one; the default is PBKDF2-SHA256 with 600 000 rounds and a random salt', async () => {
    const { vault, dataKey } = await createVault('u1', await serverKey())
    const first = await withPin(vault, dataKey, '246810', FAST)
    const second = await withPin(first, dataKey, '135791', FAST)
    expect((await openWithPin(second, '246810')).ok).toBe(false)
    expect((await openWithPin(second, '135791')).ok).toBe(true)
    expect(second.pin!.salt).not.toBe(first.pin!.salt)
    const strong = await withPin(vault, dataKey, '246810')
    expect(strong.pin!.iterations).toBe(PBKDF2_ITERATIONS)
    expect(PBKDF2_ITERATIONS).toBeGreaterThanOrEqual(600_000)
  })
})

describe('the sealed store', () => {
  it('keeps only ciphertext in the database, and the history works through it', async () => {
    const raw = memoryDb()
    const db = createSealedStore(raw, await newDataKey())
    const history = createOfflineHistory(db, 'u1', () => 10)
    const at = new Date().toISOString()
    await history.saveConversation({ id: 'c1', userId: 'u1', title: 'Mantención turbinas', model: 'qwen', systemPromptId: null, pinned: false, archived: false, messageCount: 1, createdAt: at, updatedAt: at })
    await history.saveMessages('c1', { total: 1, data: [{ id: 'm1', conversationId: 'c1', role: 'user', content: SECRET, status: 'complete', model: null, usage: null, createdAt: at }] })
    expect((await history.messages('c1'))?.data[0]?.content).toBe(SECRET)
    expect((await history.listPage({ offset: 0, limit: 10, q: 'rodamiento' })).data.map(c => c.id)).toEqual(['c1'])
    expect([...(await history.savedIds())]).toEqual(['c1'])
    const dump = JSON.stringify([...raw.dump().entries()])
    expect(dump).not.toMatch(/Turbina|rodamiento|Mantención/)
    for (const value of raw.dump().values()) expect(isSealed(value)).toBe(true)
  })

  it('reads plain records from before encryption, other keys\' data and moved records as absent', async () => {
    const raw = memoryDb()
    const dataKey = await newDataKey()
    const db = createSealedStore(raw, dataKey)
    await raw.set(['u1', 'messages', 'old'], { total: 1, data: [] })
    expect(await db.get(['u1', 'messages', 'old'])).toBeUndefined()
    await createSealedStore(raw, await newDataKey()).set(['u1', 'x'], 'from another key')
    expect(await db.get(['u1', 'x'])).toBeUndefined()
    await db.set(['u1', 'a'], 'mine')
    await raw.set(['u1', 'b'], await raw.get(['u1', 'a']))
    expect(await db.get(['u1', 'a'])).toBe('mine')
    expect(await db.get(['u1', 'b'])).toBeUndefined()
    expect(placeOf(['u1', 'a'])).toBe('["u1","a"]')
    expect((await db.entries(['u1'])).map(([key]) => key)).toEqual([['u1', 'a']])
  })

  it('chains concurrent updates of one key (no lost write across WebCrypto\'s awaits)', async () => {
    const db = createSealedStore(memoryDb(), await newDataKey())
    await Promise.all(Array.from({ length: 25 }, (_, i) => db.update<number[]>(['u1', 'list'], old => [...(old ?? []), i])))
    expect((await db.get<number[]>(['u1', 'list']))?.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i))
  })
})
