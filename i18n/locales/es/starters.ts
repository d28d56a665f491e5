export default {
  title: 'Sugerencias para el chat vacío',
  description: 'Hasta {max} preguntas de ejemplo que cada persona ve al abrir una conversación nueva. Una por línea; deja el cuadro vacío para no mostrar ninguna.',
  count: '{count} de {max} sugerencias',
  tooMany: 'Son más de {max} líneas: quita algunas.',
  tooLong: 'Cada sugerencia puede tener como máximo {max} caracteres.',
  save: 'Guardar sugerencias',
  saved: 'Sugerencias guardadas.',
}
