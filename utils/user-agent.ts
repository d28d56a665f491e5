/** "Chrome · Windows" from a User-Agent header: enough to recognise one's own devices in the session list. */
export function describeUserAgent(ua: string | null | undefined): { browser: string | null, os: string | null } {
  if (!ua) return { browser: null, os: null }
  const browser = /Edg\//.test(ua) ? 'Edge'
    : /OPR\/|Opera/.test(ua) ? 'Opera'
      : /Firefox\//.test(ua) ? 'Firefox'
        : /(Chrome|Chromium|CriOS)\//.test(ua) ? 'Chrome'
          : /Safari\//.test(ua) ? 'Safari'
            : /curl\//.test(ua) ? 'curl'
              : null
  const os = /Android/.test(ua) ? 'Android'
    : /iPhone|iPad|iPod/.test(ua) ? 'iOS'
      : /Windows/.test(ua) ? 'Windows'
        : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
          : /CrOS/.test(ua) ? 'ChromeOS'
            : /Linux/.test(ua) ? 'Linux'
              : null
  return { browser, os }
}
