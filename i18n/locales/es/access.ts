export default {
  open: 'Accesos',
  openFor: 'Ver quién abrió esta conversación',
  title: 'Accesos a esta conversación',
  description: 'Quién, además de ti, abrió o movió esta conversación, y cuándo. Cada lectura queda registrada.',
  read: 'Abrió los mensajes',
  reassigned: 'Movió la conversación',
  empty: 'Nadie más ha abierto esta conversación.',
  failed: 'No se pudo cargar el registro de accesos.',
  deletedUser: 'Usuario eliminado',
  more: 'Y {count} accesos más antiguos.',
  unseen: 'Alguien la abrió desde tu última revisión',
}
