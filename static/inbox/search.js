// Conversation search (docs/inbox.md, Search): the box at the top of the left column, its own key (s, Ctrl+K).
// Results replace the lists while a query is typed; ↑/↓ choose, Enter or a click opens, Esc closes. Every value
// the desk sends is written as text: the matched pieces become <mark> elements made here, never parsed HTML.
import { contactName, count, shortDate, t } from "./format.js";
import { api } from "./http.js";
import { channelLabel } from "./lists.js";

const DELAY_MS = 200;
const sidebar = document.querySelector(".sidebar");
const input = document.getElementById("search-input");
const list = document.getElementById("search-results");
const status = document.getElementById("search-status");
let timer = null;
let asked = 0;
let results = [];
let active = -1;
let onOpen = () => {};

function segmentsNode(segments, className) {
  const node = document.createElement("span");
  node.className = className;
  node.dir = "auto";
  for (const segment of segments) {
    if (segment.match) {
      const mark = document.createElement("mark");
      mark.textContent = segment.text;
      node.append(mark);
    } else {
      node.append(document.createTextNode(segment.text));
    }
  }
  return node;
}

function statusText(result) {
  if (result.status === "ended") return t(result.end_reason ? `end_${result.end_reason}` : "status_ended");
  return t(`status_${result.status}`);
}

function resultNode(result, index) {
  const item = document.createElement("li");
  item.className = "search-result";
  item.id = `search-result-${result.id}`;
  item.setAttribute("role", "option");
  item.setAttribute("aria-selected", String(index === active));
  item.dataset.conversationId = result.id;
  const { field, segments } = result.match;
  const top = document.createElement("span");
  top.className = "search-top";
  top.append(
    field === "name"
      ? segmentsNode(segments, "search-name")
      : segmentsNode([{ text: contactName(result), match: false }], "search-name"),
  );
  const state = document.createElement("span");
  state.className = `search-state search-${result.status}`;
  state.textContent = statusText(result);
  top.append(state);
  item.append(top);
  if (field === "email") item.append(segmentsNode(segments, "search-line"));
  if (field === "ticket") {
    const ticket = document.createElement("span");
    ticket.className = "search-line";
    const mark = document.createElement("mark");
    mark.textContent = t("ticket", { id: result.ticket_id });
    ticket.append(mark);
    item.append(ticket);
  }
  if (field === "message") {
    const line = segmentsNode(segments, "search-line");
    if (result.match.private) {
      line.classList.add("search-note");
      const note = document.createElement("span");
      note.className = "search-note-label";
      note.textContent = t("search_in_note");
      item.append(note);
    }
    item.append(line);
  }
  const meta = document.createElement("span");
  meta.className = "search-meta";
  const when = result.last_activity_at ? shortDate(result.last_activity_at) : "";
  const ticket = result.ticket_id && field !== "ticket" ? t("ticket", { id: result.ticket_id }) : "";
  meta.textContent = [channelLabel(result), ticket, when].filter(Boolean).join(" · ");
  item.append(meta);
  return item;
}

function show() {
  list.replaceChildren(...results.map(resultNode));
  list.hidden = results.length === 0;
  input.setAttribute("aria-expanded", String(results.length > 0));
  if (active >= 0 && results[active]) {
    input.setAttribute("aria-activedescendant", `search-result-${results[active].id}`);
    document.getElementById(`search-result-${results[active].id}`).scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

async function run(query) {
  const mine = ++asked;
  let data;
  try {
    data = await api(`/inbox/search/?q=${encodeURIComponent(query)}`);
  } catch (error) {
    if (mine !== asked) return;
    results = [];
    status.textContent = t("search_failed", { detail: error.message });
    show();
    return;
  }
  if (mine !== asked) return; // a newer query was sent meanwhile
  results = data.results;
  active = results.length ? 0 : -1;
  const found = results.length ? t("search_results", { count: count(results.length) }) : t("search_empty");
  status.textContent = data.message || found;
  show();
}

function changed() {
  clearTimeout(timer);
  const query = input.value.trim();
  sidebar.classList.toggle("searching", query !== "");
  if (!query) {
    asked++;
    results = [];
    status.textContent = "";
    show();
    return;
  }
  timer = setTimeout(() => run(query), DELAY_MS);
}

function open(index) {
  const result = results[index];
  if (!result) return;
  active = index;
  show();
  onOpen(result.id);
}

export function closeSearch() {
  if (!input.value && !sidebar.classList.contains("searching")) return;
  input.value = "";
  changed();
}

export function focusSearch() {
  input.focus();
  input.select();
}

export function bindSearch(openConversation) {
  onOpen = openConversation;
  input.addEventListener("input", changed);
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!results.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + results.length) % results.length;
      show();
    } else if (event.key === "Enter") {
      event.preventDefault();
      open(active >= 0 ? active : 0);
    }
  });
  list.addEventListener("click", (event) => {
    const item = event.target.closest(".search-result");
    if (item) open(results.findIndex((r) => r.id === Number(item.dataset.conversationId)));
  });
}
