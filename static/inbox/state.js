// What the page knows: conversations by id (shape C), loaded threads, unread counts. Lists are derived from it.
const initial = JSON.parse(document.getElementById("inbox-initial").textContent);

export const inboxNames = JSON.parse(document.getElementById("inbox-names").textContent);
// Unread counts live in this tab's session storage, so that a reload keeps them.
const UNREAD_KEY = "supportdesk.inbox.unread";

function storedUnread() {
  try {
    return new Map(JSON.parse(sessionStorage.getItem(UNREAD_KEY) || "[]"));
  } catch {
    return new Map();
  }
}

export const state = {
  me: initial.me,
  maxChars: initial.message_max_chars,
  conversations: new Map(),
  messages: new Map(), // conversation id -> Map(message key -> message); key is the id, or client_id while pending
  hasEarlier: new Set(), // conversation ids with older messages than the ones loaded
  unread: storedUnread(),
  selectedId: null,
  // The labels she may use: each inbox's (`inbox_id`) and the global ones (`inbox_id` null).
  labels: initial.labels || [],
  ticketFilter: sessionStorage.getItem("supportdesk.inbox.ticket-filter") || "new",
  // Socket updates seen per conversation: an HTTP answer that started before one of them is older than it.
  updates: new Map(),
};

for (const conversation of initial.conversations) state.conversations.set(conversation.id, conversation);

export function upsertConversation(conversation) {
  const known = state.conversations.get(conversation.id);
  state.conversations.set(conversation.id, known ? { ...known, ...conversation } : conversation);
  return known;
}

export function noteUpdate(conversationId) {
  state.updates.set(conversationId, (state.updates.get(conversationId) || 0) + 1);
}

// A mark to compare with later: did the socket bring news of a conversation while an HTTP call was out?
export function updatesMark() {
  return new Map(state.updates);
}

export function changedSince(mark, conversationId) {
  return (state.updates.get(conversationId) || 0) !== (mark.get(conversationId) || 0);
}

// Replaces the open conversations with a list fetched after a reconnect. Kept as they are: ended ones, the
// selected one (its detail is fetched again), and any the socket updated while the list was on its way.
export function replaceOpenConversations(conversations, mark) {
  const fresh = new Map();
  for (const conversation of conversations) {
    const local = state.conversations.get(conversation.id);
    fresh.set(conversation.id, local && changedSince(mark, conversation.id) ? local : conversation);
  }
  for (const [id, conversation] of state.conversations) {
    if (fresh.has(id)) continue;
    // An offline message or e-mail ticket missing from the list is no longer open: resolved meanwhile.
    if (conversation.mail && id !== state.selectedId && !changedSince(mark, id)) continue;
    if (conversation.status === "ended" || id === state.selectedId || changedSince(mark, id)) {
      fresh.set(id, conversation);
    }
  }
  state.conversations = fresh;
}

const byRequested = (a, b) => Date.parse(a.requested_at || a.created_at) - Date.parse(b.requested_at || b.created_at);

export function isMine(conversation) {
  return conversation.assignee?.id === state.me.id;
}

// An offline message or e-mail ticket (answered by mail): its state is the ticket's, never the chat's.
export function ticketStage(conversation) {
  const ticket = conversation.ticket;
  if (!conversation.mail || !ticket || ticket.status === "resolved") return null;
  if (ticket.status === "pending") return "pending";
  return ticket.first_response_at || conversation.first_response_at ? "open" : "new";
}

// Can the operator act on it (reply, transfer, resolve)? A chat she holds; a mail ticket nobody else holds.
export function canAct(conversation) {
  if (conversation.mail) return ticketStage(conversation) !== null && (!conversation.assignee || isMine(conversation));
  return conversation.status === "active" && isMine(conversation);
}

export function lists() {
  const open = [...state.conversations.values()].filter((c) => c.status !== "ended").sort(byRequested);
  const tickets = [...state.conversations.values()].filter((c) => ticketStage(c) !== null).sort(byRequested);
  return {
    queue: open.filter((c) => c.status === "queued"),
    mine: open.filter((c) => c.status === "active" && isMine(c)),
    all: open,
    tickets: {
      new: tickets.filter((c) => ticketStage(c) === "new"),
      open: tickets.filter((c) => ticketStage(c) === "open"),
      pending: tickets.filter((c) => ticketStage(c) === "pending"),
    },
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
  // A frame without the mail's details (an ack, a replay) keeps what the page already knew of them.
  const known = thread.get(message.id);
  if (known?.mail && !message.mail) message = { ...message, mail: known.mail };
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

export function saveUnread() {
  for (const id of state.unread.keys()) {
    const conversation = state.conversations.get(id);
    if (conversation?.status !== "active" && !(conversation && ticketStage(conversation))) state.unread.delete(id);
  }
  sessionStorage.setItem(UNREAD_KEY, JSON.stringify([...state.unread]));
}
