import type { Transporter } from 'nodemailer'
import { trackWork } from './shutdown'

/** One outgoing mail: plain text for every client, simple HTML for the rest. */
export interface Mail { to: string, subject: string, text: string, html: string }

let transport: Transporter | undefined

/** Email is on when SMTP_URL is set (read at start-up). */
export const mailEnabled = () => !!useConfig().smtpUrl

/** The email routes do not exist without SMTP: 404, as for any unknown route. */
export function requireMail() {
  if (!mailEnabled()) throw createError({ statusCode: 404, message: 'Email is not configured on this server' })
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

/**
 * SMTP_URL as nodemailer reads it (STARTTLS when offered; `smtps://` for TLS from the start; URL parameters like
 * `?tls.rejectUnauthorized=false` or `?ignoreTLS=true` pass through). A relay on this machine (a local Postfix, a
 * test server) is not asked for a trusted certificate: the mail never leaves the host on its way there.
 */
async function transporter() {
  if (transport) return transport
  // loaded with the first mail: a server without SMTP (or before its first mail) never pays its ~60 modules at start
  const { default: nodemailer } = await import('nodemailer')
  const url = useConfig().smtpUrl!
  const local = LOOPBACK.has(new URL(url).hostname)
  return (transport ??= nodemailer.createTransport(local ? { url, tls: { rejectUnauthorized: false } } : url))
}

/** Sends one mail through SMTP; throws when the server refuses it. */
export async function sendMail(mail: Mail) {
  await (await transporter()).sendMail({ from: useConfig().mailFrom, ...mail })
}

/**
 * Sends without making the request wait for SMTP (a slow or absent mail server must not show in the answer's
 * timing); a failure is logged with the purpose, never the link. Shutdown waits for mails still on their way.
 */
export function sendInBackground(mail: Mail, purpose: string) {
  void trackWork(sendMail(mail).catch((error: unknown) => {
    log.error('mail_failed', { purpose, error: (error as Error).message })
  }))
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)

/** A short mail in Spanish: greeting, one paragraph, the link as a button and as text, and a closing note. */
function linkMail(to: string, subject: string, name: string, lead: string, action: string, link: string, note: string): Mail {
  const text = `Hola, ${name}:\n\n${lead}\n\n${link}\n\n${note}\n\n— EnergyApp\n`
  const html = `<!doctype html><html lang="es"><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1a">
<p>Hola, ${escapeHtml(name)}:</p>
<p>${escapeHtml(lead)}</p>
<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:10px 18px;background:#0b6bcb;color:#fff;border-radius:6px;text-decoration:none">${escapeHtml(action)}</a></p>
<p style="font-size:13px;color:#555">Si el botón no funciona, copia este enlace en tu navegador:<br>${escapeHtml(link)}</p>
<p style="font-size:13px;color:#555">${escapeHtml(note)}</p>
<p>— EnergyApp</p>
</body></html>`
  return { to, subject, text, html }
}

const linkTo = (path: string, token: string) => `${useConfig().publicOrigin}${path}?token=${encodeURIComponent(token)}`

export function verificationMail(to: string, name: string, token: string): Mail {
  return linkMail(to, 'Confirma tu correo en EnergyApp', name,
    'Gracias por crear tu cuenta en EnergyApp. Para activarla, confirma tu correo con este enlace (vale 24 horas y sirve una sola vez):',
    'Confirmar mi correo', linkTo('/verify-email', token),
    'Si no creaste esta cuenta, ignora este mensaje: sin confirmar, nadie puede entrar con ella.')
}

export function resetMail(to: string, name: string, token: string): Mail {
  return linkMail(to, 'Restablece tu contraseña de EnergyApp', name,
    'Recibimos una solicitud para restablecer tu contraseña. Elige una nueva con este enlace (vale 30 minutos y sirve una sola vez):',
    'Elegir una nueva contraseña', linkTo('/reset-password', token),
    'Si no lo pediste, ignora este mensaje: tu contraseña no cambia. Al usar el enlace se cierran todas tus sesiones.')
}
