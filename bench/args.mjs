// Command-line options of a hand-run bench: node:util's parseArgs, plus `--help` (prints the bench's opening comment,
// which says how to run it and what it prints) and, for an unknown option, one line naming it instead of a stack trace.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { parseArgs } from 'node:util'

function usage(script) {
  const lines = []
  for (const line of readFileSync(script, 'utf8').split('\n')) {
    if (line.startsWith('#!')) continue
    if (!line.startsWith('//')) break
    lines.push(line.replace(/^\/\/ ?/, ''))
  }
  return lines.join('\n')
}

/** `parseArgs(config)` for the running bench, with `--help`/`-h` and a readable error. */
export function benchArgs(config) {
  const script = process.argv[1]
  if (process.argv.slice(2).some(arg => arg === '--help' || arg === '-h')) {
    console.log(usage(script))
    process.exit(0)
  }
  try {
    return parseArgs(config)
  }
  catch (error) {
    console.error(`${basename(script)}: ${error.message}\n\n${usage(script)}`)
    process.exit(2)
  }
}
