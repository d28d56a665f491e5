// `npm run dev:fake-ollama`: a labelled fake model on 127.0.0.1:11434 so the UI can be tried without Ollama.
// Env: PORT (11434), HOST (127.0.0.1), FAKE_DELAY_MS per token (40), FAKE_FIRST_TOKEN_MS (300),
// FAKE_TOKEN_COUNT (fixed `tokN` answers), FAKE_MODELS (comma-separated names), FAKE_CONCURRENCY (answers generated
// at once, the rest wait: a model that is the bottleneck; unlimited by default).
// A user message `bench N` is answered with N tokens `tok0 tok1 …` (bench/stream.mjs).
// `--rich` (or FAKE_RICH=1): answers carry a heading, a table with numbers and a code block, so a newcomer can
// judge how answers render (tables on a phone, highlighting) without a real model.
import { FakeOllama, type FakeModel } from './fake-ollama'

const env = process.env
const FAMILY = 'fake (EnergyApp test double)'
const names = (env.FAKE_MODELS || `fake-model:latest,${env.OLLAMA_MODEL || 'qwen2.5:3b-instruct'}`).split(',').map(s => s.trim()).filter(Boolean)
const models: FakeModel[] = names.map(name => ({ name, size: 1_000_000, family: FAMILY, parameterSize: '0B' }))

function reply(body: any): string {
  const messages: Array<{ role: string, content: string }> = body?.messages ?? []
  const last = [...messages].reverse().find(m => m.role === 'user')?.content ?? ''
  const bench = /^bench (\d+)$/.exec(last)
  if (bench) return Array.from({ length: Number(bench[1]) }, (_, i) => `tok${i}`).join(' ')
  // the auto-title call asks for a short title: answer with one
  if (/título/i.test(messages[0]?.content ?? '') && messages.length <= 2) return 'Conversación de prueba'
  const quoted = last.length > 120 ? `${last.slice(0, 120)}…` : last
  if (rich) return richReply(quoted)
  return `Esta es una **respuesta simulada** de *fake-model* (doble de pruebas de EnergyApp; no es un modelo real). `
    + `Recibí tu mensaje: «${quoted}».\n\nPara respuestas reales instala Ollama y ejecuta \`ollama pull qwen2.5:3b-instruct\`.\n\n`
    + `- El texto llega palabra por palabra.\n- Puedes detenerlo con el botón **Detener**.`
}

const rich = process.argv.includes('--rich') || env.FAKE_RICH === '1'

/** A Markdown-heavy fake answer: heading, list, a wide table with right-aligned numbers, code, a quote. */
function richReply(quoted: string): string {
  return [
    `## Respuesta simulada (fake-model, doble de pruebas)`,
    `Recibí tu mensaje: «${quoted}». Así se ven las respuestas con **tablas**, \`código\` y listas:`,
    `1. Revisar **rodamientos** y lubricación\n2. Medir *vibración* en cada turbina\n3. Registrar los resultados`,
    `| Planta | Región | Capacidad (MW) | Factor de planta | Horas de mantención |\n|---|---|---:|---:|---:|\n`
    + `| Antofagasta Solar | Antofagasta | 1.250,5 | 31,2 % | 120 |\n| Parque Eólico Taltal | Antofagasta | 99 | 38,9 % | 86 |\n`
    + `| Central Hidroeléctrica Rapel | O'Higgins | 377 | 45,0 % | 240 |`,
    '```python\ndef factor_de_planta(energia_mwh: float, capacidad_mw: float, horas: int = 8760) -> float:\n'
    + '    """Energía generada sobre la máxima posible."""\n    return energia_mwh / (capacidad_mw * horas)\n\n'
    + 'print(f"{factor_de_planta(3_420_000, 1250.5):.1%}")\n```',
    `> Nota: esta respuesta es fija; instala Ollama (\`ollama pull qwen2.5:3b-instruct\`) para respuestas reales.`,
  ].join('\n\n')
}

const tokenCount = env.FAKE_TOKEN_COUNT ? Number(env.FAKE_TOKEN_COUNT) : null
const fake = new FakeOllama({
  port: Number(env.PORT || 11434),
  host: env.HOST || '127.0.0.1',
  models,
  behaviour: {
    delayMs: Number(env.FAKE_DELAY_MS ?? 40),
    firstTokenDelayMs: Number(env.FAKE_FIRST_TOKEN_MS ?? 300),
    tokenCount,
    reply: tokenCount === null ? reply : null,
    concurrency: env.FAKE_CONCURRENCY ? Number(env.FAKE_CONCURRENCY) : null,
  },
})

await fake.start()
console.log(`fake-ollama: listening on ${fake.url} with models ${names.join(', ')} — answers are fake (EnergyApp test double)${rich ? ', rich Markdown' : ''}`)
// forget old requests so a long-running fake does not grow
setInterval(() => { fake.requests = fake.requests.slice(-100) }, 10_000).unref()
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => { fake.close().finally(() => process.exit(0)) })
