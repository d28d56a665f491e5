// `npm start`: build if the sources changed, then serve the built app with the embedded database.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { outputDir } from './build-state.mjs'
import { ensureBuild } from './ensure-build.mjs'

ensureBuild()
const port = process.env.PORT || '3000'
// production listens on loopback only unless HOST says otherwise (server/plugins/00.host.ts does the same)
const host = process.env.HOST || (process.env.NODE_ENV === 'production' ? '127.0.0.1' : '')
console.log(`energyapp: http://${host || 'localhost'}:${port}  (database: ${process.env.DATABASE_URL || 'file:./data/energyapp.db'})`)
const child = spawn(process.execPath, [join(outputDir(), 'server', 'index.mjs')], {
  stdio: 'inherit',
  env: { PORT: port, ...process.env, ...(host ? { HOST: host } : {}) },
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', code => process.exit(code ?? 0))
