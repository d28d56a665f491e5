/**
 * In production the app listens on loopback unless HOST says otherwise (Caddy in front is the way in): set before
 * Nitro's server entry reads HOST, which happens right after the plugins ran — `npm start` and
 * `node .output/server/index.mjs` alike.
 */
export default defineNitroPlugin(() => {
  const env = process.env // read at run time: the build must not fold NODE_ENV in
  if (env.NODE_ENV === 'production' && !env.HOST && !env.NITRO_HOST) env.HOST = '127.0.0.1'
})
