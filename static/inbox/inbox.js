// The agent inbox: wires the socket, the lists, the thread, the contact column, dialogs and shortcuts together.
import { Alerts } from "./alerts.js";
import { CannedReplies } from "./canned.js";
import { contactName, dateTime, shortDate, t } from "./format.js";
import { navigationOrder, onListClick, renderLists, tickTimers } from "./lists.js";
import { bindShortcuts } from "./shortcuts.js";
import { AgentSocket } from "./socket.js";
import {
  activeChatCount,
  addMessage,
  inboxNames,
  isMine,
  newestMessageId,
  replaceOpenConversations,
  state,
  threadOf,
  upsertConversation,
} from "./state.js";
import { renderHeader, renderMessages, setPrivateMode, showEmpty, showTyping, tickThreadSla } from "./thread.js";

const $ = (id) => document.getElementById(id);
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const composer = $("composer");
const input = $("composer-input");
const pending = { claim: null, transfer: null, action: null };
let cannedReplyId = null;
let typingTimer = null;
let typingSentAt = 0;
let visitorTypingTimer = null;
// After a reconnect the server replays what was missed, then says "sync.done"; until then a replayed
// "conversation.queued" may be long taken, so alerts wait for the end of the replay.
const sync = { active: false, welcomes: 0, missedQueued: new Set(), timer: null };

// --- HTTP -------------------------------------------------------------------------------------

async function api(url, { method = "GET", body } = {}) {
  const response = await fetch(url, {
    method,
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  if (!response.ok) throw new Error(errorText(data) || response.statusText);
  return data;
}

// Our views answer {"error": ...}; DRF answers {"detail": ...} or {"field": ["..."]}.
function errorText(data) {
  if (typeof data.error === "string") return data.error;
  if (typeof data.detail === "string") return data.detail;
  const first = Object.values(data)[0];
  return Array.isArray(first) ? String(first[0]) : "";
}

// --- Feedback ---------------------------------------------------------------------------------

function toast(text, kind = "info") {
  const node = document.createElement("div");
  node.className = `toast ${kind}`;
  node.textContent = text;
  $("toasts").append(node);
  setTimeout(() => node.remove(), 7000);
}

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
      startSync();
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

const alerts = new Alerts({
  soundBox: $("pref-sound"),
  notifyBox: $("pref-notify"),
  onBlocked: () => toast(t("notifications_blocked"), "error"),
});

// --- Rendering --------------------------------------------------------------------------------

function renderPresence() {
  for (const button of document.querySelectorAll(".presence-btn")) {
    const online = state.me.status === "online";
    button.setAttribute("aria-pressed", String((button.dataset.presence === "online") === online));
  }
  const active = activeChatCount();
  const load = $("my-load");
  load.textContent = t("load", { active, max: state.me.max_chats });
  load.classList.toggle("full", active >= state.me.max_chats);
}

function render() {
  const derived = renderLists();
  renderPresence();
  document.title = `${derived.queue.length ? `(${derived.queue.length}) ` : ""}${document.title.replace(/^\(\d+\) /, "")}`;
  const selected = state.conversations.get(state.selectedId);
  if (selected) renderHeader(selected);
}

// --- Frames from the server ------------------------------------------------------------------

function mergeConversations(conversations = []) {
  for (const conversation of conversations) upsertConversation(conversation);
}

function handleFrame(frame) {
  switch (frame.type) {
    case "welcome":
      // The first welcome greets the new connection; a second one answers a `sync` that was too far behind.
      if (sync.active && ++sync.welcomes > 1) finishSync();
      if (frame.operator) Object.assign(state.me, pick(frame.operator, ["status", "max_chats", "name"]));
      // Chats that started waiting while we were away still deserve their alert.
      for (const conversation of frame.queue || []) {
        if (sync.active && state.conversations.get(conversation.id)?.status !== "queued") {
          sync.missedQueued.add(conversation.id);
        }
      }
      mergeConversations(frame.queue);
      mergeConversations(frame.conversations);
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
    case "typing":
      onVisitorTyping(frame);
      break;
    case "sync.done":
      finishSync();
      break;
    case "ticket.updated":
      if (frame.ticket) applyTicket(frame.ticket);
      break;
    case "operator.updated":
      if (frame.operator?.id === state.me.id) Object.assign(state.me, pick(frame.operator, ["status", "max_chats"]));
      break;
    case "sync":
      for (const event of frame.events || []) handleFrame(event);
      break;
    case "error":
      onError(frame);
      break;
    default:
      return;
  }
  render();
}

function pick(source, keys) {
  return Object.fromEntries(keys.filter((key) => source[key] !== undefined).map((key) => [key, source[key]]));
}

function onQueued(conversation) {
  const known = upsertConversation(conversation);
  if (known && known.status === "queued") return;
  if (sync.active) sync.missedQueued.add(conversation.id);
  else alertNewChat(conversation);
}

function alertNewChat(conversation) {
  alerts.newChat({
    title: t("new_chat_title"),
    body: t("new_chat_body", { name: contactName(conversation), inbox: inboxNames[String(conversation.inbox_id)] || "" }),
    tag: `conversation-${conversation.id}`,
    onClick: () => select(conversation.id),
  });
}

function onUpdated(conversation) {
  const before = upsertConversation(conversation);
  const after = state.conversations.get(conversation.id);
  const wasMine = before && isMine(before);
  // Given to me by a colleague's transfer or by automatic assignment (not my own claim, not the chat on screen).
  const handedToMe = !wasMine && isMine(after) && after.status === "active" && pending.claim !== conversation.id;
  if (handedToMe && conversation.id !== state.selectedId && !sync.active) {
    alerts.newChat({
      title: t("assigned_title"),
      body: contactName(after),
      tag: `conversation-${conversation.id}`,
      onClick: () => select(conversation.id),
    });
  }
  if (pending.claim === conversation.id && isMine(after)) {
    pending.claim = null;
    if (state.selectedId === conversation.id) input.focus();
  }
  if (pending.transfer === conversation.id && wasMine && !isMine(after)) {
    pending.transfer = null;
    toast(t("transferred"));
  }
  if (after.status === "ended") state.unread.delete(conversation.id);
}

function onMessage(message, type) {
  if (!message) return;
  const isNew = addMessage(message);
  const conversation = state.conversations.get(message.conversation_id);
  if (conversation) {
    conversation.last_message = { body: message.body, sender: message.sender, created_at: message.created_at };
  }
  if (message.conversation_id === state.selectedId) {
    renderMessages(state.selectedId);
    if (message.sender === "visitor") showTyping("");
  } else if (isNew && type === "message.new" && message.sender === "visitor") {
    state.unread.set(message.conversation_id, (state.unread.get(message.conversation_id) || 0) + 1);
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
  const data = await api(`/inbox/conversations/${conversationId}/${query}`);
  upsertConversation(data.conversation);
  for (const message of data.messages) addMessage(message);
  state.loaded.add(conversationId);
  render();
  if (conversationId === state.selectedId) renderMessages(conversationId);
  return data;
}

async function loadContact(conversationId) {
  const response = await fetch(`/inbox/conversations/${conversationId}/contact/`, { credentials: "same-origin" });
  if (!response.ok || state.selectedId !== conversationId) return;
  // Rendered by Django with every value autoescaped.
  $("contact-pane").innerHTML = await response.text();
  // Shown in the operator's own time zone, like the messages.
  for (const time of $("contact-pane").querySelectorAll("time[datetime]")) {
    time.title = time.textContent;
    time.textContent = time.dataset.format === "date" ? shortDate(time.dateTime) : dateTime(time.dateTime);
  }
}

async function select(conversationId) {
  if (state.selectedId !== conversationId) {
    stopTyping();
    input.value = "";
    cannedReplyId = null;
    showTyping("");
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
}

function step(offset) {
  const order = navigationOrder();
  if (!order.length) return;
  const index = order.indexOf(state.selectedId);
  const next = index === -1 ? (offset > 0 ? 0 : order.length - 1) : (index + offset + order.length) % order.length;
  select(order[next]).then(() => {
    document.querySelector(`.conv-item.selected .conv-btn`)?.focus();
  });
}

function startSync() {
  Object.assign(sync, { active: true, welcomes: 0 });
  clearTimeout(sync.timer);
  sync.timer = setTimeout(finishSync, 10_000);
}

function finishSync() {
  if (!sync.active) return;
  sync.active = false;
  clearTimeout(sync.timer);
  resync().then(() => {
    for (const id of sync.missedQueued) {
      const conversation = state.conversations.get(id);
      if (conversation?.status === "queued") alertNewChat(conversation);
    }
    sync.missedQueued.clear();
  });
}

// The state as stored now, after the replay: the open conversations, and what the open thread missed.
async function resync() {
  try {
    replaceOpenConversations((await api("/inbox/conversations/")).conversations);
  } catch {
    return;
  }
  render();
  if (state.selectedId) refreshConversation(state.selectedId, { after: newestMessageId(state.selectedId) });
}

// --- Composer ---------------------------------------------------------------------------------

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function sendMessage() {
  const conversationId = state.selectedId;
  const body = input.value.trim();
  if (!conversationId || !body) return;
  if (body.length > state.maxChars) {
    toast(t("error_too_large"), "error");
    return;
  }
  const isPrivate = $("private-toggle").checked;
  const frame = { type: "message.send", conversation_id: conversationId, client_id: newClientId(), body, private: isPrivate };
  if (cannedReplyId) frame.canned_reply_id = cannedReplyId;
  threadOf(conversationId).set(`c:${frame.client_id}`, {
    conversation_id: conversationId,
    client_id: frame.client_id,
    sender: "operator",
    author_name: state.me.name,
    body,
    private: isPrivate,
    pending: true,
    frame,
  });
  socket.send(frame);
  stopTyping();
  input.value = "";
  cannedReplyId = null;
  renderMessages(conversationId);
}

function retry(clientId) {
  const message = threadOf(state.selectedId).get(`c:${clientId}`);
  if (!message) return;
  message.failed = false;
  message.pending = true;
  socket.send(message.frame);
  renderMessages(state.selectedId);
}

function sendTyping(isTyping) {
  if (!state.selectedId) return;
  socket.send({ type: "typing", conversation_id: state.selectedId, is_typing: isTyping });
}

function stopTyping() {
  clearTimeout(typingTimer);
  if (typingSentAt) sendTyping(false);
  typingSentAt = 0;
}

input.addEventListener("input", () => {
  if (!input.value) cannedReplyId = null;
  // The visitor never sees that a private note is being written.
  if ($("private-toggle").checked) return;
  if (Date.now() - typingSentAt > 2000) {
    sendTyping(true);
    typingSentAt = Date.now();
  }
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, 4000);
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendMessage();
  } else if (event.key === "/" && /(^|\n)$/.test(input.value.slice(0, input.selectionStart))) {
    event.preventDefault();
    canned.open();
  } else if (event.key === "Escape") {
    input.blur();
  }
});

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  sendMessage();
});

$("private-toggle").addEventListener("change", (event) => {
  if (event.target.checked) stopTyping();
  setPrivateMode(event.target.checked);
});

const canned = new CannedReplies({
  box: $("canned"),
  search: $("canned-search"),
  list: $("canned-list"),
  textarea: input,
  inboxId: () => state.conversations.get(state.selectedId)?.inbox_id,
  onPick: (reply) => {
    cannedReplyId = reply.id;
  },
});
$("canned-open").addEventListener("click", () => canned.open());
$("thread").addEventListener("click", (event) => {
  const button = event.target.closest("[data-retry]");
  if (button) retry(button.dataset.retry);
});

// --- Actions ----------------------------------------------------------------------------------

function claim() {
  const conversation = state.conversations.get(state.selectedId);
  if (!conversation || conversation.status !== "queued") return;
  pending.claim = conversation.id;
  socket.send({ type: "conversation.claim", conversation_id: conversation.id });
}

function askResolve() {
  const conversation = state.conversations.get(state.selectedId);
  if (!conversation || conversation.status !== "active" || !isMine(conversation)) return;
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = t("confirm_resolve");
  dialog.returnValue = "";
  dialog.onclose = () => {
    if (dialog.returnValue !== "ok") return;
    pending.action = conversation.id;
    socket.send({ type: "conversation.resolve", conversation_id: conversation.id });
  };
  dialog.showModal();
}

function targetRow(name, value, label, load) {
  const item = document.createElement("li");
  const labelNode = document.createElement("label");
  const radio = document.createElement("input");
  radio.type = "radio";
  radio.name = "target";
  radio.value = `${name}:${value}`;
  const text = document.createElement("span");
  text.textContent = label;
  const loadNode = document.createElement("span");
  loadNode.className = "target-load";
  loadNode.textContent = load;
  labelNode.append(radio, text, loadNode);
  item.append(labelNode);
  return item;
}

async function openTransfer() {
  const conversation = state.conversations.get(state.selectedId);
  if (!conversation || conversation.status !== "active" || !isMine(conversation)) return;
  const dialog = $("transfer-dialog");
  $("transfer-error").textContent = "";
  $("transfer-note").value = "";
  let targets;
  try {
    targets = await api(`/inbox/conversations/${conversation.id}/transfer-targets/`);
  } catch (error) {
    toast(t("error_generic", { detail: error.message }), "error");
    return;
  }
  const operators = targets.operators.map((operator) => {
    const row = targetRow("operator", operator.id, operator.name, `${t(operator.status)} · ${t("load", { active: operator.active_chats, max: operator.max_chats })}`);
    const dot = document.createElement("span");
    dot.className = `dot dot-${operator.status}`;
    row.querySelector("label").insertBefore(dot, row.querySelector("label span"));
    return row;
  });
  const teams = targets.teams.map((team) => targetRow("team", team.id, team.name, `${t("online")}: ${team.online}`));
  const empty = (key) => {
    const li = document.createElement("li");
    li.className = "target-empty";
    li.textContent = "—";
    li.dataset.key = key;
    return li;
  };
  $("transfer-operators").replaceChildren(...(operators.length ? operators : [empty("operators")]));
  $("transfer-teams").replaceChildren(...(teams.length ? teams : [empty("teams")]));
  dialog.dataset.conversationId = conversation.id;
  dialog.showModal();
  dialog.querySelector('input[name="target"]')?.focus();
}

$("transfer-form").addEventListener("submit", (event) => {
  const dialog = $("transfer-dialog");
  const choice = dialog.querySelector('input[name="target"]:checked');
  if (!choice) {
    event.preventDefault();
    $("transfer-error").textContent = t("transfer_pick");
    return;
  }
  const [kind, id] = choice.value.split(":");
  const conversationId = Number(dialog.dataset.conversationId);
  const frame = { type: "conversation.transfer", conversation_id: conversationId };
  frame[kind === "operator" ? "to_operator_id" : "to_team_id"] = Number(id);
  const note = $("transfer-note").value.trim();
  if (note) frame.note = note;
  pending.transfer = conversationId;
  socket.send(frame);
});
$("transfer-cancel").addEventListener("click", () => $("transfer-dialog").close());

// Ticket changes go through the tickets app's operator API; its answer is the ticket as stored now.
async function ticketChange(field, value) {
  const conversation = state.conversations.get(state.selectedId);
  if (!conversation?.ticket) return;
  try {
    applyTicket(await api(`/api/tickets/${conversation.ticket.id}/${field}/`, { method: "POST", body: { [field]: value } }));
    toast(t("saved"));
  } catch (error) {
    toast(t("save_failed", { detail: error.message }), "error");
  }
  render();
}

function applyTicket(ticket) {
  for (const conversation of state.conversations.values()) {
    if (conversation.ticket?.id === ticket.id) conversation.ticket = { ...conversation.ticket, ...ticket };
  }
}

// The contact's earlier ticket that this conversation may continue (offered while the conversation is open).
async function loadFollowup(conversationId) {
  const slot = $("followup-slot");
  slot.replaceChildren();
  const conversation = state.conversations.get(conversationId);
  if (!conversation || conversation.status === "ended") return;
  let candidate;
  try {
    candidate = (await api(`/api/conversations/${conversationId}/followup/`)).ticket;
  } catch {
    return;
  }
  if (!candidate || state.selectedId !== conversationId) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-small";
  button.id = "act-followup";
  button.textContent = t("followup_of", { id: candidate.id });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api(`/api/conversations/${conversationId}/followup/`, { method: "POST", body: { ticket_id: candidate.id } });
    } catch (error) {
      button.disabled = false;
      toast(t("save_failed", { detail: error.message }), "error");
      return;
    }
    slot.replaceChildren();
    toast(t("followup_done", { id: candidate.id }));
    await refreshConversation(conversationId);
    loadContact(conversationId);
  });
  slot.append(button);
}

$("ticket-status").addEventListener("change", (event) => ticketChange("status", event.target.value));
$("ticket-priority").addEventListener("change", (event) => ticketChange("priority", event.target.value));
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
    if (!composer.hidden && state.selectedId) input.focus();
  },
  resolve: askResolve,
  transfer: openTransfer,
  togglePrivate: () => {
    setPrivateMode(!$("private-toggle").checked);
    if (state.selectedId) input.focus();
  },
  canned: () => {
    if (!state.selectedId || composer.hidden) return;
    input.focus();
    canned.open();
  },
  presence: () => setPresence(state.me.status === "online" ? "away" : "online"),
  help: () => $("help-dialog").showModal(),
  escape: () => canned.close({ refocus: false }),
});
$("help-open").addEventListener("click", () => $("help-dialog").showModal());

// --- Start ------------------------------------------------------------------------------------

onListClick((id) => select(id));
setPrivateMode(false);
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
