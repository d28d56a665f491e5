export default {
  network: 'No hay conexión con el servidor. Revisa tu red e inténtalo de nuevo.',
  server: 'El servidor tuvo un problema. Inténtalo de nuevo en un momento.',
  tooMany: 'Demasiados intentos, inténtalo en {seconds} s',
  tooManyNoTime: 'Demasiados intentos, inténtalo más tarde',
  forbidden: 'No tienes permiso para hacer esto.',
  notFound: 'No se encontró lo que buscabas.',
  badInput: 'Revisa los datos ingresados.',
  sessionExpired: 'Tu sesión terminó. Inicia sesión de nuevo.',
  unknown: 'Ocurrió un error inesperado.',
}
