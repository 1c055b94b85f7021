// The reply box: replies and private notes (sent with a client id, shown at once, confirmed by the ack),
// saved replies on "/", and the typing indicator the visitor sees (never for a private note).
import { CannedReplies } from "./canned.js";
import { EmojiPicker } from "./emoji.js";
import { t } from "./format.js";
import { toast } from "./http.js";
import { Attachments } from "./attachments.js";
import { state, threadOf } from "./state.js";
import { renderMessages, setPrivateMode } from "./thread.js";

const $ = (id) => document.getElementById(id);
const input = $("composer-input");
const privateToggle = $("private-toggle");
const TYPING_REPEAT_MS = 2000;
const TYPING_IDLE_MS = 4000;

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class Composer {
  // `send(frame)` puts a frame on the operator's socket.
  constructor({ send }) {
    this.send = send;
    this.cannedReplyId = null;
    this.typingTimer = null;
    this.typingSentAt = 0;
    this.canned = new CannedReplies({
      box: $("canned"),
      search: $("canned-search"),
      list: $("canned-list"),
      textarea: input,
      inboxId: () => state.conversations.get(state.selectedId)?.inbox_id,
      onPick: (reply) => {
        this.cannedReplyId = reply.id;
      },
    });
    input.addEventListener("input", () => this.onInput());
    input.addEventListener("keydown", (event) => this.onKey(event));
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendMessage();
    });
    privateToggle.addEventListener("change", () => this.setPrivate(privateToggle.checked));
    this.files = new Attachments({ conversationId: () => state.selectedId });
    $("canned-open").addEventListener("click", () => this.canned.open());
    this.emoji = new EmojiPicker({ button: $("emoji-open"), box: $("emoji-box"), textarea: input });
    $("thread").addEventListener("click", (event) => {
      const button = event.target.closest("[data-retry]");
      if (button) this.retry(button.dataset.retry);
    });
    setPrivateMode(false);
  }

  // Another conversation was opened: nothing half-written follows the operator there.
  reset() {
    this.stopTyping();
    input.value = "";
    this.cannedReplyId = null;
    this.files.clear();
  }

  focus() {
    input.focus();
  }

  openCanned() {
    input.focus();
    this.canned.open();
  }

  closeCanned() {
    this.canned.close({ refocus: false });
  }

  setPrivate(on) {
    if (on) this.stopTyping();
    setPrivateMode(on);
  }

  togglePrivate() {
    this.setPrivate(!privateToggle.checked);
  }

  async sendMessage() {
    const conversationId = state.selectedId;
    if (this.sending || !conversationId) return;
    // Files still uploading go with this reply: it leaves once they are up.
    this.sending = true;
    try {
      await this.files.settled();
    } finally {
      this.sending = false;
    }
    if (conversationId !== state.selectedId) return;
    const body = input.value.trim();
    const files = this.files.ready();
    if (!body && !files.length) return;
    if (body.length > state.maxChars) {
      toast(t("error_too_large"), "error");
      return;
    }
    const isPrivate = privateToggle.checked;
    const frame = {
      type: "message.send",
      conversation_id: conversationId,
      client_id: newClientId(),
      body,
      private: isPrivate,
    };
    if (this.cannedReplyId) frame.canned_reply_id = this.cannedReplyId;
    if (files.length) frame.attachments = files.map((file) => file.id);
    threadOf(conversationId).set(`c:${frame.client_id}`, {
      conversation_id: conversationId,
      client_id: frame.client_id,
      sender: "operator",
      author_name: state.me.name,
      author: state.me.face,
      body,
      private: isPrivate,
      attachments: files,
      pending: true,
      frame,
    });
    this.send(frame);
    this.reset();
    renderMessages(conversationId);
  }

  retry(clientId) {
    const message = threadOf(state.selectedId).get(`c:${clientId}`);
    if (!message) return;
    message.failed = false;
    message.pending = true;
    this.send(message.frame);
    renderMessages(state.selectedId);
  }

  sendTyping(isTyping) {
    if (state.selectedId) this.send({ type: "typing", conversation_id: state.selectedId, is_typing: isTyping });
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingSentAt) this.sendTyping(false);
    this.typingSentAt = 0;
  }

  onInput() {
    if (!input.value) this.cannedReplyId = null;
    if (privateToggle.checked) return;
    if (Date.now() - this.typingSentAt > TYPING_REPEAT_MS) {
      this.sendTyping(true);
      this.typingSentAt = Date.now();
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  onKey(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.sendMessage();
    } else if (event.key === "/" && /(^|\n)$/.test(input.value.slice(0, input.selectionStart))) {
      event.preventDefault();
      this.canned.open();
    } else if (event.key === "Escape") {
      input.blur();
    }
  }
}
