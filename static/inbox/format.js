// Formatting helpers shared by the inbox modules: translated strings, durations, times, names.
const strings = JSON.parse(document.getElementById("inbox-strings").textContent);
const lang = document.documentElement.lang || "en";
const timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
const shortDateFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium" });
const two = new Intl.NumberFormat(lang, { minimumIntegerDigits: 2, useGrouping: false });
const one = new Intl.NumberFormat(lang, { useGrouping: false });

// t("typing", {name: "Ana"}) -> "Ana is typing…"; placeholders use Django's %(name)s form.
export function t(key, values = {}) {
  const text = strings[key] ?? key;
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

export function duration(totalSeconds) {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${one.format(h)}:${two.format(m)}:${two.format(s)}` : `${one.format(m)}:${two.format(s)}`;
}

// A count (unread, chats, transfers) in the page language's digits.
export function count(n) {
  return one.format(n);
}

export function clock(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "";
}

export function dateTime(iso) {
  return iso ? dateTimeFormat.format(new Date(iso)) : "";
}

export function shortDate(iso) {
  return iso ? shortDateFormat.format(new Date(iso)) : "";
}

export function contactName(conversation) {
  const contact = conversation.contact || {};
  return contact.name || `${t("visitor")} #${contact.id ?? conversation.id}`;
}

// A face (protocol.md): the photo when there is one, else the initials on their colour; decorative (the name is beside it).
export function faceNode(face, size = "") {
  const node = document.createElement(face?.avatar_url ? "img" : "span");
  node.className = `face${size ? ` face-${size}` : ""}`;
  node.setAttribute("aria-hidden", "true");
  if (face?.avatar_url) {
    // A photo replaced since the frame was sent answers 404: show the initials instead.
    node.addEventListener("error", () => node.replaceWith(faceNode({ ...face, avatar_url: null }, size)), { once: true });
    node.src = face.avatar_url;
    node.alt = "";
  } else {
    node.dataset.i = face?.initials || "?";
    if (face?.colour) node.style.backgroundColor = face.colour;
  }
  return node;
}

export function previewText(conversation) {
  const last = conversation.last_message;
  if (!last) return "";
  const body = typeof last === "string" ? last : last.body || "";
  return body.replace(/\s+/g, " ").slice(0, 140);
}

// SLA state of the first reply: "ok", "risk" or "breached" (null once answered or without a ticket).
export function firstResponseSla(conversation, now = Date.now()) {
  const ticket = conversation.ticket;
  if (!ticket || conversation.first_response_at || ticket.first_response_at || !ticket.first_response_due_at) {
    return null;
  }
  const due = Date.parse(ticket.first_response_due_at);
  const start = Date.parse(conversation.requested_at || conversation.created_at);
  const left = (due - now) / 1000;
  let level = "ok";
  if (ticket.first_response_breached || left <= 0) level = "breached";
  else if (ticket.first_response_at_risk || left <= 0.2 * Math.max(1, (due - start) / 1000)) level = "risk";
  return { level, left };
}

// SLA state of the resolution, once the first reply is done: "risk" or "breached" (null while nothing is at stake).
export function resolutionSla(conversation, now = Date.now()) {
  const ticket = conversation.ticket;
  if (!ticket || ticket.status !== "open" || !ticket.resolution_due_at) return null;
  if (conversation.status === "ended" && !conversation.mail) return null;
  const due = Date.parse(ticket.resolution_due_at);
  if (ticket.resolution_breached || due <= now) return { level: "breached", due: ticket.resolution_due_at };
  if (ticket.resolution_at_risk) return { level: "risk", due: ticket.resolution_due_at };
  return null;
}

export function slaLabel(sla) {
  return sla.left > 0 ? t("sla_due_in", { time: duration(sla.left) }) : t("sla_breached", { time: duration(-sla.left) });
}

export function resolutionLabel(resolution) {
  const key = resolution.level === "breached" ? "resolution_overdue" : "resolution_due";
  return t(key, { time: dateTime(resolution.due) });
}

export function waitedSeconds(conversation, now = Date.now()) {
  return (now - Date.parse(conversation.requested_at || conversation.created_at)) / 1000;
}
