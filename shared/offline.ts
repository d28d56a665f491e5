import * as v from 'valibot'

/** The offline cache (API.md "Auth": GET /api/auth/offline-key). */

/** A device id: random, made by the browser once per device (URL-safe, 16–64 characters). */
export const DeviceId = v.pipe(
  v.string('must be a string'),
  v.regex(/^[\w-]{16,64}$/, 'must be 16 to 64 letters, digits, - or _'),
)

export const OfflineKeyQuery = v.object({ device: DeviceId })

/** The answer: a 256-bit AES key (base64url) that wraps this device's offline data key for this user. */
export interface OfflineKeyAnswer { key: string, version: 1 }

/** How many conversations a device keeps for offline reading unless the user chooses otherwise. */
export const DEFAULT_OFFLINE_CONVERSATIONS = 200

/** The browser's IndexedDB database that holds every offline record (utils/idb.ts). */
export const OFFLINE_DB_NAME = 'energyapp-offline'

/** The device PIN that unlocks the offline cache after a reload without the server: 6 to 12 digits. */
export const PIN_MIN = 6
export const PIN_MAX = 12
export const isValidPin = (pin: string) => new RegExp(`^\\d{${PIN_MIN},${PIN_MAX}}$`).test(pin)
/** Wrong PINs in a row that wipe the offline cache. */
export const PIN_STRIKES = 5
