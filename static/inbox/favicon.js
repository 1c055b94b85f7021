// The tab's icon with a badge: how many chats wait or have unread messages, in the page's digits (see render()).
const link = document.querySelector('link[rel="icon"]');
const plain = link?.href || "";
let shown = null;

function svgBadge(text) {
  const size = text.length > 1 ? 9 : 7;
  const svg =
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>" +
    "<rect width='16' height='16' rx='4' fill='#1f6feb'/>" +
    "<circle cx='11' cy='5' r='5' fill='#d1242f'/>" +
    `<text x='11' y='8' font-size='${size}' font-family='sans-serif' font-weight='700' text-anchor='middle' ` +
    `fill='#fff'>${text}</text></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

export function setFaviconBadge(text) {
  if (!link || text === shown) return;
  shown = text;
  link.href = text ? svgBadge(text) : plain;
  link.dataset.badge = text || "";
}
