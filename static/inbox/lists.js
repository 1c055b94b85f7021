// The left column: waiting queue, my conversations, all open ones. Rebuilt from the state on every change.
import {
  clock,
  contactName,
  count,
  duration,
  faceNode,
  firstResponseSla,
  previewText,
  resolutionLabel,
  resolutionSla,
  shortDate,
  slaLabel,
  t,
  waitedSeconds,
} from "./format.js";
import { fillChips, matchesLabelFilter } from "./labels.js";
import { inboxNames, isMine, lists, state } from "./state.js";

const template = document.getElementById("tpl-conv-item");
const sections = {
  queue: document.getElementById("list-queue"),
  mine: document.getElementById("list-mine"),
  all: document.getElementById("list-all"),
  tickets: document.getElementById("list-tickets"),
};
const TICKET_FILTER_KEY = "supportdesk.inbox.ticket-filter";
const ticketFilters = [...document.querySelectorAll("[data-ticket-filter]")];

for (const list of Object.values(sections)) list.dataset.empty = t(list.dataset.emptyKey);

// "All open" is folded by default (it repeats the other lists); the operator's choice is remembered.
const ALL_OPEN_KEY = "supportdesk.inbox.all-open";
const allSection = document.getElementById("all-section");
allSection.open = localStorage.getItem(ALL_OPEN_KEY) === "open";
allSection.addEventListener("toggle", () => localStorage.setItem(ALL_OPEN_KEY, allSection.open ? "open" : "closed"));

export function channelLabel(conversation) {
  const inbox = inboxNames[String(conversation.inbox_id)] || "";
  const kind = conversation.channel_kind ? t(`channel_${conversation.channel_kind}`) : "";
  return [inbox, kind].filter(Boolean).join(" · ");
}

function item(conversation, listName) {
  const node = template.content.firstElementChild.cloneNode(true);
  node.dataset.conversationId = conversation.id;
  node.dataset.list = listName;
  const unread = state.unread.get(conversation.id) || 0;
  node.classList.toggle("selected", conversation.id === state.selectedId);
  node.classList.toggle("unread", unread > 0);
  node.querySelector(".conv-name").textContent = contactName(conversation);
  node.querySelector(".conv-top").prepend(faceNode(conversation.contact, "small"));
  const badge = node.querySelector(".conv-badge");
  badge.hidden = unread === 0;
  badge.textContent = count(unread);
  let preview = previewText(conversation);
  if (listName === "tickets" && conversation.ticket?.subject) {
    // The subject, then the last word of the customer or an operator (not the desk's own notices).
    const said = conversation.last_message?.sender === "system" ? "" : preview;
    preview = `${conversation.ticket.subject}${said && said !== conversation.ticket.subject ? ` — ${said}` : ""}`;
  }
  if (listName === "tickets" && conversation.assignee && !isMine(conversation)) {
    preview = `${t("claimed_by", { name: conversation.assignee.name })} — ${preview}`;
  }
  if (listName === "all" && conversation.assignee && !isMine(conversation)) {
    preview = `${t("claimed_by", { name: conversation.assignee.name })}${preview ? ` — ${preview}` : ""}`;
  }
  node.querySelector(".conv-preview").textContent = preview;
  node.querySelector(".conv-channel").textContent = channelLabel(conversation);
  fillChips(node.querySelector(".conv-labels"), conversation);
  const button = node.querySelector(".conv-btn");
  button.setAttribute("aria-current", conversation.id === state.selectedId ? "true" : "false");
  button.setAttribute("aria-label", `${contactName(conversation)}, ${channelLabel(conversation)}`);
  updateTimer(node.querySelector(".conv-timer"), conversation);
  return node;
}

function updateTimer(element, conversation, now = Date.now()) {
  const sla = firstResponseSla(conversation, now);
  element.className = "conv-timer";
  if (conversation.mail) {
    // A mail ticket: the time its first reply is due (or overdue), then its resolution's, as a date and time.
    const resolution = sla ? null : resolutionSla(conversation, now);
    const due = sla ? conversation.ticket.first_response_due_at : conversation.ticket?.resolution_due_at;
    element.textContent = due ? dueLabel(due, now) : "";
    element.title = sla ? slaLabel(sla) : resolution ? resolutionLabel(resolution) : "";
    const level = sla?.level || resolution?.level;
    if (level) element.classList.add(`sla-${level}`);
    return;
  }
  // Each timer says what it counts: the wait in the queue, the first reply's time left (or overdue), or the
  // time since the conversation's last message.
  if (conversation.status === "queued") {
    element.textContent = t("timer_waiting", { time: duration(waitedSeconds(conversation, now)) });
    element.title = sla ? slaLabel(sla) : t("waiting");
    if (sla) element.classList.add(`sla-${sla.level}`);
  } else if (sla) {
    element.textContent = slaLabel(sla);
    element.title = slaLabel(sla);
    element.classList.add(`sla-${sla.level}`);
  } else {
    const last = conversation.last_message?.created_at || conversation.requested_at || conversation.created_at;
    element.textContent = t("timer_since_last", { time: duration((now - Date.parse(last)) / 1000) });
    const resolution = resolutionSla(conversation, now);
    element.title = resolution ? resolutionLabel(resolution) : t("timer_since_last_title");
    if (resolution) element.classList.add(`sla-${resolution.level}`);
  }
}

function dueLabel(due, now) {
  const when = Date.parse(due);
  const sameDay = new Date(when).toDateString() === new Date(now).toDateString();
  return sameDay ? clock(due) : shortDate(due);
}

// The lists as shown: only the conversations with the chosen label, when one is chosen.
function shownLists() {
  const derived = lists();
  const keep = (list) => list.filter(matchesLabelFilter);
  return {
    queue: keep(derived.queue),
    mine: keep(derived.mine),
    all: keep(derived.all),
    tickets: Object.fromEntries(Object.entries(derived.tickets).map(([stage, list]) => [stage, keep(list)])),
  };
}

export function renderLists() {
  const focused = document.activeElement?.closest?.(".conv-item");
  const focusKey = focused ? `${focused.dataset.list}:${focused.dataset.conversationId}` : null;
  const derived = shownLists();
  for (const [name, list] of Object.entries(sections)) {
    const shown = name === "tickets" ? derived.tickets[state.ticketFilter] || [] : derived[name];
    list.replaceChildren(...shown.map((c) => item(c, name)));
    if (name !== "tickets") document.getElementById(`${name}-count`).textContent = count(shown.length);
  }
  for (const button of ticketFilters) {
    const stage = button.dataset.ticketFilter;
    button.setAttribute("aria-pressed", String(stage === state.ticketFilter));
    button.querySelector(".count").textContent = count(derived.tickets[stage].length);
  }
  sections.tickets.dataset.empty = t(`tickets_empty_${state.ticketFilter}`);
  for (const list of Object.values(sections)) {
    if (state.labelFilter) list.dataset.empty = t("label_filter_empty");
    else if (list !== sections.tickets) list.dataset.empty = t(list.dataset.emptyKey);
  }
  document.getElementById("queue-count").classList.toggle("has", derived.queue.length > 0);
  if (focusKey) {
    const [name, id] = focusKey.split(":");
    sections[name].querySelector(`[data-conversation-id="${id}"] .conv-btn`)?.focus();
  }
  // Unfiltered: the page's title counts everyone waiting, whatever the lists show.
  return lists();
}

export function tickTimers() {
  const now = Date.now();
  for (const list of Object.values(sections)) {
    for (const node of list.children) {
      const conversation = state.conversations.get(Number(node.dataset.conversationId));
      if (conversation) updateTimer(node.querySelector(".conv-timer"), conversation, now);
    }
  }
}

for (const button of ticketFilters) {
  button.addEventListener("click", () => {
    state.ticketFilter = button.dataset.ticketFilter;
    sessionStorage.setItem(TICKET_FILTER_KEY, state.ticketFilter);
    renderLists();
  });
}

// Conversation ids in the order j/k walks them: the queue, mine, the tickets shown, then everyone's chats when
// that list is unfolded.
export function navigationOrder() {
  const derived = shownLists();
  const seen = new Set();
  const order = [];
  const tickets = derived.tickets[state.ticketFilter] || [];
  for (const c of [...derived.queue, ...derived.mine, ...tickets, ...(allSection.open ? derived.all : [])]) {
    if (!seen.has(c.id)) {
      seen.add(c.id);
      order.push(c.id);
    }
  }
  return order;
}

export function onListClick(handler) {
  for (const list of Object.values(sections)) {
    list.addEventListener("click", (event) => {
      const node = event.target.closest(".conv-item");
      if (node) handler(Number(node.dataset.conversationId));
    });
  }
}
