/** Admin → Canales (`GET /api/admin/channels`): the SMS channel's state, typed once for server and store. */

export type SmsAddressChannel = 'sms' | 'whatsapp'

/** A reply that could not be sent (Twilio refused it or kept failing); `retry` puts it back in line. */
export interface ApiChannelFailedSend {
  id: string
  to: string
  channel: SmsAddressChannel
  userId: string | null
  userName: string | null
  /** Parts Twilio accepted / parts of the reply. */
  sent: number
  parts: number
  attempts: number
  lastError: string | null
  createdAt: string
  updatedAt: string
}

export interface ApiSmsChannel {
  /** TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER are set. */
  configured: boolean
  phoneNumber: string | null
  /** Where to point the Twilio number's "A message comes in" webhook (HTTP POST). */
  webhookUrls: string[]
  lastInbound: { at: string, channel: SmsAddressChannel, userId: string | null, userName: string | null } | null
  lastOutbound: { at: string, channel: SmsAddressChannel, to: string } | null
  /** Jobs waiting or running (answers being produced, replies being sent). */
  pending: number
  /**
   * Of those, the ones whose last try failed and that wait for the next (Twilio or the model unreachable): they
   * are not failed yet, but replies are late. `lastError` and `at` are the newest failed try's.
   */
  retrying: { count: number, lastError: string | null, at: string | null }
  failed: ApiChannelFailedSend[]
}

export interface ApiChannels { sms: ApiSmsChannel }
