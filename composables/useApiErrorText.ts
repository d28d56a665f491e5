import { useI18n } from 'vue-i18n'

/**
 * Turns an API error into a sentence in the user's language, from its status and its stable `data.reason`
 * code (never from the server's English message). `byStatus` gives the screen's own wording for the statuses
 * it expects (401 on login means "wrong email or password", on a password change "wrong password").
 */
export function useApiErrorText() {
  const { t, te } = useI18n()
  return function errorText(error: unknown, byStatus: Partial<Record<number, string>> = {}): string {
    if (!isApiError(error)) return t('errors.unknown')
    const { statusCode, reason } = error
    if (statusCode === 0) return t('errors.network')
    if (statusCode === 429) return error.retryAfter ? t('errors.tooMany', { seconds: error.retryAfter }) : t('errors.tooManyNoTime')
    const own = byStatus[statusCode]
    if (own) return own
    if (reason && te(`errors.reason.${reason}`)) return t(`errors.reason.${reason}`)
    if (statusCode >= 500) return t('errors.server')
    if (statusCode === 401) return t('errors.sessionExpired')
    if (statusCode === 403) return t('errors.forbidden')
    if (statusCode === 404) return t('errors.notFound')
    if (statusCode === 400 || statusCode === 413) return t('errors.badInput')
    return t('errors.unknown')
  }
}

/**
 * A refused new password in the user's language: the rule it broke (`data.reason` `password-*`: too short, too
 * common, holds the email, too few different characters), or all the rules in one sentence for an older server.
 */
export function usePasswordErrorText() {
  const { t, te } = useI18n()
  return function passwordText(error: unknown): string {
    const reason = isApiError(error) ? error.reason : null
    return reason?.startsWith('password-') && te(`errors.reason.${reason}`) ? t(`errors.reason.${reason}`) : t('auth.register.weak')
  }
}
