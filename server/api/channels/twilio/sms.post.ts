import { twilioWebhook } from '../../../services/channels/webhook'

/** Twilio's incoming-message webhook (API.md "SMS channel (Twilio)"); the signature is the guard. */
export default defineEventHandler(event => twilioWebhook(event))
