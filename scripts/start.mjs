// `npm start`: build if the sources changed, then serve the built app with the embedded database.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { outputDir } from './build-state.mjs'
import { ensureBuild } from './ensure-build.mjs'

ensureBuild()
const port = process.env.PORT || '3000'
console.log(`energyapp: http://localhost:${port}  (database: ${process.env.DATABASE_URL || 'file:./data/energyapp.db'})`)
const child = spawn(process.execPath, [join(outputDir(), 'server', 'index.mjs')], {
  stdio: 'inherit',
  env: { PORT: port, ...process.env },
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', code => process.exit(code ?? 0))
