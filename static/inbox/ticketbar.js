// The ticket bar: status and priority through the tickets app's operator API, and the follow-up offer.
import { t } from "./format.js";
import { api, toast } from "./http.js";
import { state } from "./state.js";

const $ = (id) => document.getElementById(id);
let reloadConversation = () => {};

export function applyTicket(ticket) {
  for (const conversation of state.conversations.values()) {
    if (conversation.ticket?.id === ticket.id) conversation.ticket = { ...conversation.ticket, ...ticket };
  }
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
