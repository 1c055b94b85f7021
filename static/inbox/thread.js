// The centre column: who, the ticket bar, the messages (always as text), the typing line and the composer's mode.
import {
  clock,
  contactName,
  count,
  dateTime,
  duration,
  faceNode,
  firstResponseSla,
  resolutionLabel,
  resolutionSla,
  slaLabel,
  t,
  waitedSeconds,
} from "./format.js";
import { renderThreadLabels } from "./labels.js";
import { channelLabel } from "./lists.js";
import { canAct, isMine, sortedMessages, state, ticketStage } from "./state.js";

const $ = (id) => document.getElementById(id);
const messageTemplate = $("tpl-message");
const thread = $("thread");

function statusLine(conversation) {
  const parts = [channelLabel(conversation)];
  if (conversation.mail) {
    const stage = ticketStage(conversation);
    parts.push(stage ? t(`ticket_stage_${stage}`) : t("ticket_stage_resolved"));
    if (conversation.assignee) {
      parts.push(isMine(conversation) ? t("assigned_to_you") : t("claimed_by", { name: conversation.assignee.name }));
    }
  } else if (conversation.status === "queued") {
    parts.push(`${t("status_queued")} ${duration(waitedSeconds(conversation))}`);
  } else if (conversation.status === "active") {
    if (!conversation.assignee) parts.push(t("status_active"));
    else parts.push(isMine(conversation) ? t("assigned_to_you") : t("claimed_by", { name: conversation.assignee.name }));
  } else {
    parts.push(`${t("status_ended")}: ${t(`end_${conversation.end_reason}`)}`);
  }
  if (conversation.transfer_count) parts.push(t("transfers", { count: count(conversation.transfer_count) }));
  return parts.filter(Boolean).join(" · ");
}

export function renderHeader(conversation) {
  $("thread-empty").hidden = true;
  $("thread-wrap").hidden = false;
  $("thread-title").textContent = contactName(conversation);
  $("thread-face").replaceChildren(faceNode(conversation.contact));
  $("thread-meta").textContent = statusLine(conversation);
  if (conversation.mail) {
    renderMailHeader(conversation);
  } else {
    const ended = conversation.status === "ended";
    const mine = isMine(conversation);
    $("act-claim").hidden = conversation.status !== "queued";
    $("act-transfer").hidden = ended || conversation.status === "queued";
    $("act-resolve").hidden = ended || conversation.status === "queued";
    $("act-transfer").disabled = !mine;
    $("act-resolve").disabled = !mine;
    $("composer").hidden = ended;
    const readonly = $("readonly-note");
    readonly.hidden = !ended;
    readonly.textContent = ended ? t("read_only") : "";
  }
  $("composer").dataset.mail = conversation.mail ? "true" : "false";
  if (!$("private-toggle").checked) {
    $("composer-input").placeholder = t(conversation.mail ? "mail_reply_placeholder" : "reply_placeholder");
  }
  renderTicketBar(conversation);
  renderThreadLabels(conversation);
}

// An offline message or e-mail ticket: always answerable (a reply to a resolved one is still a mail), taken
// with Claim while nobody holds it, resolved while it is open or pending.
function renderMailHeader(conversation) {
  const open = ticketStage(conversation) !== null;
  $("act-claim").hidden = Boolean(conversation.assignee);
  $("act-transfer").hidden = !open;
  $("act-resolve").hidden = !open;
  $("act-transfer").disabled = !canAct(conversation);
  $("act-resolve").disabled = !canAct(conversation);
  $("composer").hidden = false;
  $("readonly-note").hidden = true;
  $("readonly-note").textContent = "";
}

function renderTicketBar(conversation) {
  const ticket = conversation.ticket;
  $("ticket-bar").hidden = !ticket;
  if (!ticket) return;
  $("ticket-id").textContent = t("ticket", { id: ticket.id });
  $("ticket-status").value = ticket.status;
  $("ticket-priority").value = ticket.priority;
  tickThreadSla(conversation);
}

export function tickThreadSla(conversation) {
  const element = $("thread-sla");
  const sla = firstResponseSla(conversation);
  const resolution = sla ? null : resolutionSla(conversation);
  element.className = "sla";
  if (sla) {
    element.classList.add(`sla-${sla.level}`);
    element.textContent = slaLabel(sla);
  } else if (resolution) {
    element.classList.add(`sla-${resolution.level}`);
    element.textContent = resolutionLabel(resolution);
  } else {
    element.textContent = conversation.first_response_at ? t("sla_met") : "";
  }
  if (conversation.status === "queued") $("thread-meta").textContent = statusLine(conversation);
}

function messageNode(message) {
  const node = messageTemplate.content.firstElementChild.cloneNode(true);
  node.dataset.messageId = message.id ?? "";
  node.classList.add(`msg-${message.sender}`);
  // A system line for operators only (a transfer) reads as a line of the thread, not as a note.
  const note = message.private && message.sender !== "system";
  if (note) node.classList.add("msg-private");
  if (message.pending) node.classList.add("msg-pending");
  if (message.failed) node.classList.add("msg-failed");
  let author = message.author_name;
  if (message.sender === "visitor") author = author || t("visitor");
  if (message.sender === "system") author = t("system");
  node.querySelector(".msg-author").textContent = author || "";
  if (message.sender === "operator") node.querySelector(".msg-head").prepend(faceNode(message.author, "small"));
  if (note) {
    const label = document.createElement("span");
    label.className = "msg-note-label";
    label.textContent = t("private_note");
    node.querySelector(".msg-head").append(label);
  }
  const time = node.querySelector(".msg-time");
  if (message.created_at) {
    time.dateTime = message.created_at;
    time.textContent = clock(message.created_at);
    time.title = dateTime(message.created_at);
  }
  node.querySelector(".msg-body").textContent = message.body;
  if (message.attachments?.length) node.querySelector(".msg-body").after(attachmentList(message.attachments));
  const stateLine = node.querySelector(".msg-state");
  if (message.mail) mailLine(node, stateLine, message.mail);
  if (message.failed) {
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "link-btn";
    retry.dataset.retry = message.client_id;
    retry.textContent = t("send_failed");
    stateLine.append(retry);
  } else if (message.pending) {
    stateLine.textContent = t("sending");
  }
  return node;
}

// Images as thumbnails that open the file, other files as named links with their sizes (signed, expiring links:
// a reload or reconnect reads fresh ones).
function attachmentList(attachments) {
  const list = document.createElement("ul");
  list.className = "msg-attachments";
  for (const attachment of attachments) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = attachment.url;
    link.target = "_blank";
    link.rel = "noopener";
    if (attachment.thumbnail_url) {
      const image = document.createElement("img");
      image.src = attachment.thumbnail_url;
      image.alt = attachment.name;
      image.loading = "lazy";
      link.className = "msg-thumb";
      link.append(image);
    } else {
      link.textContent = `${attachment.name} (${fileSize(attachment.size)})`;
    }
    item.append(link);
    list.append(item);
  }
  return list;
}

// A message that came or went by mail: its delivery (queued, sent, failed and why), the original, attachments.
function mailLine(node, stateLine, mail) {
  if (mail.delivery) {
    const delivery = document.createElement("span");
    delivery.className = `mail-delivery mail-${mail.delivery.status}`;
    delivery.textContent =
      mail.delivery.status === "failed"
        ? t("mail_failed", { reason: mail.delivery.reason || "" })
        : t(`mail_${mail.delivery.status}`);
    if (mail.delivery.status === "queued" && mail.delivery.reason) delivery.title = mail.delivery.reason;
    stateLine.append(delivery);
  }
  if (mail.attachments?.length) {
    const list = document.createElement("ul");
    list.className = "mail-attachments";
    for (const attachment of mail.attachments) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = attachment.url;
      link.textContent = `${attachment.filename} (${fileSize(attachment.size)})`;
      item.append(link);
      list.append(item);
    }
    node.querySelector(".msg-body").after(list);
  }
  if (mail.original_url) {
    const link = document.createElement("a");
    link.href = mail.original_url;
    link.target = "_blank";
    link.rel = "noopener";
    link.className = "mail-original";
    link.textContent = t("mail_original");
    stateLine.append(link);
  }
}

// "Seen" and when, under her newest public reply that the visitor has read (message.read).
function markSeen(conversation, messages, nodes) {
  const upTo = conversation?.visitor_read_message_id;
  if (!upTo || conversation.mail) return;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message.pending || message.private || message.sender !== "operator" || message.id > upTo) continue;
    const seen = document.createElement("span");
    seen.className = "msg-seen";
    seen.textContent = t("seen_at", { time: clock(conversation.visitor_read_at) });
    if (conversation.visitor_read_at) seen.title = dateTime(conversation.visitor_read_at);
    nodes[i].querySelector(".msg-state").append(seen);
    return;
  }
}

function fileSize(bytes) {
  if (bytes >= 1024 * 1024) return t("size_mb", { n: count((bytes / (1024 * 1024)).toFixed(1)) });
  return t("size_kb", { n: count(Math.max(1, Math.round(bytes / 1024))) });
}

function earlierButton() {
  const item = document.createElement("li");
  item.className = "load-earlier";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-small";
  button.dataset.loadEarlier = "";
  button.textContent = t("load_earlier");
  item.append(button);
  return item;
}

// keepPosition: older messages were added above; what the operator was reading stays in place.
export function renderMessages(conversationId, { keepPosition = false } = {}) {
  const nearBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
  const fromBottom = thread.scrollHeight - thread.scrollTop;
  const messages = sortedMessages(conversationId);
  if (!messages.length) {
    const empty = document.createElement("li");
    empty.className = "msg msg-system";
    empty.textContent = t("no_messages_yet");
    thread.replaceChildren(empty);
    return;
  }
  const nodes = messages.map(messageNode);
  markSeen(state.conversations.get(conversationId), messages, nodes);
  if (state.hasEarlier.has(conversationId)) nodes.unshift(earlierButton());
  thread.replaceChildren(...nodes);
  if (keepPosition) thread.scrollTop = thread.scrollHeight - fromBottom;
  else if (nearBottom || thread.dataset.conversationId !== String(conversationId)) {
    thread.scrollTop = thread.scrollHeight;
  }
  thread.dataset.conversationId = String(conversationId);
}

export function showTyping(text) {
  $("typing").textContent = text;
}

export function showEmpty() {
  $("thread-wrap").hidden = true;
  $("thread-empty").hidden = false;
  $("contact-pane").replaceChildren();
  state.selectedId = null;
}

export function setPrivateMode(on) {
  $("private-toggle").checked = on;
  $("composer").classList.toggle("private", on);
  const mail = state.conversations.get(state.selectedId)?.mail;
  $("composer-input").placeholder = on ? t("private_placeholder") : t(mail ? "mail_reply_placeholder" : "reply_placeholder");
}
