export default {
  network: 'Cannot reach the server. Check your network and try again.',
  server: 'The server had a problem. Try again in a moment.',
  tooMany: 'Too many attempts, try again in {seconds} s',
  tooManyNoTime: 'Too many attempts, try again later',
  forbidden: 'You are not allowed to do this.',
  notFound: 'We could not find what you were looking for.',
  badInput: 'Check what you entered.',
  sessionExpired: 'Your session ended. Please sign in again.',
  unknown: 'An unexpected error happened.',
}
