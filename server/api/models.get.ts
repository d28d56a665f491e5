// The models Ollama has; 503 when it cannot be reached.
export default defineEventHandler(async (event) => {
  await requireUser(event)
  try { return { data: await listModels() } }
  catch { throw createError({ statusCode: 503, statusMessage: 'Service Unavailable', message: 'The model server cannot be reached', data: { reason: 'ollama-down' } }) }
})
