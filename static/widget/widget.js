/* Supportdesk chat widget, embedded with one tag (docs/widget.md):
 *   <script async src="https://DESK/static/widget/widget.js" data-site-key="KEY"></script>
 * This file is the launcher: the button in the page's corner and what the rest shares (storage, text-only DOM
 * helpers). A closed widget needs nothing more, so the chat itself (widget-app.js) is loaded when the visitor
 * opens it, or at once for a visitor who is in a conversation (its socket brings replies and the unread badge),
 * left the panel open, or has messages waiting to go. Plain JavaScript, no framework, no build step; the UI lives
 * in a Shadow DOM on our own host element (styles: widget.css), every server string is inserted as text, and no
 * error escapes into the host page. The files start with a UTF-8 byte order mark: browsers then decode their
 * Persian strings correctly whatever charset the host page or a static file server declares. */
(() => {
  "use strict";

  const warn = (...args) => {
    try {
      console.warn("[supportdesk widget]", ...args);
    } catch (e) {
      /* a page without a console */
    }
  };
  // Every entry point from the browser (events, timers, socket callbacks) goes through safe(), async ones too.
  const safe =
    (fn) =>
    (...args) => {
      try {
        const result = fn(...args);
        if (result && typeof result.then === "function") result.then(null, warn);
        return result;
      } catch (e) {
        warn(e);
      }
    };

  const script =
    document.currentScript ||
    Array.from(document.querySelectorAll("script[data-site-key]")).find((s) => /\/widget\.js(\?|#|$)/.test(s.src));
  if (!script || !script.src) return;
  const SITE_KEY = script.getAttribute("data-site-key") || "";
  const registry = (window.__supportdeskWidgets = window.__supportdeskWidgets || {});
  if (!SITE_KEY || registry[SITE_KEY]) return; // the tag pasted twice makes one widget
  const SRC = new URL(script.src, location.href);
  const DESK = SRC.origin;

  /* ---------------------------------------------------------------- storage: localStorage, cookie, memory */

  const store = (() => {
    const key = "supportdesk:" + SITE_KEY;
    const cookie = "sdw_" + SITE_KEY.replace(/[^\w-]/g, "");
    const backends = [
      { get: () => localStorage.getItem(key), set: (v) => localStorage.setItem(key, v) },
      {
        get: () => {
          const m = document.cookie.match(new RegExp("(?:^|; )" + cookie + "=([^;]*)"));
          return m ? decodeURIComponent(m[1]) : null;
        },
        // A cookie keeps the token and flags; the outbox may not fit in 4 KB.
        set: (v) => {
          const small = JSON.parse(v);
          delete small.outbox;
          document.cookie =
            cookie + "=" + encodeURIComponent(JSON.stringify(small)) + "; max-age=31536000; path=/; SameSite=Lax";
        },
      },
    ];
    let backend = null;
    for (const b of backends) {
      try {
        const before = b.get();
        b.set(before || "{}");
        if (b.get() !== null) {
          backend = b;
          break;
        }
      } catch (e) {
        /* blocked storage: try the next one */
      }
    }
    let data = {};
    try {
      data = JSON.parse((backend && backend.get()) || "{}") || {};
    } catch (e) {
      data = {};
    }
    return {
      get: (k) => data[k],
      set: (k, v) => {
        data[k] = v;
        try {
          if (backend) backend.set(JSON.stringify(data));
        } catch (e) {
          /* full or blocked: memory still holds it */
        }
      },
    };
  })();

  /* ---------------------------------------------------------------- DOM helpers (text only, never HTML) */

  let uid = 0;
  const nextId = (p) => "sd-" + p + "-" + ++uid;
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const k in props || {}) {
      const v = props[k];
      if (v == null || v === false) continue;
      if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), safe(v));
      else if (k === "class") el.className = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
    return el;
  }
  const SVG = "http://www.w3.org/2000/svg";
  const ICONS = {
    chat: "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z",
    close: "M6 6l12 12M18 6 6 18",
    down: "M6 9l6 6 6-6",
    send: "M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z",
    star: "M12 2.6l2.9 6 6.5.9-4.7 4.6 1.1 6.5L12 17.5l-5.8 3.1 1.1-6.5L2.6 9.5l6.5-.9z",
    smile: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM8.5 14.5s1.3 2 3.5 2 3.5-2 3.5-2M9 9.5h.01M15 9.5h.01",
    clip: "M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l9-9a3.4 3.4 0 0 1 4.8 4.8l-9 9a1.7 1.7 0 0 1-2.4-2.4l8.3-8.3",
  };
  function icon(name) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "sd-i sd-i-" + name);
    const p = document.createElementNS(SVG, "path");
    p.setAttribute("d", ICONS[name]);
    svg.append(p);
    return svg;
  }
  const uuid = () => {
    try {
      return crypto.randomUUID();
    } catch (e) {
      return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
    }
  };

  // Text colour with the better WCAG contrast on the brand colour.
  function readableOn(hex) {
    const m = /^#([0-9a-f]{6})$/i.exec(hex);
    if (!m) return "#fff";
    const n = parseInt(m[1], 16);
    const [r, g, b] = [n >> 16, (n >> 8) & 255, n & 255].map((c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    return 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.0566 ? "#fff" : "#111418";
  }

  /* ---------------------------------------------------------------- the page's own host element */

  function makeHost() {
    const host = document.createElement("supportdesk-widget");
    // The page's own !important rules can still reach our host element: inline !important wins over them.
    host.setAttribute(
      "style",
      "all:initial!important;display:block!important;position:fixed!important;top:0!important;left:0!important;" +
        "width:0!important;height:0!important;z-index:2147483647!important;visibility:visible!important;" +
        "opacity:1!important;overflow:visible!important;pointer-events:auto!important;zoom:1!important"
    );
    const shadow = host.attachShadow({ mode: "open" });
    const link = h("link", { rel: "stylesheet", href: new URL("widget.css", SRC).href });
    return { host, shadow, link };
  }

  // What the chat (widget-app.js) takes from here; `first` is the session the launcher started, `openNow` a click.
  const L = (registry[SITE_KEY] = {
    SITE_KEY,
    SRC,
    DESK,
    warn,
    safe,
    store,
    h,
    icon,
    readableOn,
    nextId,
    uuid,
    makeHost,
    api,
    session,
    first: null,
    launcher: null,
    openNow: false,
    loading: false,
  });

  function loadApp(openNow) {
    L.openNow = L.openNow || openNow;
    if (L.loading) return;
    L.loading = true;
    const s = h("script", { src: new URL("widget-app.js", SRC).href, "data-site-key": SITE_KEY });
    s.async = true;
    s.onerror = safe(() => {
      L.loading = false;
      warn("could not load the chat");
    });
    (document.head || document.documentElement).append(s);
  }

  /* ---------------------------------------------------------------- start */

  async function api(path, body) {
    const res = await fetch(DESK + path, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    return { ok: res.ok, status: res.status, data: data || {} };
  }

  // The widget's session call (docs/protocol.md): the visitor's token and config; `extra` adds a locale, a name…
  async function session(extra) {
    const body = Object.assign({ site_key: SITE_KEY, visitor_token: store.get("token") || null }, extra);
    if (/^https?:/.test(location.href)) body.page_url = location.href.slice(0, 2000);
    let r = await api("/api/widget/v1/session", body);
    if (r.status === 400 && r.data.page_url) {
      // An address the desk cannot store (an intranet host name, say) must not cost the visitor the chat.
      delete body.page_url;
      r = await api("/api/widget/v1/session", body);
    }
    return r;
  }

  const LABELS = { en: "Open chat", fa: "باز کردن گفتگو" };

  function showLauncher(cfg) {
    const lang = /^fa\b/i.test(cfg.locale || document.documentElement.lang || "") ? "fa" : "en";
    const dir = cfg.direction === "rtl" || cfg.direction === "ltr" ? cfg.direction : lang === "fa" ? "rtl" : "ltr";
    const brand = /^#[0-9a-f]{6}$/i.test(cfg.brand_color || "") ? cfg.brand_color : "#1f6feb";
    const { host, shadow, link } = makeHost();
    const button = h(
      "button",
      {
        type: "button",
        class: "sd-launcher",
        "aria-expanded": "false",
        "aria-label": LABELS[lang],
        onclick: () => {
          button.setAttribute("aria-busy", "true");
          loadApp(true);
        },
      },
      icon("chat")
    );
    const root = h(
      "div",
      { class: "sd-root sd-" + (cfg.position === "left" ? "left" : "right"), dir, lang, style: "visibility:hidden" },
      button
    );
    root.style.setProperty("--sd-brand", brand);
    root.style.setProperty("--sd-on-brand", readableOn(brand));
    const reveal = safe(() => root.style.removeProperty("visibility"));
    link.addEventListener("load", reveal);
    link.addEventListener("error", reveal);
    shadow.append(link, root);
    document.documentElement.append(host);
    L.launcher = host;
  }

  async function boot() {
    const outbox = store.get("outbox");
    if (store.get("live") || store.get("open") || (outbox && outbox.length)) return loadApp(false);
    for (let attempt = 0; ; attempt++) {
      let r = null;
      try {
        r = await session({});
      } catch (e) {
        r = null; // network error or CORS refusal
      }
      if (r && r.ok) {
        L.first = r;
        if (r.data.visitor_token) store.set("token", r.data.visitor_token);
        return showLauncher(r.data.config || {});
      }
      if (r && r.status >= 400 && r.status < 500 && r.status !== 429) {
        return warn("the desk refused this widget:", r.status, r.data.detail || "");
      }
      await new Promise((res) => setTimeout(res, Math.min(60000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2)));
    }
  }

  boot().catch(warn);
})();
