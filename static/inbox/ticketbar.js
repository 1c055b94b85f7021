// The ticket bar: status and priority through the tickets app's operator API, and the follow-up offer.
import { clock, contactName, t } from "./format.js";
import { api, toast } from "./http.js";
import { state } from "./state.js";

const $ = (id) => document.getElementById(id);
let reloadConversation = () => {};

export function applyTicket(ticket) {
  for (const conversation of state.conversations.values()) {
    if (conversation.ticket?.id === ticket.id) conversation.ticket = { ...conversation.ticket, ...ticket };
  }
}

// `sla.alert` from the server's sweep: the ticket's flag is raised at once (the list and the thread show it), and the
// operator it concerns is told: the assignee, or everyone while the chat waits in the queue. Alerts replayed by a
// `sync` after a reconnect only raise the flags (`quiet`): the list already shows where each chat stands.
export function applySlaAlert(frame, { quiet = false } = {}) {
  let concerned = null;
  for (const conversation of state.conversations.values()) {
    if (conversation.ticket?.id !== frame.ticket_id) continue;
    const flags = { [`${frame.target}_at_risk`]: true, [`${frame.target}_due_at`]: frame.due_at };
    if (frame.state === "breached") flags[`${frame.target}_breached`] = true;
    conversation.ticket = { ...conversation.ticket, ...flags };
    if (!concerned || conversation.id === frame.conversation_id) concerned = conversation;
  }
  if (!concerned || quiet || concerned.status === "ended") return;
  if (concerned.status !== "queued" && concerned.assignee?.id !== state.me.id) return;
  const text = t(`sla_alert_${frame.target}_${frame.state}`, {
    name: contactName(concerned),
    time: clock(frame.due_at),
  });
  toast(text, frame.state === "breached" ? "error" : "info");
}

// `render()` redraws the page; `onFollowup(conversationId)` reloads a conversation that changed ticket.
export function bindTicketBar({ render, onFollowup }) {
  // The API answers with the ticket as stored now.
  async function change(field, value) {
    const conversation = state.conversations.get(state.selectedId);
    if (!conversation?.ticket) return;
    try {
      const url = `/api/tickets/${conversation.ticket.id}/${field}/`;
      applyTicket(await api(url, { method: "POST", body: { [field]: value } }));
      toast(t("saved"));
    } catch (error) {
      toast(t("save_failed", { detail: error.message }), "error");
    }
    render();
  }
  $("ticket-status").addEventListener("change", (event) => change("status", event.target.value));
  $("ticket-priority").addEventListener("change", (event) => change("priority", event.target.value));
  reloadConversation = onFollowup;
}

// The contact's earlier ticket that this conversation may continue (offered while the conversation is open).
export async function loadFollowup(conversationId) {
  const slot = $("followup-slot");
  slot.replaceChildren();
  const conversation = state.conversations.get(conversationId);
  if (!conversation || conversation.status === "ended") return;
  const url = `/api/conversations/${conversationId}/followup/`;
  let candidate;
  try {
    candidate = (await api(url)).ticket;
  } catch {
    return;
  }
  if (!candidate || state.selectedId !== conversationId) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-small";
  button.textContent = t("followup_of", { id: candidate.id });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api(url, { method: "POST", body: { ticket_id: candidate.id } });
    } catch (error) {
      button.disabled = false;
      toast(t("save_failed", { detail: error.message }), "error");
      return;
    }
    slot.replaceChildren();
    toast(t("followup_done", { id: candidate.id }));
    reloadConversation(conversationId);
  });
  slot.append(button);
}
