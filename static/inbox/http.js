// Talking to the desk over HTTP (JSON, with the CSRF token), and short messages to the operator.
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

// Our views answer {"error": ...}; DRF answers {"detail": ...} or {"field": ["..."]}.
function errorText(data) {
  if (typeof data.error === "string") return data.error;
  if (typeof data.detail === "string") return data.detail;
  const first = Object.values(data)[0];
  return Array.isArray(first) ? String(first[0]) : "";
}

export async function api(url, { method = "GET", body } = {}) {
  const response = await fetch(url, {
    method,
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  if (!response.ok) throw new Error(errorText(data) || response.statusText);
  return data;
}

export function toast(text, kind = "info") {
  const node = document.createElement("div");
  node.className = `toast ${kind}`;
  node.textContent = text;
  document.getElementById("toasts").append(node);
  setTimeout(() => node.remove(), 7000);
}
