// Catching up after a reconnect. The server replays what was missed, then says "sync.done"; until then a replayed
// "conversation.queued" may be long taken, so alerts wait for the end of the replay. At its end the open
// conversations are fetched as stored now, and the chats the replay queued that still wait get their alert.
import { api } from "./http.js";
import { newestMessageId, replaceOpenConversations, state, updatesMark } from "./state.js";

export class Sync {
  // `render()` redraws the page, `refresh(id, {after})` reloads a conversation, `alertQueued(c)` announces a chat.
  constructor({ render, refresh, alertQueued }) {
    Object.assign(this, { render, refresh, alertQueued });
    this.active = false;
    this.welcomes = 0;
    this.missedQueued = new Set();
    this.timer = null;
  }

  start() {
    Object.assign(this, { active: true, welcomes: 0 });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.finish(), 10_000);
  }

  // The first welcome greets the new connection; a second one answers a `sync` that was too far behind.
  onWelcome(queue) {
    if (this.active && ++this.welcomes > 1) this.finish();
    // Chats that started waiting while we were away still deserve their alert.
    for (const conversation of queue) {
      if (this.active && state.conversations.get(conversation.id)?.status !== "queued") {
        this.missedQueued.add(conversation.id);
      }
    }
  }

  // A chat newly waiting: alerted now, or at the end of the replay if it still waits then.
  onQueued(conversation) {
    if (this.active) this.missedQueued.add(conversation.id);
    else this.alertQueued(conversation);
  }

  finish() {
    if (!this.active) return;
    this.active = false;
    clearTimeout(this.timer);
    this.reload().then(() => {
      for (const id of this.missedQueued) {
        const conversation = state.conversations.get(id);
        if (conversation?.status === "queued") this.alertQueued(conversation);
      }
      this.missedQueued.clear();
    });
  }

  // The state as stored now, after the replay: the open conversations, and what the open thread missed.
  async reload() {
    try {
      const mark = updatesMark();
      replaceOpenConversations((await api("/inbox/conversations/")).conversations, mark);
    } catch {
      return;
    }
    this.render();
    if (state.selectedId) {
      this.refresh(state.selectedId, { after: newestMessageId(state.selectedId) }).catch(() => {});
    }
  }
}
