// Files for the next reply: picked with "Attach files", dropped on the composer or pasted (a screenshot). Each is
// uploaded at once to the open conversation (POST /inbox/conversations/<id>/uploads/); the reply names their ids.
import { t } from "./format.js";
import { toast } from "./http.js";

const $ = (id) => document.getElementById(id);
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

export class Attachments {
  constructor({ conversationId }) {
    this.conversationId = conversationId;
    this.items = [];
    this.tray = $("attach-tray");
    const picker = $("attach-input");
    $("attach-open").addEventListener("click", () => picker.click());
    picker.addEventListener("change", () => {
      this.add(picker.files);
      picker.value = "";
    });
    const composer = $("composer");
    composer.addEventListener("dragover", (event) => event.preventDefault());
    composer.addEventListener("drop", (event) => {
      event.preventDefault();
      this.add(event.dataTransfer?.files);
    });
    $("composer-input").addEventListener("paste", (event) => {
      const files = event.clipboardData?.files;
      if (files?.length) {
        event.preventDefault();
        this.add(files);
      }
    });
  }

  add(files) {
    for (const file of Array.from(files || [])) {
      const item = { name: file.name || "screenshot.png", size: file.size, id: null, state: "uploading" };
      this.items.push(item);
      item.done = this.upload(item, file);
    }
    this.render();
  }

  async upload(item, file) {
    const form = new FormData();
    form.append("file", file, item.name);
    const conversationId = this.conversationId();
    try {
      const response = await fetch(`/inbox/conversations/${conversationId}/uploads/`, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken },
        body: form,
        credentials: "same-origin",
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error((data.file && data.file[0]) || data.error || response.statusText);
      Object.assign(item, data, { state: "ready" });
    } catch (error) {
      toast(t("upload_failed", { name: item.name, reason: error.message }), "error");
      this.items = this.items.filter((other) => other !== item);
    }
    this.render();
  }

  ready() {
    return this.items.filter((item) => item.state === "ready");
  }

  // Resolves once every file still uploading is up (or refused).
  settled() {
    return Promise.all(this.items.map((item) => item.done));
  }

  clear() {
    this.items = [];
    this.render();
  }

  render() {
    this.tray.replaceChildren(
      ...this.items.map((item) => {
        const row = document.createElement("li");
        const label = document.createElement("span");
        label.textContent = item.state === "uploading" ? `${item.name} · ${t("uploading")}` : item.name;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link-btn";
        remove.textContent = "×";
        remove.setAttribute("aria-label", t("attach_remove", { name: item.name }));
        remove.addEventListener("click", () => {
          this.items = this.items.filter((other) => other !== item);
          this.render();
        });
        row.append(label, remove);
        return row;
      })
    );
    this.tray.hidden = !this.items.length;
  }
}
