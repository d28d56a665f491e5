/**
 * The seam through which account code (phone verification) sends a text message: the Twilio channel
 * (`channels/twilio.ts`) when TWILIO_* are set; "not configured" otherwise, and callers refuse what needs it.
 */
export { sendSms, type SmsResult, smsConfigured } from './channels/twilio'
