export default {
  close: 'Cerrar',
  cancel: 'Cancelar',
  confirm: 'Confirmar',
  save: 'Guardar',
  copy: 'Copiar',
  copied: 'Copiado',
  copyFailed: 'No se pudo copiar. Selecciona el texto y cópialo a mano.',
  download: 'Descargar',
  loading: 'Cargando…',
  showPassword: 'Mostrar contraseña',
  hidePassword: 'Ocultar contraseña',
  retry: 'Reintentar',
}
