// Single-key shortcuts for the frequent actions (listed in the "?" dialog). Ignored while typing in a field,
// except Esc; ignored with Ctrl/Alt/Meta so that browser shortcuts keep working, but for Ctrl+K (⌘K), the search
// key of many web apps, which works from anywhere, the reply box included.
const KEYS = {
  j: "next",
  k: "previous",
  c: "claim",
  r: "reply",
  e: "resolve",
  t: "transfer",
  n: "togglePrivate",
  "/": "canned",
  a: "presence",
  s: "search",
  "?": "help",
};

function isTypingTarget(element) {
  return (
    element instanceof HTMLTextAreaElement ||
    element instanceof HTMLSelectElement ||
    (element instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit"].includes(element.type)) ||
    element?.isContentEditable
  );
}

export function bindShortcuts(actions) {
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
      if (document.querySelector("dialog[open]")) return;
      event.preventDefault();
      actions.search();
      return;
    }
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
    if (event.key === "Escape") {
      actions.escape();
      if (isTypingTarget(document.activeElement)) document.activeElement.blur();
      return;
    }
    if (isTypingTarget(event.target) || document.querySelector("dialog[open]")) return;
    const action = KEYS[event.key];
    if (!action) return;
    event.preventDefault();
    actions[action]();
  });
}
