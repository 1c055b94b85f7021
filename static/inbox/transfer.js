// The transfer dialog: the inbox's other operators (presence and load) and its teams, with a note.
import { t } from "./format.js";
import { api, toast } from "./http.js";
import { canAct, state } from "./state.js";

const $ = (id) => document.getElementById(id);
const dialog = $("transfer-dialog");

function targetRow(name, value, label, load, status) {
  const item = document.createElement("li");
  const labelNode = document.createElement("label");
  const radio = document.createElement("input");
  radio.type = "radio";
  radio.name = "target";
  radio.value = `${name}:${value}`;
  labelNode.append(radio);
  if (status) {
    const dot = document.createElement("span");
    dot.className = `dot dot-${status}`;
    labelNode.append(dot);
  }
  const text = document.createElement("span");
  text.textContent = label;
  const loadNode = document.createElement("span");
  loadNode.className = "target-load";
  loadNode.textContent = load;
  labelNode.append(text, loadNode);
  item.append(labelNode);
  return item;
}

function emptyRow() {
  const item = document.createElement("li");
  item.className = "target-empty";
  item.textContent = "—";
  return item;
}

export async function openTransfer() {
  const conversation = state.conversations.get(state.selectedId);
  if (!conversation || !canAct(conversation)) return;
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
    const load = t("load", { active: operator.active_chats, max: operator.max_chats });
    return targetRow("operator", operator.id, operator.name, `${t(operator.status)} · ${load}`, operator.status);
  });
  const teams = targets.teams.map((team) => targetRow("team", team.id, team.name, `${t("online")}: ${team.online}`));
  $("transfer-operators").replaceChildren(...(operators.length ? operators : [emptyRow()]));
  $("transfer-teams").replaceChildren(...(teams.length ? teams : [emptyRow()]));
  dialog.dataset.conversationId = conversation.id;
  dialog.showModal();
  dialog.querySelector('input[name="target"]')?.focus();
}

// `onTransfer(frame)` sends the conversation.transfer frame the operator composed.
export function bindTransfer(onTransfer) {
  $("transfer-form").addEventListener("submit", (event) => {
    const choice = dialog.querySelector('input[name="target"]:checked');
    if (!choice) {
      event.preventDefault();
      $("transfer-error").textContent = t("transfer_pick");
      return;
    }
    const [kind, id] = choice.value.split(":");
    const frame = { type: "conversation.transfer", conversation_id: Number(dialog.dataset.conversationId) };
    frame[kind === "operator" ? "to_operator_id" : "to_team_id"] = Number(id);
    const note = $("transfer-note").value.trim();
    if (note) frame.note = note;
    onTransfer(frame);
  });
  $("transfer-cancel").addEventListener("click", () => dialog.close());
}
