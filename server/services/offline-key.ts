import { hkdfSync } from 'node:crypto'
import type { OfflineKeyAnswer } from '#shared/offline'

/**
 * The key that wraps a device's offline data key, for one user on one device: derived (HKDF-SHA256) from the
 * server secret, the user id and the device id, so nothing is stored and every user and device gets its own.
 * It is handed only to a live session of that user: after sign-out, a remote revoke or deactivation the route
 * answers 401 and the cache on a lost device opens only with its PIN.
 */
export function offlineKeyFor(userId: string, deviceId: string): OfflineKeyAnswer {
  const key = Buffer.from(hkdfSync('sha256', useConfig().sessionSecret, 'energyapp-offline-key', `v1:${userId}:${deviceId}`, 32))
  return { key: key.toString('base64url'), version: 1 }
}
