/**
 * The title the server gives a conversation nobody has named yet (API.md `conversation.title`). The first exchange
 * replaces it: the model's short title, or the question's first words. Clients show it in the reader's language.
 */
export const UNNAMED_TITLE = 'Nueva conversación'

/** A title that names nothing (the placeholder, or blank): the UI shows its own "untitled" text instead. */
export const isUnnamed = (title: string | null | undefined) => !title?.trim() || title === UNNAMED_TITLE
