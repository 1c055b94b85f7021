// Saved replies: "/" opens a search by shortcut or title; the chosen text is inserted into the reply for editing,
// and its id goes with the message so that its use is recorded.
import { t } from "./format.js";

export class CannedReplies {
  constructor({ box, search, list, textarea, inboxId, onPick }) {
    Object.assign(this, { box, search, list, textarea, inboxId, onPick });
    this.results = [];
    this.active = 0;
    this.debounce = null;
    search.addEventListener("input", () => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.load(), 120);
    });
    search.addEventListener("keydown", (event) => this.onKey(event));
    list.addEventListener("mousedown", (event) => {
      const item = event.target.closest("[data-index]");
      if (!item) return;
      event.preventDefault();
      this.choose(Number(item.dataset.index));
    });
  }

  get isOpen() {
    return !this.box.hidden;
  }

  open() {
    this.box.hidden = false;
    this.search.value = "";
    this.search.focus();
    this.load();
  }

  close({ refocus = true } = {}) {
    if (!this.isOpen) return;
    this.box.hidden = true;
    if (refocus) this.textarea.focus();
  }

  async load() {
    const params = new URLSearchParams({ q: this.search.value });
    const inboxId = this.inboxId();
    if (inboxId) params.set("inbox", inboxId);
    let response;
    try {
      response = await fetch(`/inbox/canned-replies/?${params}`, { headers: { Accept: "application/json" } });
    } catch {
      return;
    }
    if (!response.ok) return;
    this.results = (await response.json()).results;
    this.active = 0;
    this.render();
  }

  render() {
    this.list.replaceChildren();
    if (!this.results.length) {
      const empty = document.createElement("li");
      empty.className = "canned-empty";
      empty.textContent = t("no_canned");
      this.list.append(empty);
      return;
    }
    this.results.forEach((reply, index) => {
      const item = document.createElement("li");
      item.id = `canned-${reply.id}`;
      item.role = "option";
      item.dataset.index = index;
      item.setAttribute("aria-selected", String(index === this.active));
      const shortcut = document.createElement("span");
      shortcut.className = "canned-shortcut";
      shortcut.textContent = `/${reply.shortcut}`;
      const title = document.createElement("span");
      title.textContent = reply.title;
      title.dir = "auto";
      const language = document.createElement("span");
      language.className = "canned-lang";
      language.textContent = reply.language;
      const body = document.createElement("span");
      body.className = "canned-body";
      body.textContent = reply.body;
      body.dir = "auto";
      item.append(shortcut, title, language, body);
      this.list.append(item);
    });
    const current = this.results[this.active];
    if (current) this.search.setAttribute("aria-activedescendant", `canned-${current.id}`);
    this.list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: "nearest" });
  }

  onKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!this.results.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.results.length) % this.results.length;
      this.render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (this.results.length) this.choose(this.active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
    }
  }

  choose(index) {
    const reply = this.results[index];
    if (!reply) return;
    const { textarea } = this;
    const start = textarea.selectionStart;
    const before = textarea.value.slice(0, start).replace(/\/$/, "");
    const after = textarea.value.slice(textarea.selectionEnd);
    textarea.value = before + reply.body + after;
    this.close();
    const caret = before.length + reply.body.length;
    textarea.setSelectionRange(caret, caret);
    this.onPick(reply);
  }
}
