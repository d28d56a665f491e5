/** Messages per page of a conversation (the newest first page, and each older page). */
export const MESSAGE_PAGE = 50

/**
 * The two reads that open a conversation: the conversation and its newest page of messages. The chat store asks
 * for them; the sign-in guard starts them early on a page load that lands on a conversation (`readEarly`).
 */
export const conversationReads = (id: string) => [
  [`/api/conversations/${id}`, undefined],
  [`/api/conversations/${id}/messages`, { limit: MESSAGE_PAGE }],
] as const
