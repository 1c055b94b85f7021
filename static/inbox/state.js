// What the page knows: conversations by id (shape C), loaded threads, unread counts. Lists are derived from it.
const initial = JSON.parse(document.getElementById("inbox-initial").textContent);

export const inboxNames = JSON.parse(document.getElementById("inbox-names").textContent);

export const state = {
  me: initial.me,
  maxChars: initial.message_max_chars,
  conversations: new Map(),
  messages: new Map(), // conversation id -> Map(message key -> message); key is the id, or client_id while pending
  loaded: new Set(), // conversation ids whose history was fetched
  unread: new Map(),
  selectedId: null,
};

for (const conversation of initial.conversations) state.conversations.set(conversation.id, conversation);

export function upsertConversation(conversation) {
  const known = state.conversations.get(conversation.id);
  state.conversations.set(conversation.id, known ? { ...known, ...conversation } : conversation);
  return known;
}

// Replaces every open conversation with a fresh list (after a reconnect). Ended ones are kept, and so is the
// selected one: its detail is fetched again, which brings its own new state.
export function replaceOpenConversations(conversations) {
  const fresh = new Map(conversations.map((c) => [c.id, c]));
  for (const [id, conversation] of state.conversations) {
    if (!fresh.has(id) && (conversation.status === "ended" || id === state.selectedId)) fresh.set(id, conversation);
  }
  state.conversations = fresh;
}

const byRequested = (a, b) => Date.parse(a.requested_at || a.created_at) - Date.parse(b.requested_at || b.created_at);

export function isMine(conversation) {
  return conversation.assignee?.id === state.me.id;
}

export function lists() {
  const open = [...state.conversations.values()].filter((c) => c.status !== "ended").sort(byRequested);
  return {
    queue: open.filter((c) => c.status === "queued"),
    mine: open.filter((c) => c.status === "active" && isMine(c)),
    all: open,
  };
}

export function activeChatCount() {
  return lists().mine.length;
}

export function threadOf(conversationId) {
  if (!state.messages.has(conversationId)) state.messages.set(conversationId, new Map());
  return state.messages.get(conversationId);
}

export function addMessage(message) {
  const thread = threadOf(message.conversation_id);
  if (message.client_id && thread.has(`c:${message.client_id}`)) thread.delete(`c:${message.client_id}`);
  const isNew = !thread.has(message.id);
  thread.set(message.id, message);
  return isNew;
}

export function sortedMessages(conversationId) {
  return [...threadOf(conversationId).values()].sort((a, b) => {
    if (a.pending !== b.pending) return a.pending ? 1 : -1;
    return a.pending ? 0 : a.id - b.id;
  });
}

export function newestMessageId(conversationId) {
  let newest = null;
  for (const message of threadOf(conversationId).values()) {
    if (!message.pending && (newest === null || message.id > newest)) newest = message.id;
  }
  return newest;
}
