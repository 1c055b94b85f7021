// The left column: waiting queue, my conversations, all open ones. Rebuilt from the state on every change.
import {
  contactName,
  count,
  duration,
  firstResponseSla,
  previewText,
  resolutionLabel,
  resolutionSla,
  slaLabel,
  t,
  waitedSeconds,
} from "./format.js";
import { inboxNames, isMine, lists, state } from "./state.js";

const template = document.getElementById("tpl-conv-item");
const sections = {
  queue: document.getElementById("list-queue"),
  mine: document.getElementById("list-mine"),
  all: document.getElementById("list-all"),
};

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
  const badge = node.querySelector(".conv-badge");
  badge.hidden = unread === 0;
  badge.textContent = count(unread);
  let preview = previewText(conversation);
  if (listName === "all" && conversation.assignee && !isMine(conversation)) {
    preview = `${t("claimed_by", { name: conversation.assignee.name })}${preview ? ` — ${preview}` : ""}`;
  }
  node.querySelector(".conv-preview").textContent = preview;
  node.querySelector(".conv-channel").textContent = channelLabel(conversation);
  const button = node.querySelector(".conv-btn");
  button.setAttribute("aria-current", conversation.id === state.selectedId ? "true" : "false");
  button.setAttribute("aria-label", `${contactName(conversation)}, ${channelLabel(conversation)}`);
  updateTimer(node.querySelector(".conv-timer"), conversation);
  return node;
}

function updateTimer(element, conversation, now = Date.now()) {
  const sla = firstResponseSla(conversation, now);
  element.className = "conv-timer";
  if (conversation.status === "queued") {
    element.textContent = duration(waitedSeconds(conversation, now));
    element.title = sla ? slaLabel(sla) : t("waiting");
    if (sla) element.classList.add(`sla-${sla.level}`);
  } else if (sla) {
    element.textContent = duration(Math.abs(sla.left));
    element.title = slaLabel(sla);
    element.classList.add(`sla-${sla.level}`);
  } else {
    element.textContent = duration(waitedSeconds(conversation, now));
    const resolution = resolutionSla(conversation, now);
    element.title = resolution ? resolutionLabel(resolution) : "";
    if (resolution) element.classList.add(`sla-${resolution.level}`);
  }
}

export function renderLists() {
  const focused = document.activeElement?.closest?.(".conv-item");
  const focusKey = focused ? `${focused.dataset.list}:${focused.dataset.conversationId}` : null;
  const derived = lists();
  for (const [name, list] of Object.entries(sections)) {
    list.replaceChildren(...derived[name].map((c) => item(c, name)));
    document.getElementById(`${name}-count`).textContent = count(derived[name].length);
  }
  document.getElementById("queue-count").classList.toggle("has", derived.queue.length > 0);
  if (focusKey) {
    const [name, id] = focusKey.split(":");
    sections[name].querySelector(`[data-conversation-id="${id}"] .conv-btn`)?.focus();
  }
  return derived;
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

// Conversation ids in the order j/k walks them: the queue, mine, then everyone's when that list is unfolded.
export function navigationOrder() {
  const derived = lists();
  const seen = new Set();
  const order = [];
  for (const c of [...derived.queue, ...derived.mine, ...(allSection.open ? derived.all : [])]) {
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
