// Every request body is read here, at most MAX_BODY_BYTES of it, before any route sees it: a larger body (declared
// or chunked) is a 413 as soon as the limit is passed, on every route, whatever sits in front of the app.
export default defineEventHandler(async (event) => {
  const req = event.node.req
  const declared = Number(req.headers['content-length'] || 0)
  const chunked = /\bchunked\b/i.test(String(req.headers['transfer-encoding'] ?? ''))
  if (!declared && !chunked) return
  try {
    if (declared > MAX_BODY_BYTES) throw bodyTooLarge()
    // h3's readRawBody/readBody take the body from here instead of reading the request again
    event._requestBody = await readBodyLimited(req) as unknown as BodyInit // h3 takes a Buffer as it is
  }
  catch (error) {
    if (isError(error) && error.statusCode === 413 && !req.complete) {
      // the client may still be sending: the rest is read into nothing (closing now could cut the 413 off before
      // the client reads it), for a few seconds at most
      req.resume()
      const timer = setTimeout(() => req.socket?.destroy(), DISCARD_MS).unref()
      req.once('end', () => clearTimeout(timer))
    }
    throw error
  }
})

// how long a client that sent too much may keep sending (into nothing) to read its 413
const DISCARD_MS = 10_000
