// `npm start`: build if the sources changed, then serve the built app with the embedded database.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { outputDir } from './build-state.mjs'
import { ensureBuild } from './ensure-build.mjs'

// the build's ~190-line file listing is noise before the URL: only its errors and warnings are shown
ensureBuild({ quiet: true })
const port = process.env.PORT || '3000'
// production listens on loopback only unless HOST says otherwise (server/plugins/00.host.ts does the same)
const host = process.env.HOST || (process.env.NODE_ENV === 'production' ? '127.0.0.1' : '')
const url = `http://${host || 'localhost'}:${port}`
console.log(`energyapp: ${url}  (database: ${process.env.DATABASE_URL || 'file:./data/energyapp.db'})`)
const child = spawn(process.execPath, [join(outputDir(), 'server', 'index.mjs')], {
  stdio: 'inherit',
  // the origin the server checks and logs is the one it serves, unless PUBLIC_ORIGIN says otherwise (a proxy)
  env: { PORT: port, PUBLIC_ORIGIN: url, ...process.env, ...(host ? { HOST: host } : {}) },
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', code => process.exit(code ?? 0))
