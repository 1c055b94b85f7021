// The agent inbox: wires the socket, the lists, the thread, the contact column, dialogs and shortcuts together.
import { Alerts } from "./alerts.js";
import { Composer } from "./composer.js";
import { setFaviconBadge } from "./favicon.js";
import { contactName, count, dateTime, shortDate, t } from "./format.js";
import { api, toast } from "./http.js";
import { bindLabelFilter, bindLabelPicker, closePicker, renderLabelFilter } from "./labels.js";
import { navigationOrder, onListClick, renderLists, tickTimers } from "./lists.js";
import { bindSearch, closeSearch, focusSearch } from "./search.js";
import { bindShortcuts } from "./shortcuts.js";
import { AgentSocket } from "./socket.js";
import {
  activeChatCount,
  addMessage,
  canAct,
  inboxNames,
  isMine,
  changedSince,
  noteUpdate,
  saveUnread,
  state,
  threadOf,
  updatesMark,
  upsertConversation,
} from "./state.js";
import { Sync } from "./sync.js";
import { renderHeader, renderMessages, showEmpty, showTyping, tickThreadSla } from "./thread.js";
import { applySlaAlert, applyTicket, bindTicketBar, loadFollowup } from "./ticketbar.js";
import { bindTransfer, openTransfer } from "./transfer.js";

const $ = (id) => document.getElementById(id);
const composerForm = $("composer");
const pending = { claim: null, transfer: null, action: null };
let visitorTypingTimer = null;
const sync = new Sync({ render, refresh: refreshConversation, alertQueued: alertNewChat });

const banner = $("banner");
const bannerRetry = $("banner-retry");
bannerRetry.textContent = t("retry_now");

function onSocketState(kind, info) {
  document.body.dataset.connection = kind;
  banner.classList.remove("ok", "bad");
  bannerRetry.hidden = true;
  if (kind === "open") {
    if (info.reconnected) {
      banner.hidden = false;
      banner.classList.add("ok");
      $("banner-text").textContent = t("reconnected");
      setTimeout(() => {
        if (socket.isOpen) banner.hidden = true;
      }, 2500);
      sync.start();
    } else {
      banner.hidden = true;
    }
  } else if (kind === "waiting") {
    banner.hidden = false;
    $("banner-text").textContent = t("connection_lost", { seconds: info.seconds });
    bannerRetry.hidden = false;
  } else if (kind === "connecting" && socket.everOpened) {
    banner.hidden = false;
    $("banner-text").textContent = t("connecting");
  } else if (kind === "fatal") {
    banner.hidden = false;
    banner.classList.add("bad");
    $("banner-text").textContent = t("signed_out");
  }
}

const socket = new AgentSocket({ onFrame: handleFrame, onState: onSocketState });
bannerRetry.addEventListener("click", () => socket.retryNow());
const composer = new Composer({ send: (frame) => socket.send(frame) });

const alerts = new Alerts({
  soundBox: $("pref-sound"),
  notifyBox: $("pref-notify"),
  blockedMark: $("notify-blocked"),
});

// --- Rendering --------------------------------------------------------------------------------

function renderPresence() {
  for (const button of document.querySelectorAll(".presence-btn")) {
    const online = state.me.status === "online";
    button.setAttribute("aria-pressed", String((button.dataset.presence === "online") === online));
  }
  const active = activeChatCount();
  const load = $("my-load");
  load.textContent = t("load", { active: count(active), max: count(state.me.max_chats) });
  load.classList.toggle("full", active >= state.me.max_chats);
}

function render() {
  saveUnread();
  const derived = renderLists();
  renderPresence();
  // The tab says how many need her: chats waiting in the queue plus unread visitor messages (docs/inbox.md).
  let unread = derived.queue.length;
  for (const n of state.unread.values()) unread += n;
  const badge = unread ? (unread > 99 ? `${count(99)}+` : count(unread)) : "";
  document.title = `${badge ? `(${badge}) ` : ""}${document.title.replace(/^\([^)]*\) /, "")}`;
  setFaviconBadge(badge);
  const selected = state.conversations.get(state.selectedId);
  if (selected) renderHeader(selected);
}

// --- Frames from the server ------------------------------------------------------------------

function mergeConversations(conversations = []) {
  for (const conversation of conversations) {
    noteUpdate(conversation.id);
    upsertConversation(conversation);
  }
}

function handleFrame(frame) {
  if (applyFrame(frame)) render();
}

// Applies a frame to the state; false when the lists and header need no redraw (an unknown frame; typing, which
// shows on its own line). A `sync` applies the events it replays, and the page is drawn once for them all.
function applyFrame(frame) {
  switch (frame.type) {
    case "welcome":
      sync.onWelcome(frame.queue || []);
      if (frame.operator) Object.assign(state.me, pick(frame.operator, ["status", "max_chats", "name"]));
      if (frame.labels) {
        state.labels = frame.labels;
        renderLabelFilter();
      }
      mergeConversations(frame.queue);
      mergeConversations(frame.conversations);
      mergeConversations(frame.tickets);
      break;
    case "conversation.queued":
      onQueued(frame.conversation);
      break;
    case "conversation.updated":
      onUpdated(frame.conversation);
      break;
    case "message.new":
    case "message.ack":
      onMessage(frame.message, frame.type);
      break;
    case "message.read":
      onRead(frame);
      break;
    case "message.delivery":
      onDelivery(frame);
      break;
    case "typing":
      onVisitorTyping(frame);
      return false;
    case "sync.done":
      sync.finish();
      break;
    case "ticket.updated":
      if (frame.ticket) onTicketUpdated(frame.ticket);
      break;
    case "sla.alert":
      applySlaAlert(frame, { quiet: sync.active });
      break;
    case "survey.answered":
      onSurveyAnswered(frame);
      break;
    case "operator.updated":
      if (frame.operator?.id === state.me.id) Object.assign(state.me, pick(frame.operator, ["status", "max_chats"]));
      break;
    case "sync":
      for (const event of frame.events || []) applyFrame(event);
      break;
    case "error":
      onError(frame);
      break;
    default:
      return false;
  }
  return true;
}

function pick(source, keys) {
  return Object.fromEntries(keys.filter((key) => source[key] !== undefined).map((key) => [key, source[key]]));
}

function onQueued(conversation) {
  noteUpdate(conversation.id);
  const known = upsertConversation(conversation);
  if (!known || known.status !== "queued") sync.onQueued(conversation);
}

function alertChat(conversation, title, body) {
  alerts.newChat({ title, body, tag: `conversation-${conversation.id}`, onClick: () => select(conversation.id) });
}

function alertNewChat(conversation) {
  const inbox = inboxNames[String(conversation.inbox_id)] || "";
  alertChat(conversation, t("new_chat_title"), t("new_chat_body", { name: contactName(conversation), inbox }));
}

function onUpdated(conversation) {
  noteUpdate(conversation.id);
  const before = upsertConversation(conversation);
  const after = state.conversations.get(conversation.id);
  const wasMine = before && isMine(before);
  // Given to me by a colleague's transfer or by automatic assignment (not my own claim, not the chat on screen).
  const handedToMe = !wasMine && isMine(after) && after.status === "active" && pending.claim !== conversation.id;
  if (handedToMe && conversation.id !== state.selectedId && !sync.active) {
    alertChat(after, t("assigned_title"), contactName(after));
  }
  if (pending.claim === conversation.id && isMine(after)) {
    pending.claim = null;
    if (state.selectedId === conversation.id) composer.focus();
  }
  if (pending.transfer === conversation.id && wasMine && !isMine(after)) {
    pending.transfer = null;
    toast(t("transferred"));
  }
  if (after.status === "ended") state.unread.delete(conversation.id);
  // The visitor filled in the pre-chat form: the contact column shows their name and e-mail.
  if (conversation.id === state.selectedId && before && before.contact?.name !== after.contact?.name) {
    loadContact(conversation.id, { keepDraft: true });
  }
}

// The contact column lists the surveys of the open conversation and of the contact's earlier ones.
function onSurveyAnswered(frame) {
  const open = state.conversations.get(state.selectedId);
  const answered = state.conversations.get(frame.conversation_id);
  const sameContact = open && answered && open.contact?.id === answered.contact?.id;
  if (frame.conversation_id === state.selectedId || sameContact) loadContact(state.selectedId, { keepDraft: true });
}

// The contact column lists the contact's tickets with their status: a change the inbox is told about (a resolve,
// the ticket bar, a colleague) redraws it.
function onTicketUpdated(ticket) {
  applyTicket(ticket);
  const shown = $("contact-pane").querySelector(`[data-ticket-id="${Number(ticket.id)}"]`);
  if (shown && shown.dataset.ticketStatus !== ticket.status && state.selectedId) {
    loadContact(state.selectedId, { keepDraft: true });
  }
}

function onMessage(message, type) {
  if (!message) return;
  const isNew = addMessage(message);
  const conversation = state.conversations.get(message.conversation_id);
  if (conversation) {
    conversation.last_message = { body: message.body, sender: message.sender, created_at: message.created_at };
  }
  const open = message.conversation_id === state.selectedId;
  if (open) {
    renderMessages(state.selectedId);
    if (message.sender === "visitor") showTyping("");
    sendRead();
  }
  // Unread: in a conversation she is not looking at (another one, or this one while the tab is hidden).
  if ((!open || document.hidden) && isNew && type === "message.new" && message.sender === "visitor") {
    state.unread.set(message.conversation_id, (state.unread.get(message.conversation_id) || 0) + 1);
  }
}

// --- Read receipts (message.read) ----------------------------------------------------------------

const readSent = new Map(); // conversation id → the newest message this page said she has read

// She sees the open conversation (the tab visible): the visitor is told up to which of their messages.
function sendRead() {
  const conversation = state.conversations.get(state.selectedId);
  if (!conversation || conversation.mail || document.hidden) return;
  let newest = 0;
  for (const message of threadOf(conversation.id).values()) {
    if (!message.pending && !message.private && message.sender === "visitor" && message.id > newest) newest = message.id;
  }
  if (newest > (readSent.get(conversation.id) || 0) && newest > (conversation.operator_read_message_id || 0)) {
    readSent.set(conversation.id, newest);
    socket.send({ type: "message.read", conversation_id: conversation.id, message_id: newest });
  }
}

// The visitor has read up to a message: "Seen" under her newest reply at or before it.
function onRead(frame) {
  const conversation = state.conversations.get(frame.conversation_id);
  if (!conversation || frame.reader !== "visitor") return;
  if ((conversation.visitor_read_message_id || 0) >= frame.message_id) return;
  conversation.visitor_read_message_id = frame.message_id;
  conversation.visitor_read_at = frame.read_at;
  if (frame.conversation_id === state.selectedId) renderMessages(frame.conversation_id);
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  if (state.unread.delete(state.selectedId)) render();
  sendRead();
});

// A mail reply was sent, is being retried, or failed (a bounce, a refusal): shown on the message.
function onDelivery(frame) {
  const message = threadOf(frame.conversation_id).get(frame.message_id);
  if (message) {
    message.mail = { ...(message.mail || {}), delivery: frame.delivery };
    if (frame.conversation_id === state.selectedId) renderMessages(frame.conversation_id);
  }
  if (frame.delivery?.status === "failed") {
    const conversation = state.conversations.get(frame.conversation_id);
    toast(t("mail_failed_toast", { name: conversation ? contactName(conversation) : "" }), "error");
  }
}

function onVisitorTyping(frame) {
  if (frame.conversation_id !== state.selectedId) return;
  const conversation = state.conversations.get(frame.conversation_id);
  clearTimeout(visitorTypingTimer);
  showTyping(frame.is_typing ? t("typing", { name: frame.name || contactName(conversation) }) : "");
  if (frame.is_typing) visitorTypingTimer = setTimeout(() => showTyping(""), 8000);
}

function onError(frame) {
  const failedClientId = frame.client_id;
  if (failedClientId) markFailed(failedClientId);
  // The server's detail is translated and precise; a lost race for a claim gets our own plainer words.
  const refusedClaim = frame.ref_type === "conversation.claim" && frame.code === "conflict";
  const key = `error_${frame.code}`;
  let text = frame.detail || (t(key) !== key ? t(key) : t("error_generic", { detail: frame.code }));
  if (refusedClaim) text = t("error_conflict");
  toast(text, "error");
  // A refused action means our picture was stale: fetch the conversation as it is now.
  const conversationId = frame.conversation_id ?? pending.claim ?? pending.transfer ?? pending.action;
  pending.claim = pending.transfer = pending.action = null;
  if (conversationId && frame.ref_type !== "message.send" && frame.ref_type !== "typing") {
    refreshConversation(conversationId).catch(() => {});
  }
}

function markFailed(clientId) {
  for (const [conversationId, thread] of state.messages) {
    const message = thread.get(`c:${clientId}`);
    if (message) {
      message.pending = false;
      message.failed = true;
      if (conversationId === state.selectedId) renderMessages(conversationId);
    }
  }
}

// --- Selecting a conversation -----------------------------------------------------------------

async function refreshConversation(conversationId, { after } = {}) {
  const query = after ? `?after=${after}` : "";
  const mark = updatesMark();
  const data = await api(`/inbox/conversations/${conversationId}/${query}`);
  if (!changedSince(mark, conversationId)) upsertConversation(data.conversation);
  for (const message of data.messages) addMessage(message);
  if (!after) {
    if (data.has_earlier) state.hasEarlier.add(conversationId);
    else state.hasEarlier.delete(conversationId);
  }
  render();
  if (conversationId === state.selectedId) renderMessages(conversationId);
  return data;
}

async function loadEarlier() {
  const conversationId = state.selectedId;
  const oldest = Math.min(...[...threadOf(conversationId).values()].filter((m) => !m.pending).map((m) => m.id));
  let data;
  try {
    data = await api(`/inbox/conversations/${conversationId}/?before=${oldest}`);
  } catch (error) {
    toast(t("error_generic", { detail: error.message }), "error");
    return;
  }
  for (const message of data.messages) addMessage(message);
  if (!data.has_earlier) state.hasEarlier.delete(conversationId);
  if (conversationId === state.selectedId) renderMessages(conversationId, { keepPosition: true });
}

// `keepDraft`: the column is refreshed in place, so notes being typed survive it. Of loads that overlap (several
// changes in a row), only the last one started is shown.
let contactLoads = 0;
async function loadContact(conversationId, { keepDraft = false } = {}) {
  const load = ++contactLoads;
  let response;
  try {
    response = await fetch(`/inbox/conversations/${conversationId}/contact/`, { credentials: "same-origin" });
  } catch {
    return; // offline: the column keeps what it showed
  }
  if (!response.ok || state.selectedId !== conversationId) return;
  const html = await response.text();
  if (load !== contactLoads) return;
  const draft = $("notes-input");
  const unsaved = keepDraft && draft && draft.value !== draft.defaultValue ? draft.value : null;
  // Rendered by Django with every value autoescaped.
  $("contact-pane").innerHTML = html;
  if (unsaved !== null && $("notes-input")) $("notes-input").value = unsaved;
  // Shown in the operator's own time zone, like the messages.
  for (const time of $("contact-pane").querySelectorAll("time[datetime]")) {
    time.title = time.textContent;
    time.textContent = time.dataset.format === "date" ? shortDate(time.dateTime) : dateTime(time.dateTime);
  }
}

async function select(conversationId) {
  if (state.selectedId !== conversationId) {
    composer.reset();
    showTyping("");
    closePicker();
  }
  state.selectedId = conversationId;
  state.unread.delete(conversationId);
  const known = state.conversations.get(conversationId);
  if (known) {
    renderHeader(known);
    renderMessages(conversationId);
  }
  render();
  try {
    await refreshConversation(conversationId);
  } catch (error) {
    toast(t("error_generic", { detail: error.message }), "error");
    if (!known) showEmpty();
    return;
  }
  loadContact(conversationId);
  loadFollowup(conversationId);
  sendRead();
}

function step(offset) {
  const order = navigationOrder();
  if (!order.length) return;
  const index = order.indexOf(state.selectedId);
  const next = index === -1 ? (offset > 0 ? 0 : order.length - 1) : (index + offset + order.length) % order.length;
  select(order[next]);
  // At once, not when the thread has loaded: by then the operator may be typing elsewhere.
  document.querySelector(".conv-item.selected .conv-btn")?.focus();
}

// --- Actions ----------------------------------------------------------------------------------

function claim() {
  const conversation = state.conversations.get(state.selectedId);
  const free = conversation?.mail ? !conversation.assignee : conversation?.status === "queued";
  if (!conversation || !free) return;
  pending.claim = conversation.id;
  socket.send({ type: "conversation.claim", conversation_id: conversation.id });
}

function askResolve() {
  const conversation = state.conversations.get(state.selectedId);
  if (!conversation || !canAct(conversation)) return;
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = t(conversation.mail ? "confirm_resolve_ticket" : "confirm_resolve");
  dialog.returnValue = "";
  dialog.onclose = () => {
    if (dialog.returnValue !== "ok") return;
    pending.action = conversation.id;
    socket.send({ type: "conversation.resolve", conversation_id: conversation.id });
  };
  dialog.showModal();
}

bindTicketBar({
  render,
  onFollowup: (conversationId) => {
    refreshConversation(conversationId)
      .then(() => loadContact(conversationId))
      .catch(() => {});
  },
});
bindTransfer((frame) => {
  pending.transfer = frame.conversation_id;
  socket.send(frame);
});
bindLabelFilter(render);
bindLabelPicker((conversationId, labels) => {
  pending.action = conversationId;
  socket.send({ type: "conversation.labels", conversation_id: conversationId, labels });
});
$("act-claim").addEventListener("click", claim);
$("act-transfer").addEventListener("click", openTransfer);
$("act-resolve").addEventListener("click", askResolve);

function setPresence(status) {
  state.me.status = status;
  socket.send({ type: "presence.set", status });
  renderPresence();
}

for (const button of document.querySelectorAll(".presence-btn")) {
  button.addEventListener("click", () => setPresence(button.dataset.presence));
}

// The contact column is replaced on every selection: listen on the column itself.
$("thread").addEventListener("click", (event) => {
  if (event.target.closest("[data-load-earlier]")) loadEarlier();
});
$("contact-pane").addEventListener("click", (event) => {
  const open = event.target.closest("[data-open-conversation]");
  if (open) select(Number(open.dataset.openConversation));
});
$("contact-pane").addEventListener("submit", async (event) => {
  if (event.target.id !== "notes-form") return;
  event.preventDefault();
  const status = $("notes-status");
  status.classList.remove("error");
  try {
    await api(event.target.dataset.url, { method: "POST", body: { notes: $("notes-input").value } });
    status.textContent = t("saved");
  } catch (error) {
    status.classList.add("error");
    status.textContent = t("save_failed", { detail: error.message });
  }
});

$("lang-select").addEventListener("change", (event) => event.target.form.submit());

// --- Keyboard ---------------------------------------------------------------------------------

bindShortcuts({
  next: () => step(1),
  previous: () => step(-1),
  claim,
  reply: () => {
    if (!composerForm.hidden && state.selectedId) composer.focus();
  },
  resolve: askResolve,
  transfer: openTransfer,
  togglePrivate: () => {
    composer.togglePrivate();
    if (state.selectedId) composer.focus();
  },
  canned: () => {
    if (state.selectedId && !composerForm.hidden) composer.openCanned();
  },
  presence: () => setPresence(state.me.status === "online" ? "away" : "online"),
  help: () => $("help-dialog").showModal(),
  search: focusSearch,
  escape: () => {
    composer.closeCanned();
    closeSearch();
  },
});
$("help-open").addEventListener("click", () => $("help-dialog").showModal());

// --- Start ------------------------------------------------------------------------------------

onListClick((id) => select(id));
bindSearch((id) => select(id));
renderLabelFilter();
setInterval(() => {
  tickTimers();
  const selected = state.conversations.get(state.selectedId);
  if (selected) tickThreadSla(selected);
}, 1000);
render();
socket.connect();
// A link to #conversation-<id> (a bookmark, a notification, another tab) opens that conversation.
function openFromHash() {
  const match = /^#conversation-(\d+)$/.exec(location.hash);
  if (match) select(Number(match[1]));
}
window.addEventListener("hashchange", openFromHash);
openFromHash();
