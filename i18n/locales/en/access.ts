export default {
  open: 'Access',
  openFor: 'See who opened this conversation',
  title: 'Access to this conversation',
  description: 'Who besides you opened or moved this conversation, and when. Every read is recorded.',
  read: 'Opened the messages',
  reassigned: 'Moved the conversation',
  empty: 'Nobody else has opened this conversation.',
  failed: 'The access log could not be loaded.',
  deletedUser: 'Deleted user',
  more: 'And {count} older accesses.',
  unseen: 'Someone opened it since you last looked',
}
