import { twilioWebhook } from '../services/channels/webhook'

/** The same webhook at the address the platform this app replaces used (`/twilio_webhook`). */
export default defineEventHandler(event => twilioWebhook(event))
