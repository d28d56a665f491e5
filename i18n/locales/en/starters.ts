export default {
  title: 'Suggestions for the empty chat',
  description: 'Up to {max} example questions everyone sees when they open a new conversation. One per line; leave it empty to show none.',
  count: '{count} of {max} suggestions',
  tooMany: 'More than {max} lines: remove some.',
  tooLong: 'Each suggestion can be at most {max} characters.',
  save: 'Save suggestions',
  saved: 'Suggestions saved.',
}
