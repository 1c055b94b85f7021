// The emoji picker of the reply box: the desk's own list (static/desk/emoji.json, shared with the widget), fetched
// the first time it opens; a click or Enter puts the emoji at the caret. Escape closes it and returns to the box.
let list = null;

async function emojiList() {
  if (!list) {
    const response = await fetch(document.body.dataset.emojiUrl);
    list = (await response.json()).emoji;
  }
  return list;
}

export class EmojiPicker {
  constructor({ button, box, textarea }) {
    this.button = button;
    this.box = box;
    this.textarea = textarea;
    button.addEventListener("click", () => (box.hidden ? this.open() : this.close()));
    box.addEventListener("keydown", (event) => this.onKey(event));
    box.addEventListener("click", (event) => {
      const choice = event.target.closest("button[data-emoji]");
      if (choice) this.insert(choice.dataset.emoji);
    });
    document.addEventListener("click", (event) => {
      if (!box.hidden && !box.contains(event.target) && !button.contains(event.target)) this.close(false);
    });
  }

  async open() {
    if (!this.box.childElementCount) {
      const buttons = (await emojiList()).map((emoji) => {
        const choice = document.createElement("button");
        choice.type = "button";
        choice.className = "emoji-choice";
        choice.dataset.emoji = emoji;
        choice.textContent = emoji;
        return choice;
      });
      this.box.replaceChildren(...buttons);
    }
    this.box.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.box.querySelector("button")?.focus();
  }

  close(focusBox = true) {
    this.box.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (focusBox) this.textarea.focus();
  }

  insert(emoji) {
    const { selectionStart: start, selectionEnd: end } = this.textarea;
    this.textarea.setRangeText(emoji, start ?? this.textarea.value.length, end ?? this.textarea.value.length, "end");
    this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
    this.close();
  }

  // Arrows move through the grid (rows of the box's width), Escape closes.
  onKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
      return;
    }
    const choices = [...this.box.querySelectorAll("button")];
    const index = choices.indexOf(document.activeElement);
    if (index < 0) return;
    const perRow = Math.max(1, Math.round(this.box.clientWidth / choices[0].offsetWidth));
    const rtl = getComputedStyle(this.box).direction === "rtl";
    const steps = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1, ArrowDown: perRow, ArrowUp: -perRow };
    if (event.key in steps) {
      event.preventDefault();
      choices[Math.min(choices.length - 1, Math.max(0, index + steps[event.key]))].focus();
    }
  }
}
