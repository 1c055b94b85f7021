// Labels: chips on the list items and in the thread header, the header's picker, and the lists' label filter.
// The filter works on the lists the page holds (every open conversation of her inboxes and the open tickets).
import { t } from "./format.js";
import { inboxNames, state } from "./state.js";

const FILTER_KEY = "supportdesk.inbox.label-filter";
const $ = (id) => document.getElementById(id);
const filterSelect = $("label-filter");
const picker = $("label-picker");
const pickerButton = $("labels-edit");
const pickerList = $("label-picker-list");

state.labelFilter = Number(sessionStorage.getItem(FILTER_KEY)) || null;

// The labels a conversation may carry: its inbox's and the global ones (by name, as the server sends them).
export function usableLabels(conversation) {
  return state.labels.filter((label) => label.inbox_id === null || label.inbox_id === conversation.inbox_id);
}

export function matchesLabelFilter(conversation) {
  return !state.labelFilter || (conversation.labels || []).some((label) => label.id === state.labelFilter);
}

export function chip(label) {
  const node = document.createElement("span");
  node.className = "label-chip";
  node.dir = "auto";
  node.style.setProperty("--label-colour", label.colour);
  node.textContent = label.name;
  return node;
}

export function fillChips(container, conversation) {
  container.replaceChildren(...(conversation.labels || []).map(chip));
}

function optionText(label) {
  // Two inboxes may each have a "Billing": the inbox's name tells them apart.
  const several = Object.keys(inboxNames).length > 1;
  return several && label.inbox_id !== null ? `${label.name} · ${inboxNames[String(label.inbox_id)] || ""}` : label.name;
}

export function renderLabelFilter() {
  const known = state.labels.some((label) => label.id === state.labelFilter);
  if (state.labelFilter && !known) state.labelFilter = null;
  const all = document.createElement("option");
  all.value = "";
  all.textContent = t("label_filter_all");
  const options = state.labels.map((label) => {
    const option = document.createElement("option");
    option.value = String(label.id);
    option.textContent = optionText(label);
    return option;
  });
  filterSelect.replaceChildren(all, ...options);
  filterSelect.value = state.labelFilter ? String(state.labelFilter) : "";
  $("label-filter-row").hidden = state.labels.length === 0;
}

export function bindLabelFilter(render) {
  filterSelect.addEventListener("change", () => {
    state.labelFilter = Number(filterSelect.value) || null;
    if (state.labelFilter) sessionStorage.setItem(FILTER_KEY, String(state.labelFilter));
    else sessionStorage.removeItem(FILTER_KEY);
    render();
  });
}

// --- The thread header's chips and picker ---------------------------------------------------------------

export function renderThreadLabels(conversation) {
  fillChips($("thread-labels"), conversation);
  pickerButton.hidden = false;
  if (!picker.hidden) fillPicker(conversation);
}

function fillPicker(conversation) {
  const usable = usableLabels(conversation);
  const on = new Set((conversation.labels || []).map((label) => label.id));
  const focusedId = document.activeElement?.closest?.("#label-picker-list") ? document.activeElement.value : null;
  if (!usable.length) {
    const empty = document.createElement("li");
    empty.className = "label-picker-empty";
    empty.textContent = t("labels_none_available");
    pickerList.replaceChildren(empty);
    return;
  }
  pickerList.replaceChildren(
    ...usable.map((label) => {
      const item = document.createElement("li");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = String(label.id);
      box.checked = on.has(label.id);
      box.id = `label-option-${label.id}`;
      const text = document.createElement("label");
      text.htmlFor = box.id;
      text.append(chip(label));
      item.append(box, text);
      return item;
    }),
  );
  if (focusedId) pickerList.querySelector(`input[value="${focusedId}"]`)?.focus();
}

function openPicker() {
  const conversation = state.conversations.get(state.selectedId);
  if (!conversation) return;
  picker.hidden = false;
  pickerButton.setAttribute("aria-expanded", "true");
  fillPicker(conversation);
  (pickerList.querySelector("input") || picker).focus();
}

export function closePicker({ focusButton = false } = {}) {
  if (picker.hidden) return;
  picker.hidden = true;
  pickerButton.setAttribute("aria-expanded", "false");
  if (focusButton) pickerButton.focus();
}

// `send(conversationId, labelIds)`: the frame goes out; the chips change when the server's conversation.updated
// comes back (a refusal leaves them as they were).
export function bindLabelPicker(send) {
  pickerButton.addEventListener("click", () => (picker.hidden ? openPicker() : closePicker({ focusButton: true })));
  pickerList.addEventListener("change", (event) => {
    if (!(event.target instanceof HTMLInputElement)) return;
    const ids = [...pickerList.querySelectorAll("input:checked")].map((box) => Number(box.value));
    send(state.selectedId, ids);
  });
  picker.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closePicker({ focusButton: true });
    }
  });
  document.addEventListener("click", (event) => {
    if (!picker.hidden && !picker.contains(event.target) && !pickerButton.contains(event.target)) closePicker();
  });
}
