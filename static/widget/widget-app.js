/* Supportdesk chat widget: the chat itself, loaded by the launcher (widget.js) when the visitor opens it, or at
 * once for a visitor in a conversation. It takes the launcher's shared helpers and its first session, and replaces
 * the launcher's button with its own. */
(() => {
  "use strict";

  const script = document.currentScript;
  const L = script && (window.__supportdeskWidgets || {})[script.getAttribute("data-site-key") || ""];
  if (!L || L.app) return;
  L.app = true;
  const { SITE_KEY, DESK, warn, safe, store, h, icon, readableOn, nextId, uuid } = L;
  const WS_URL = DESK.replace(/^http/, "ws") + "/ws/widget/" + encodeURIComponent(SITE_KEY) + "/";
  let MAX_CHARS = 4000; // config.limits.message_max_chars replaces it
  let MAX_FILE = 10485760;
  let MAX_FILES = 5;
  const ACK_TIMEOUT_MS = 15000;
  const TYPING_EVERY_MS = 2500;
  const TYPING_IDLE_MS = 4000;
  const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

  /* ---------------------------------------------------------------- strings (en / fa) */

  const STRINGS = {
    en: {
      open: "Open chat",
      close: "Close chat",
      unread: "{n} unread",
      title: "Chat with us",
      greeting: "Hi! How can we help?",
      minimise: "Minimise chat",
      end_chat: "End chat",
      online: "We typically reply in a few minutes",
      away: "We're away right now",
      prechat_intro: "Before we start, tell us who you are.",
      name: "Name",
      email: "E-mail",
      optional: "optional",
      start: "Start chat",
      err_required: "Please fill this in.",
      err_email: "Please enter a valid e-mail address, like name@example.com.",
      err_too_long: "Please keep it under {n} characters.",
      err_generic: "Something went wrong. Please try again.",
      err_rate: "You're sending messages too fast. Please wait a moment.",
      err_busy: "Too many requests from your network right now. Please try again in a few minutes.",
      placeholder: "Write a message…",
      message: "Message",
      messages: "Messages",
      send: "Send",
      emoji: "Emoji",
      you: "You",
      sending: "Sending…",
      sent: "Sent",
      seen: "Seen",
      waiting_conn: "Waiting for connection…",
      failed: "Not sent.",
      retry: "Retry",
      typing: "{name} is typing…",
      someone: "Someone",
      queue: "You're number {n} in the queue.",
      wait: "Expected wait: about {m} min.",
      wait_soon: "An operator will be with you shortly.",
      waiting: "Waiting for an operator…",
      chatting: "You're chatting with {name}",
      ended: "This conversation has ended.",
      new_chat: "Start a new conversation",
      reconnecting: "Connection lost. Reconnecting…",
      offline_intro: "We're away right now. Leave us a message and we'll reply by e-mail.",
      back_at: "We're back {when}.",
      offline_send: "Send message",
      offline_thanks: "Thanks! We got your message and will reply by e-mail.",
      offline_thanks_by: "Thanks! We got your message and will reply by e-mail by {when}.",
      survey_title: "How did we do?",
      survey_comment: "Anything else? (optional)",
      survey_submit: "Send feedback",
      survey_thanks: "Thank you for your feedback!",
      survey_pick: "Please choose an answer.",
      stars: "{n} of 5 stars",
      score: "{n}",
      nps_low: "Not at all likely",
      nps_high: "Extremely likely",
      ces_low: "Very difficult",
      ces_high: "Very easy",
      csat_low: "Very dissatisfied",
      csat_high: "Very satisfied",
      new_message: "New message",
      q_csat: "How satisfied are you with the help you got?",
      q_ces: "How easy was it to get your issue handled?",
      q_nps: "How likely are you to recommend us to a friend or colleague?",
      attach: "Attach files",
      remove: "Remove {name}",
      uploading: "Uploading files…",
      err_file_big: "{name} is larger than {size}.",
      err_file_count: "At most {n} files per message.",
      kb: "{n} KB",
      mb: "{n} MB",
    },
    fa: {
      open: "باز کردن گفتگو",
      close: "بستن گفتگو",
      unread: "{n} پیام خوانده‌نشده",
      title: "گفتگو با ما",
      greeting: "سلام! چطور می‌توانیم کمکتان کنیم؟",
      minimise: "کوچک کردن گفتگو",
      end_chat: "پایان گفتگو",
      online: "معمولاً در چند دقیقه پاسخ می‌دهیم",
      away: "در حال حاضر در دسترس نیستیم",
      prechat_intro: "پیش از شروع، خودتان را معرفی کنید.",
      name: "نام",
      email: "ایمیل",
      optional: "اختیاری",
      start: "شروع گفتگو",
      err_required: "لطفاً این بخش را پر کنید.",
      err_email: "لطفاً یک نشانی ایمیل معتبر وارد کنید، مانند name@example.com.",
      err_too_long: "لطفاً کمتر از {n} نویسه بنویسید.",
      err_generic: "مشکلی پیش آمد. لطفاً دوباره تلاش کنید.",
      err_rate: "پیام‌ها را خیلی سریع می‌فرستید. لطفاً کمی صبر کنید.",
      err_busy: "در حال حاضر درخواست‌های زیادی از شبکهٔ شما می‌رسد. لطفاً چند دقیقه دیگر دوباره تلاش کنید.",
      placeholder: "پیام خود را بنویسید…",
      message: "پیام",
      messages: "پیام‌ها",
      send: "ارسال",
      emoji: "شکلک",
      you: "شما",
      sending: "در حال ارسال…",
      sent: "ارسال شد",
      seen: "دیده شد",
      waiting_conn: "در انتظار اتصال…",
      failed: "ارسال نشد.",
      retry: "تلاش دوباره",
      typing: "{name} در حال نوشتن است…",
      someone: "پشتیبان",
      queue: "شما نفر {n} در صف هستید.",
      wait: "زمان انتظار: حدود {m} دقیقه.",
      wait_soon: "به‌زودی یک پشتیبان به شما پاسخ می‌دهد.",
      waiting: "در انتظار پشتیبان…",
      chatting: "در حال گفتگو با {name}",
      ended: "این گفتگو پایان یافت.",
      new_chat: "شروع گفتگوی جدید",
      reconnecting: "اتصال قطع شد. در حال اتصال دوباره…",
      offline_intro: "در حال حاضر در دسترس نیستیم. پیام بگذارید تا از راه ایمیل پاسخ دهیم.",
      back_at: "از {when} در خدمت شما هستیم.",
      offline_send: "ارسال پیام",
      offline_thanks: "سپاسگزاریم! پیام شما رسید و از راه ایمیل پاسخ می‌دهیم.",
      offline_thanks_by: "سپاسگزاریم! پیام شما رسید و تا {when} از راه ایمیل پاسخ می‌دهیم.",
      survey_title: "عملکرد ما چطور بود؟",
      survey_comment: "نکته دیگری دارید؟ (اختیاری)",
      survey_submit: "ارسال بازخورد",
      survey_thanks: "از بازخورد شما سپاسگزاریم!",
      survey_pick: "لطفاً یک گزینه را انتخاب کنید.",
      stars: "{n} از ۵ ستاره",
      score: "{n}",
      nps_low: "اصلاً محتمل نیست",
      nps_high: "کاملاً محتمل است",
      ces_low: "بسیار دشوار",
      ces_high: "بسیار آسان",
      csat_low: "بسیار ناراضی",
      csat_high: "بسیار راضی",
      new_message: "پیام جدید",
      q_csat: "چقدر از کمکی که دریافت کردید راضی هستید؟",
      q_ces: "رسیدگی به مشکل شما چقدر آسان بود؟",
      q_nps: "چقدر احتمال دارد ما را به یک دوست یا همکار پیشنهاد کنید؟",
      attach: "پیوست کردن فایل",
      remove: "حذف {name}",
      uploading: "در حال بارگذاری فایل‌ها…",
      err_file_big: "{name} بزرگ‌تر از {size} است.",
      err_file_count: "حداکثر {n} فایل در هر پیام.",
      kb: "{n} کیلوبایت",
      mb: "{n} مگابایت",
    },
  };
  let lang = "en";
  let intlLocale = "en";
  const t = (key, vars) =>
    (STRINGS[lang][key] || STRINGS.en[key] || key).replace(/\{(\w+)\}/g, (_, k) =>
      vars && vars[k] != null ? vars[k] : ""
    );
  const num = (n) => {
    try {
      return new Intl.NumberFormat(intlLocale).format(n);
    } catch (e) {
      return String(n);
    }
  };
  // The time of day, with the date for a message from another day (a thread resumed later).
  const timeOf = (iso) => {
    const d = new Date(iso);
    const opts = { hour: "numeric", minute: "2-digit" };
    if (d.toDateString() !== new Date().toDateString()) Object.assign(opts, { month: "short", day: "numeric" });
    try {
      return new Intl.DateTimeFormat(intlLocale, opts).format(d);
    } catch (e) {
      return "";
    }
  };
  const whenOf = (iso) => {
    const d = new Date(iso);
    if (isNaN(d)) return "";
    const soon = d - Date.now() < 6 * 86400000;
    const opts = soon
      ? { weekday: "long", hour: "numeric", minute: "2-digit", timeZoneName: "short" }
      : { dateStyle: "full", timeStyle: "short" };
    try {
      return new Intl.DateTimeFormat(intlLocale, opts).format(d);
    } catch (e) {
      return d.toLocaleString();
    }
  };

  /* ---------------------------------------------------------------- state */

  const S = {
    token: store.get("token") || null,
    contact: null,
    config: {},
    online: false,
    conv: null, // Conversation C, or null before the first message (its status "ended" is final)
    open: false,
    ws: null,
    ready: false, // welcome received on the current socket
    everReady: false,
    attempts: 0,
    reconnectTimer: null,
    rendered: new Map(), // message id -> element
    pending: new Map(), // client_id -> {client_id, body, files, state, el, timer}
    files: [], // File objects picked for the next message
    lastId: 0,
    readSent: 0, // the newest message this widget told the desk the visitor has seen (message.read)
    seenUpTo: 0, // the newest message an operator has read: our messages up to it show "Seen"
    unread: 0,
    baseTitle: null,
    survey: null,
    gone: new Set(), // ids of ended conversations left with "Start a new conversation"
    offlineSent: false,
    typingSentAt: 0,
    typingIdle: null,
    typingHide: null,
  };
  const els = {};

  /* ---------------------------------------------------------------- HTTP */

  const api = L.api;

  async function startSession(extra) {
    return applySession(await L.session(extra));
  }

  function applySession(r) {
    if (r.ok) {
      setToken(r.data.visitor_token);
      S.contact = r.data.contact || S.contact;
      S.config = r.data.config || S.config;
      if (typeof S.config.online === "boolean") S.online = S.config.online;
      const limits = S.config.limits || {};
      if (limits.message_max_chars > 0) MAX_CHARS = limits.message_max_chars;
      if (limits.attachment_max_bytes > 0) MAX_FILE = limits.attachment_max_bytes;
      if (limits.attachments_per_message > 0) MAX_FILES = limits.attachments_per_message;
    }
    return r;
  }

  function setToken(token) {
    if (token && token !== S.token) {
      S.token = token;
      store.set("token", token);
    }
  }

  /* ---------------------------------------------------------------- WebSocket */

  function wsSend(frame) {
    if (!S.ws || S.ws.readyState !== 1) return false;
    S.ws.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    clearTimeout(S.reconnectTimer);
    if (S.ws) return;
    let ws;
    try {
      ws = new WebSocket(WS_URL);
    } catch (e) {
      warn(e);
      return reconnectLater();
    }
    S.ws = ws;
    ws.onopen = safe(() => {
      const hello = { type: "hello", visitor_token: S.token };
      if (S.lastId) hello.last_message_id = S.lastId;
      ws.send(JSON.stringify(hello));
    });
    ws.onmessage = safe((ev) => {
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (frame && typeof frame.type === "string") onFrame(frame);
    });
    ws.onclose = safe((ev) => {
      if (S.ws !== ws) return;
      S.ws = null;
      S.ready = false;
      for (const p of S.pending.values()) {
        clearTimeout(p.timer);
        if (p.state === "sending") setState(p, "queued");
      }
      showTyping(null);
      renderConnection();
      onClosed(ev.code);
    });
  }

  function onClosed(code) {
    if (code === 4403) return warn("this page's origin may not embed the widget (close 4403)");
    if (code === 4401) {
      // The token was refused: let the session API resume or replace the visitor (in the widget's language), then
      // connect again.
      return reconnectLater(() =>
        startSession({ locale: lang }).then(
          safe((r) => (r.ok ? connect() : reconnectLater())),
          safe(() => reconnectLater())
        )
      );
    }
    reconnectLater(null, code === 4429 ? 10000 : 0);
  }

  // Exponential backoff with jitter, so a restarted server is not hit by every visitor at once.
  function reconnectLater(then, floor) {
    clearTimeout(S.reconnectTimer);
    const base = Math.min(30000, 500 * 2 ** S.attempts++);
    const delay = Math.max(floor || 0, base / 2 + Math.random() * (base / 2));
    S.reconnectTimer = setTimeout(safe(then || connect), delay);
  }

  function reconnectNow() {
    if (!S.ws && S.token) {
      S.attempts = 0;
      connect();
    }
  }

  /* ---------------------------------------------------------------- frames from the server */

  function onFrame(f) {
    switch (f.type) {
      case "welcome":
        return onWelcome(f);
      case "message.ack":
        return addMessages([f.message], false);
      case "message.new":
        return addMessages([f.message], true);
      case "typing":
        return showTyping(f.is_typing ? f.name || t("someone") : null);
      case "conversation.updated":
        return setConversation(f.conversation);
      case "survey.invite":
        return showSurvey(f);
      case "survey.answered":
        if (S.survey) S.survey.sending = false;
        store.set("live", !!(S.conv && S.conv.status !== "ended"));
        return render(); // with nobody online and no chat, the offline form comes back below the thanks
      case "availability":
        return onAvailability(f);
      case "message.read":
        return onSeen(f.message_id);
      case "error":
        return onError(f);
    }
  }

  function onWelcome(f) {
    const first = !S.everReady;
    S.ready = S.everReady = true;
    S.attempts = 0;
    setToken(f.visitor_token);
    if (f.contact) S.contact = f.contact;
    if (typeof f.online === "boolean") S.online = f.online;
    if ("next_opening" in f) S.config.next_opening = f.next_opening;
    // No open conversation: the next page needs only the launcher (a survey still waiting comes next and says so).
    if (!f.conversation) store.set("live", false);
    if (f.conversation) setConversation(f.conversation);
    else if (S.conv && S.conv.status !== "ended") setConversation(Object.assign({}, S.conv, { status: "ended" }));
    addMessages(f.messages || [], !first);
    // Whatever was typed while offline (or before a reload) goes now, under its first client_id.
    for (const p of S.pending.values()) if (p.state !== "failed") transmit(p);
    renderConnection();
    render();
  }

  // An operator came or went, or the business hours turned: render() switches between the chat and the offline form.
  function onAvailability(f) {
    if (typeof f.online !== "boolean") return;
    S.online = f.online;
    if ("next_opening" in f) S.config.next_opening = f.next_opening;
    render();
  }

  function onError(f) {
    const p = (f.client_id && S.pending.get(f.client_id)) || null;
    if (p) return setState(p, "failed", f.code === "rate_limited" ? t("err_rate") : f.detail);
    if (S.survey && (f.ref_type === "survey.answer" || (!f.ref_type && S.survey.sending))) {
      S.survey.sending = false;
      S.survey.done = false;
      S.survey.error = f.detail || t("err_generic");
      return renderSurvey();
    }
    if (f.code === "rate_limited" || f.code === "too_large") {
      const last = Array.from(S.pending.values()).reverse().find((x) => x.state === "sending");
      if (last) setState(last, "failed", f.code === "rate_limited" ? t("err_rate") : f.detail);
    }
  }

  function setConversation(c) {
    // A late frame about a conversation the visitor has moved on from must not end the new one.
    if (!c || S.gone.has(c.id) || (S.conv && c.id < S.conv.id)) return;
    if (!S.conv || S.conv.id !== c.id) S.readSent = S.seenUpTo = 0;
    S.conv = c;
    // The launcher loads the chat at once on the next page while a conversation is open (docs/widget.md).
    store.set("live", c.status !== "ended" || !!(S.survey && !S.survey.done));
    if (c.operator_read_message_id) onSeen(c.operator_read_message_id);
    if (c.status === "ended") showTyping(null);
    render();
  }

  /* ---------------------------------------------------------------- messages */

  // An operator's photo, else her initials on her colour (drawn by CSS: no text of its own for readers or tests).
  // A photo that no longer loads (replaced since the frame was sent) falls back to the initials.
  function faceEl(f, cls) {
    f = f || {};
    const el = f.avatar_url
      ? h("img", {
          class: "sd-face " + cls,
          src: f.avatar_url,
          alt: "",
          "aria-hidden": "true",
          onerror: () => el.replaceWith(faceEl(Object.assign({}, f, { avatar_url: null }), cls)),
        })
      : h("span", { class: "sd-face " + cls, "data-i": f.initials || "?", "aria-hidden": "true" });
    if (!f.avatar_url && f.colour) el.style.backgroundColor = f.colour;
    return el;
  }

  function messageEl(m, own) {
    const who =
      m.sender === "visitor" ? t("you") : m.sender === "operator" ? m.author_name || t("someone") : "";
    const meta = h("div", { class: "sd-meta" }, h("time", { datetime: m.created_at || "", text: timeOf(m.created_at) }));
    const el = h(
      "div",
      { class: "sd-msg sd-msg-" + (own ? "visitor" : m.sender === "system" ? "system" : "operator") },
      m.sender === "operator" ? h("div", { class: "sd-author", text: who }) : null,
      m.sender === "operator" ? faceEl(m.author, "sd-face-s") : null,
      h(
        "div",
        { class: "sd-bubble" },
        own ? h("span", { class: "sd-vh", text: who + ": " }) : null,
        m.body ? h("span", { class: "sd-body", text: m.body }) : null,
        filesEl(m.attachments || [], m.files)
      ),
      m.sender === "system" ? null : meta
    );
    el._meta = meta;
    return el;
  }

  const sizeOf = (n) =>
    n < 1048576 ? t("kb", { n: num(Math.max(1, Math.round(n / 1024))) }) : t("mb", { n: num(Math.round(n / 104857.6) / 10) });

  // Images as thumbnails that open the file, other files as named links with their sizes; `local`: files of a
  // message not sent yet (names only).
  function filesEl(list, local) {
    if (local && local.length) return h("ul", { class: "sd-files" }, local.map((f) => h("li", { text: f.name + " · " + sizeOf(f.size) })));
    if (!list.length) return null;
    return h(
      "ul",
      { class: "sd-files" },
      list.map((a) =>
        h(
          "li",
          null,
          a.thumbnail_url
            ? h("a", { href: a.url, target: "_blank", rel: "noopener noreferrer", class: "sd-thumb" },
                h("img", { src: a.thumbnail_url, alt: a.name, width: a.width && Math.min(a.width, 200), loading: "lazy" }))
            : h("a", { href: a.url, target: "_blank", rel: "noopener noreferrer", download: a.name, text: a.name }),
          a.thumbnail_url ? null : h("span", { class: "sd-size", text: " · " + sizeOf(a.size) })
        )
      )
    );
  }

  /* ---------------------------------------------------------------- files: picked, dropped or pasted */

  function addFiles(list) {
    let err = "";
    for (const file of Array.from(list || [])) {
      if (S.files.length >= MAX_FILES) err = t("err_file_count", { n: num(MAX_FILES) });
      else if (file.size > MAX_FILE) err = t("err_file_big", { name: file.name, size: sizeOf(MAX_FILE) });
      else S.files.push(file);
    }
    setFieldError(els.input, els.composerErr, err);
    renderTray();
  }

  function renderTray() {
    els.tray.replaceChildren(
      ...S.files.map((file, i) =>
        h(
          "li",
          null,
          h("span", { text: file.name + " · " + sizeOf(file.size) }),
          h("button", {
            type: "button",
            class: "sd-link",
            "aria-label": t("remove", { name: file.name }),
            text: "×",
            onclick: () => {
              S.files.splice(i, 1);
              renderTray();
            },
          })
        )
      )
    );
    els.tray.hidden = !S.files.length;
  }

  // Each file of a message not uploaded yet goes up; false while offline (the message waits, like text).
  async function uploadFiles(p) {
    for (const f of p.files) {
      if (f.id) continue;
      const form = new FormData();
      form.append("site_key", SITE_KEY);
      form.append("visitor_token", S.token || "");
      form.append("file", f.file, f.name);
      let res;
      try {
        res = await fetch(DESK + "/api/widget/v1/uploads", { method: "POST", mode: "cors", credentials: "omit", body: form });
      } catch (e) {
        return false;
      }
      const data = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error((data.file && data.file[0]) || data.detail || t("err_generic"));
      f.id = data.id;
    }
    return true;
  }

  // Adds the messages not shown yet, then renders and scrolls once (a welcome may replay a long thread).
  function addMessages(list, live) {
    let added = false;
    for (const m of list) added = addMessage(m, live) || added;
    if (added) {
      render();
      scrollDown();
      sendRead();
    }
  }

  // Adds M once (by id, or by client_id for our own); true if it did. `live` counts it as unread.
  function addMessage(m, live) {
    if (!m || m.id == null || S.rendered.has(m.id) || m.private) return false;
    const p = m.client_id ? S.pending.get(m.client_id) : null;
    let el;
    if (p) {
      clearTimeout(p.timer);
      S.pending.delete(p.client_id);
      saveOutbox();
      el = messageEl(m, true);
      p.el.replaceWith(el);
    } else {
      el = messageEl(m, m.sender === "visitor");
      // Keep server order even when a replay arrives after newer messages.
      let after = null;
      for (const child of Array.from(els.log.children).reverse()) {
        if (child._id != null && child._id < m.id) {
          after = child;
          break;
        }
      }
      if (after) after.after(el);
      else els.log.prepend(el);
    }
    el._id = m.id;
    el.setAttribute("data-id", m.id);
    if (m.sender === "visitor") markSent(el);
    S.rendered.set(m.id, el);
    S.lastId = Math.max(S.lastId, m.id);
    if (m.sender === "operator") showTyping(null);
    if (live && m.sender !== "visitor") notify();
    return true;
  }

  function markSent(el) {
    el.setAttribute("data-state", "sent");
    el._state = h("span", { class: "sd-state", text: " · " + t("sent") });
    el._meta.append(el._state);
    if (el._id != null && el._id <= S.seenUpTo) markSeen(el);
  }

  function markSeen(el) {
    el.setAttribute("data-state", "seen");
    el._state.textContent = " · " + t("seen");
  }

  // An operator has read up to `id`: the visitor's messages up to it say "Seen".
  function onSeen(id) {
    if (typeof id !== "number" || id <= S.seenUpTo) return;
    S.seenUpTo = id;
    for (const [mid, el] of S.rendered) if (mid <= id && el.getAttribute("data-state") === "sent") markSeen(el);
  }

  // The visitor sees the thread (open, page visible): tell the desk up to which message, once per step.
  function sendRead() {
    if (!S.open || document.hidden || !S.ready || !S.conv) return;
    let newest = 0;
    for (const [mid, el] of S.rendered) if (mid > newest && !el.classList.contains("sd-msg-visitor")) newest = mid;
    if (newest > S.readSent && wsSend({ type: "message.read", message_id: newest })) S.readSent = newest;
  }

  function setState(p, state, why) {
    p.state = state;
    p.el.setAttribute("data-state", state);
    const meta = p.el._meta;
    meta.replaceChildren();
    p.el.classList.toggle("sd-failed", state === "failed");
    if (state === "failed") {
      meta.append(
        h("span", { class: "sd-state", role: "alert", text: (why ? why + " " : "") + t("failed") + " " }),
        h("button", { type: "button", class: "sd-link", text: t("retry"), onclick: () => transmit(p) })
      );
    } else {
      meta.append(
        h("span", { class: "sd-state", text: t(state === "queued" ? "waiting_conn" : state === "uploading" ? "uploading" : "sending") })
      );
    }
  }

  function saveOutbox() {
    store.set(
      "outbox",
      // Files live in this page's memory only: a message with files is not kept across a reload.
      Array.from(S.pending.values())
        .filter((p) => !p.files.length)
        .map((p) => ({ client_id: p.client_id, body: p.body }))
    );
  }

  // A message of ours, shown at the end of the log until the desk acknowledges it (then addMessage replaces it).
  function addPending(clientId, body, files) {
    const p = { client_id: clientId, body, files: files || [], state: "queued", timer: null };
    p.el = messageEl({ sender: "visitor", body, files: p.files, created_at: new Date().toISOString() }, true);
    p.el.setAttribute("data-client-id", p.client_id);
    S.pending.set(p.client_id, p);
    els.log.append(p.el);
    return p;
  }

  function queueMessage(body, files) {
    const p = addPending(uuid(), body, files);
    saveOutbox();
    transmit(p);
    scrollDown();
  }

  async function transmit(p) {
    if (p.state === "uploading") return;
    clearTimeout(p.timer);
    if (p.files.length && S.ready && p.state !== "uploading") {
      setState(p, "uploading");
      let up;
      try {
        up = await uploadFiles(p);
      } catch (e) {
        return setState(p, "failed", e.message);
      }
      if (!up) return setState(p, "queued");
    }
    const frame = { type: "message.send", client_id: p.client_id, body: p.body };
    if (p.files.length) frame.attachments = p.files.map((f) => f.id);
    if (S.ready && wsSend(frame)) {
      setState(p, "sending");
      p.timer = setTimeout(safe(() => p.state === "sending" && setState(p, "failed")), ACK_TIMEOUT_MS);
    } else {
      setState(p, "queued");
      reconnectNow();
    }
  }

  function scrollDown() {
    const body = els.scroll;
    if (body) body.scrollTop = body.scrollHeight;
  }

  // Focus without letting the browser scroll the panel or the page to it: only the thread moves, as little as needed.
  function focusInPanel(el) {
    el.focus({ preventScroll: true });
    const port = els.scroll;
    if (!port.contains(el)) return;
    const r = el.getBoundingClientRect();
    const p = port.getBoundingClientRect();
    if (r.top < p.top) port.scrollTop -= p.top - r.top;
    else if (r.bottom > p.bottom) port.scrollTop += Math.min(r.bottom - p.bottom, r.top - p.top);
  }

  /* ---------------------------------------------------------------- unread badge and page title */

  function notify() {
    if (S.open && !document.hidden) return;
    S.unread++;
    renderBadge();
    if (document.hidden) {
      if (S.baseTitle == null) S.baseTitle = document.title;
      document.title = "(" + num(S.unread) + ") " + t("new_message") + " · " + S.baseTitle;
    }
  }

  function clearUnread() {
    if (S.open && !document.hidden) {
      S.unread = 0;
      renderBadge();
    }
    if (!document.hidden && S.baseTitle != null) {
      document.title = S.baseTitle;
      S.baseTitle = null;
    }
  }

  function renderBadge() {
    els.badge.hidden = !S.unread;
    els.badge.textContent = S.unread > 9 ? num(9) + "+" : num(S.unread);
    els.launcher.setAttribute(
      "aria-label",
      (S.open ? t("close") : t("open")) + (S.unread ? " (" + t("unread", { n: num(S.unread) }) + ")" : "")
    );
  }

  /* ---------------------------------------------------------------- typing, both ways */

  function showTyping(name) {
    clearTimeout(S.typingHide);
    els.typing.hidden = !name;
    els.typingText.textContent = name ? t("typing", { name }) : "";
    // A lost "stopped typing" frame must not leave the dots forever.
    if (name) S.typingHide = setTimeout(safe(() => showTyping(null)), 8000);
  }

  function onComposerInput() {
    const now = Date.now();
    if (now - S.typingSentAt > TYPING_EVERY_MS && S.ready && els.input.value.trim()) {
      S.typingSentAt = now;
      wsSend({ type: "typing", is_typing: true });
    }
    clearTimeout(S.typingIdle);
    S.typingIdle = setTimeout(safe(stopTyping), TYPING_IDLE_MS);
    validateComposer(false);
    autoGrow();
  }

  function stopTyping() {
    clearTimeout(S.typingIdle);
    if (S.typingSentAt) {
      S.typingSentAt = 0;
      if (S.ready) wsSend({ type: "typing", is_typing: false });
    }
  }

  /* ---------------------------------------------------------------- emoji: the desk's list, fetched on first use */

  async function toggleEmoji(open) {
    if (open && !els.emojiBox.childElementCount) {
      const r = await fetch(new URL("../desk/emoji.json", L.SRC).href, { mode: "cors", credentials: "omit" });
      const list = ((await r.json()) || {}).emoji || [];
      for (const e of list) {
        els.emojiBox.append(
          h("button", {
            type: "button",
            class: "sd-emoji",
            text: e,
            onclick: () => {
              const i = els.input;
              i.setRangeText(e, i.selectionStart, i.selectionEnd, "end");
              toggleEmoji(false);
              onComposerInput();
            },
          })
        );
      }
    }
    els.emojiBox.hidden = !open;
    els.emojiBtn.setAttribute("aria-expanded", String(open));
    if (open) els.emojiBox.firstChild && els.emojiBox.firstChild.focus();
    else els.input.focus();
  }

  function onEmojiKey(ev) {
    if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      return toggleEmoji(false);
    }
    const all = Array.from(els.emojiBox.children);
    const i = all.indexOf(ev.target);
    const row = Math.max(1, Math.round(els.emojiBox.clientWidth / (all[0].offsetWidth || 1)));
    const rtl = getComputedStyle(els.emojiBox).direction === "rtl";
    const step = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1, ArrowDown: row, ArrowUp: -row }[ev.key];
    if (step && i >= 0) {
      ev.preventDefault();
      all[Math.min(all.length - 1, Math.max(0, i + step))].focus();
    }
  }

  function autoGrow() {
    els.input.style.height = "auto";
    els.input.style.height = Math.min(els.input.scrollHeight, 120) + "px";
  }

  function validateComposer(strict) {
    const msg = els.input.value.length > MAX_CHARS ? t("err_too_long", { n: num(MAX_CHARS) }) : "";
    setFieldError(els.input, els.composerErr, msg);
    if (msg && strict) focusInPanel(els.input);
    return !msg;
  }

  function sendFromComposer() {
    const body = els.input.value.trim();
    if ((!body && !S.files.length) || !validateComposer(true)) return;
    els.input.value = "";
    autoGrow();
    stopTyping();
    const files = S.files.map((file) => ({ file, name: file.name, size: file.size, id: null }));
    S.files = [];
    renderTray();
    queueMessage(body, files);
    render();
    focusInPanel(els.input);
  }

  /* ---------------------------------------------------------------- forms: fields with their messages */

  function fieldRule(name) {
    const rule = (S.config.prechat || {})[name];
    return rule === "required" || rule === "optional" ? rule : "off";
  }

  function makeField(kind, rule, opts) {
    const id = nextId(kind);
    const errId = id + "-err";
    const multiline = kind === "body";
    const input = h(multiline ? "textarea" : "input", {
      id,
      name: kind,
      class: "sd-input",
      type: multiline ? null : kind === "email" ? "email" : "text",
      autocomplete: kind === "email" ? "email" : kind === "name" ? "name" : "off",
      rows: multiline ? 4 : null,
      maxlength: multiline ? MAX_CHARS : 254,
      required: rule === "required",
      "aria-required": rule === "required" ? "true" : null,
      "aria-describedby": errId,
    });
    if (opts.value) input.value = opts.value; // a property: a textarea has no value attribute
    const err = h("p", { id: errId, class: "sd-err", hidden: true });
    const label = h(
      "label",
      { for: id, class: "sd-label" },
      opts.label,
      rule === "optional" ? h("span", { class: "sd-opt", text: " (" + t("optional") + ")" }) : null
    );
    const wrap = h("div", { class: "sd-field" }, label, input, err);
    input.addEventListener("input", safe(() => setFieldError(input, err, "")));
    return {
      wrap,
      input,
      err,
      kind,
      check() {
        const v = input.value.trim();
        let msg = "";
        if (!v && rule === "required") msg = t("err_required");
        else if (v && kind === "email" && !EMAIL_RE.test(v)) msg = t("err_email");
        else if (v.length > MAX_CHARS) msg = t("err_too_long", { n: num(MAX_CHARS) });
        setFieldError(input, err, msg);
        return !msg;
      },
    };
  }

  function setFieldError(input, err, msg) {
    err.textContent = msg || "";
    err.hidden = !msg;
    if (msg) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  // Server-side refusals ({field: ["..."]} or {detail}) shown beside the fields they concern.
  function showServerErrors(fields, data, formErr) {
    let placed = false;
    for (const f of fields) {
      const e = data[f.kind] || (f.kind === "body" ? data.message : null);
      if (e) {
        setFieldError(f.input, f.err, Array.isArray(e) ? e.join(" ") : String(e));
        placed = true;
      }
    }
    formErr.textContent = placed ? "" : String(data.detail || data.error || t("err_generic"));
    formErr.hidden = placed;
  }

  function focusFirstInvalid(fields) {
    const bad = fields.find((f) => f.input.getAttribute("aria-invalid") === "true");
    if (bad) focusInPanel(bad.input);
    return !bad;
  }

  function needPrechat() {
    if (store.get("prechat_done")) return false;
    const c = S.contact || {};
    const rules = { name: fieldRule("name"), email: fieldRule("email") };
    if ((rules.name === "required" && !c.name) || (rules.email === "required" && !c.email)) return true;
    return (rules.name !== "off" || rules.email !== "off") && !c.name && !c.email;
  }

  // The pre-chat and offline forms: the fields are checked here, then `send(values)` goes to the desk, whose
  // refusals are shown beside the fields they concern; `done(values, r)` follows a success.
  function buildForm(fields, submitText, send, done, ...intro) {
    const formErr = h("p", { class: "sd-err", role: "alert", hidden: true });
    const button = h("button", { type: "submit", class: "sd-primary", text: submitText });
    return h(
      "form",
      {
        class: "sd-form",
        novalidate: true,
        onsubmit: async (ev) => {
          ev.preventDefault();
          if (!fields.map((f) => f.check()).every(Boolean)) return focusFirstInvalid(fields);
          const values = {};
          for (const f of fields) values[f.kind] = f.input.value.trim();
          button.disabled = true;
          try {
            const r = await send(values);
            if (!r.ok) {
              // Refused for the rate of a whole address or site (429): said in the widget's own language.
              showServerErrors(fields, r.status === 429 ? { detail: t("err_busy") } : r.data, formErr);
              return focusFirstInvalid(fields);
            }
            done(values, r);
          } catch (e) {
            showServerErrors([], {}, formErr);
          } finally {
            button.disabled = false;
          }
        },
      },
      intro,
      fields.map((f) => f.wrap),
      formErr,
      button
    );
  }

  function buildPrechat(draft) {
    const fields = ["name", "email"]
      .filter((k) => fieldRule(k) !== "off")
      .map((k) => makeField(k, fieldRule(k), { label: t(k), value: draft[k] || (S.contact || {})[k] }));
    return buildForm(
      fields,
      t("start"),
      startSession,
      (values, r) => {
        S.contact = Object.assign({}, S.contact, values, r.data.contact || {});
        store.set("prechat_done", true);
        render();
        focusInPanel(els.input);
      },
      h("p", { class: "sd-intro", text: t("prechat_intro") })
    );
  }

  function buildOffline(draft) {
    const nameRule = fieldRule("name") === "required" ? "required" : "optional";
    const fields = [
      makeField("name", nameRule, { label: t("name"), value: draft.name || (S.contact || {}).name }),
      makeField("email", "required", { label: t("email"), value: draft.email || (S.contact || {}).email }),
      makeField("body", "required", { label: t("message"), value: draft.body }),
    ];
    // An inbox open around the clock with nobody online has no later opening worth announcing.
    const opening = Date.parse(S.config.next_opening || "");
    const next = opening > Date.now() + 60000 ? whenOf(S.config.next_opening) : "";
    return buildForm(
      fields,
      t("offline_send"),
      (values) =>
        api("/api/widget/v1/offline-messages", Object.assign({ site_key: SITE_KEY, visitor_token: S.token }, values)),
      (values, r) => {
        S.offlineSent = true;
        // When an answer can be expected: the ticket's first-response due time, in the visitor's own zone.
        const by = r.data && r.data.expected_answer_at ? whenOf(r.data.expected_answer_at) : "";
        els.offlineThanks.textContent = by ? t("offline_thanks_by", { when: by }) : t("offline_thanks");
        render();
        focusInPanel(els.offlineThanks);
      },
      h("p", { class: "sd-intro", text: t("offline_intro") }),
      next ? h("p", { class: "sd-back", text: t("back_at", { when: next }) }) : null
    );
  }

  /* ---------------------------------------------------------------- survey */

  // A question's scale: its min and max, else its "1-7" key, else the usual scale of its kind.
  function scaleOf(q, key) {
    if (q.min != null && q.max != null) return [+q.min, +q.max];
    const m = /^(\d+)\s*[-–]\s*(\d+)$/.exec(String(q.scale || ""));
    if (m) return [+m[1], +m[2]];
    return key === "nps" ? [0, 10] : key === "ces" ? [1, 7] : [1, 5];
  }

  function showSurvey(f) {
    store.set("live", true);
    const questions = (f.questions || []).map((q) => {
      const key = String(q.key || "csat");
      const [min, max] = scaleOf(q, key);
      return {
        key,
        text: q.text || t("q_" + key),
        min,
        max,
        stars: key === "csat" && min === 1 && max === 5,
        // Our own words for the known scales, so their ends speak the widget's language.
        low: STRINGS.en[key + "_low"] ? t(key + "_low") : q.low_label || "",
        high: STRINGS.en[key + "_high"] ? t(key + "_high") : q.high_label || "",
      };
    });
    if (!f.invitation || !questions.length) return;
    // `comment` is {label, max_length}, or null when the inbox asks for no comment.
    const comment = f.comment;
    S.survey = {
      invitation: f.invitation,
      questions,
      answers: {},
      comment: comment ? { label: comment.label || t("survey_comment"), max: comment.max_length || 2000 } : null,
      thanks: f.thank_you || t("survey_thanks"),
      done: false,
      error: "",
    };
    renderSurvey();
    notify();
    render();
    scrollDown();
  }

  function renderSurvey() {
    const box = els.survey;
    const sv = S.survey;
    box.replaceChildren();
    box.hidden = !sv;
    if (!sv) return;
    if (sv.done) {
      box.append(h("p", { class: "sd-thanks", role: "status", tabindex: "-1", text: sv.thanks }));
      return;
    }
    const titleId = nextId("survey");
    const groups = sv.questions.map((q) => {
      const legendId = nextId("q");
      const err = h("p", { class: "sd-err", hidden: true, id: legendId + "-err" });
      const opts = [];
      for (let v = q.min; v <= q.max; v++) {
        const input = h("input", {
          type: "radio",
          class: "sd-vh",
          name: "sdq-" + q.key + "-" + sv.invitation,
          value: String(v),
          checked: sv.answers[q.key] === v,
          "aria-describedby": legendId + "-err",
          onchange: () => {
            sv.answers[q.key] = v;
            err.hidden = true;
            mark();
          },
        });
        const face = q.stars ? [icon("star"), h("span", { class: "sd-vh", text: t("stars", { n: num(v) }) })] : num(v);
        opts.push(h("label", { class: "sd-opt-btn" + (q.stars ? " sd-star" : "") }, input, face));
      }
      const mark = () => {
        const a = sv.answers[q.key];
        opts.forEach((o, i) => {
          const v = q.min + i;
          o.classList.toggle("sd-on", a != null && (q.stars ? v <= a : v === a));
        });
      };
      mark();
      const ends = q.low || q.high ? h("div", { class: "sd-ends" }, h("span", { text: q.low }), h("span", { text: q.high })) : null;
      const fs = h(
        "fieldset",
        { class: "sd-q", "data-key": q.key },
        h("legend", { id: legendId, text: q.text }),
        h("div", { class: "sd-scale" + (q.stars ? " sd-stars" : "") + (q.max - q.min > 6 ? " sd-wide" : "") }, opts),
        ends,
        err
      );
      return { q, fs, err, first: opts[0].querySelector("input") };
    });
    const comment = sv.comment
      ? h("textarea", { class: "sd-input", id: nextId("comment"), rows: 2, maxlength: sv.comment.max, name: "comment" })
      : null;
    const formErr = h("p", { class: "sd-err", role: "alert", hidden: !sv.error, text: sv.error || "" });
    box.append(
      h(
        "form",
        {
          class: "sd-survey-form",
          novalidate: true,
          "aria-labelledby": titleId,
          onsubmit: (ev) => {
            ev.preventDefault();
            const missing = groups.filter((g) => sv.answers[g.q.key] == null);
            for (const g of missing) {
              g.err.textContent = t("survey_pick");
              g.err.hidden = false;
            }
            if (missing.length) return focusInPanel(missing[0].first);
            const frame = { type: "survey.answer", invitation: sv.invitation, answers: sv.answers };
            if (comment && comment.value.trim()) frame.comment = comment.value.trim();
            if (!wsSend(frame)) {
              formErr.textContent = t("reconnecting");
              formErr.hidden = false;
              return reconnectNow();
            }
            // Thanked at once; an error frame for this answer brings the form back with the reason.
            sv.sending = true;
            sv.done = true;
            sv.error = "";
            renderSurvey();
            const thanks = box.querySelector(".sd-thanks");
            if (thanks) focusInPanel(thanks);
          },
        },
        h("h3", { id: titleId, class: "sd-survey-title", text: t("survey_title") }),
        groups.map((g) => g.fs),
        comment ? h("label", { for: comment.id, class: "sd-label", text: sv.comment.label }) : null,
        comment,
        formErr,
        h("button", { type: "submit", class: "sd-primary", text: t("survey_submit") })
      )
    );
  }

  /* ---------------------------------------------------------------- open / close */

  function setOpen(open, focus) {
    S.open = open;
    store.set("open", open);
    els.panel.hidden = !open;
    els.root.classList.toggle("sd-is-open", open);
    els.launcher.setAttribute("aria-expanded", String(open));
    els.launcher.replaceChildren(icon(open ? "down" : "chat"), els.badge);
    if (open) {
      clearUnread();
      render();
      scrollDown();
      sendRead();
      if (focus) {
        const target = els.panel.querySelector(
          ".sd-view:not([hidden]) input, .sd-view:not([hidden]) textarea, .sd-view:not([hidden]) button.sd-primary"
        );
        focusInPanel(target || els.panel);
      }
    } else {
      stopTyping();
      if (focus) els.launcher.focus();
    }
    renderBadge();
  }

  /* ---------------------------------------------------------------- render (show the right view) */

  function render() {
    const c = S.conv;
    const ended = !!c && c.status === "ended";
    const open = c && !ended;
    // A survey waiting for its answer (after a reload, with nobody online) must not hide behind the offline form.
    const surveyOnly = !c && S.rendered.size === 0 && S.pending.size === 0 && !!S.survey && !S.survey.done;
    const hasThread = c || S.rendered.size > 0 || S.pending.size > 0 || surveyOnly;
    const view = hasThread ? "chat" : S.online ? (needPrechat() ? "prechat" : "chat") : "offline";
    // Its thanks stay in sight when the offline form takes the panel back.
    if (view === "offline" && els.survey.parentNode !== els.scroll) els.scroll.insertBefore(els.survey, els.offline);
    if (view !== "offline" && els.survey.parentNode !== els.chat) els.chat.appendChild(els.survey);

    let refocus = null;
    if (view !== S.view) {
      // The view can change under the visitor's fingers (availability): what they typed goes along.
      const left = S.view === "offline" ? els.offline : S.view === "prechat" ? els.prechat : els.chat;
      const active = els.root.getRootNode().activeElement;
      const typing = !!S.view && !!active && (left.contains(active) || els.composer.contains(active));
      const draft = S.view ? takeDraft(view) : {};
      S.view = view;
      if (view === "prechat") els.prechat.replaceChildren(buildPrechat(draft));
      if (view === "offline") els.offline.replaceChildren(buildOffline(draft));
      if (view !== "offline" && draft.body && !els.input.value.trim()) {
        els.input.value = draft.body;
        autoGrow();
      }
      if (typing) refocus = active.name || (active === els.input ? "body" : "");
    }
    els.prechat.hidden = view !== "prechat";
    els.offline.hidden = view !== "offline" || S.offlineSent;
    els.offlineThanks.hidden = view !== "offline" || !S.offlineSent;
    els.chat.hidden = view !== "chat";
    els.greeting.hidden = view === "offline";

    els.composer.hidden = view !== "chat" || ended || (surveyOnly && !S.online);
    els.endedBox.hidden = view !== "chat" || !ended;
    els.endBtn.hidden = !open;

    // Header line and queue information.
    let sub = S.online ? t("online") : t("away");
    let queue = "";
    if (open && c.status === "queued") {
      sub = t("waiting");
      if (c.queue_position) queue = t("queue", { n: num(c.queue_position) }) + " ";
      const w = c.estimated_wait_seconds;
      queue += w != null ? t("wait", { m: num(Math.max(1, Math.round(w / 60))) }) : t("wait_soon");
    } else if (open && c.assignee && c.assignee.name) {
      sub = t("chatting", { name: c.assignee.name });
    }
    const who = open && c.status !== "queued" ? c.assignee : null;
    const faceKey = who ? who.avatar_url || who.initials + who.colour : "";
    if (faceKey !== els.faceKey) els.face.replaceChildren(who ? faceEl(who, "") : "");
    els.faceKey = faceKey;
    els.face.hidden = !who;
    els.subtitle.textContent = sub;
    els.queue.textContent = queue;
    els.queue.hidden = !queue;

    if (refocus != null) {
      const box = view === "offline" ? els.offline : view === "prechat" ? els.prechat : null;
      const same = box && refocus ? box.querySelector('[name="' + refocus + '"]') : null;
      const target = same || (box ? box.querySelector("input, textarea") : els.input);
      if (target) focusInPanel(target);
    }
  }

  // The fields filled in the view being left (name, email, message), for the view `next`; the composer's text goes
  // into the offline form's message.
  function takeDraft(next) {
    const draft = {};
    const box = S.view === "offline" ? els.offline : S.view === "prechat" ? els.prechat : null;
    if (box) for (const input of box.querySelectorAll("[name]")) if (input.value.trim()) draft[input.name] = input.value;
    if (next === "offline" && els.input.value.trim()) {
      draft.body = els.input.value;
      els.input.value = "";
      autoGrow();
    }
    return draft;
  }

  function renderConnection() {
    // Shown only after a first connection, and not for a blip.
    clearTimeout(S.connTimer);
    if (S.ready || !S.everReady) {
      els.conn.hidden = true;
      return;
    }
    S.connTimer = setTimeout(safe(() => (els.conn.hidden = S.ready)), 1500);
  }

  /* ---------------------------------------------------------------- build the UI */

  function build() {
    const cfg = S.config;
    lang = /^fa\b/i.test(cfg.locale || document.documentElement.lang || "") ? "fa" : "en";
    intlLocale = lang === "fa" ? "fa-IR" : (navigator.language || "en").startsWith("en") ? navigator.language : "en";
    const dir = cfg.direction === "rtl" || cfg.direction === "ltr" ? cfg.direction : lang === "fa" ? "rtl" : "ltr";
    const brand = /^#[0-9a-f]{6}$/i.test(cfg.brand_color || "") ? cfg.brand_color : "#1f6feb";

    const { host, shadow, link } = L.makeHost();

    const titleId = nextId("title");
    els.badge = h("span", { class: "sd-badge", hidden: true, "aria-hidden": "true" });
    // Built with its icon and badge: setOpen() only swaps the icon, and the widget may never be opened.
    els.launcher = h(
      "button",
      {
        type: "button",
        class: "sd-launcher",
        "aria-expanded": "false",
        "aria-controls": "sd-panel",
        onclick: () => setOpen(!S.open, true),
      },
      icon("chat"),
      els.badge
    );
    els.subtitle = h("p", { class: "sd-subtitle" });
    els.face = h("span", { class: "sd-head-face", hidden: true });
    els.endBtn = h("button", {
      type: "button",
      class: "sd-head-btn sd-end",
      text: t("end_chat"),
      onclick: () => wsSend({ type: "conversation.close" }),
    });
    const header = h(
      "header",
      { class: "sd-head" },
      els.face,
      h("div", { class: "sd-head-text" }, h("h2", { id: titleId, class: "sd-title", text: cfg.name || t("title") }), els.subtitle),
      els.endBtn,
      h(
        "button",
        { type: "button", class: "sd-head-btn sd-icon-btn sd-min", "aria-label": t("minimise"), onclick: () => setOpen(false, true) },
        icon("close")
      )
    );

    els.greeting = h("div", { class: "sd-greeting", text: cfg.greeting || t("greeting") });
    els.queue = h("p", { class: "sd-queue", role: "status", hidden: true });
    els.log = h("div", { class: "sd-log", role: "log", "aria-live": "polite", "aria-label": t("messages") });
    els.typingText = h("span");
    els.typing = h("div", { class: "sd-typing", hidden: true }, h("span", { class: "sd-dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), els.typingText);
    els.survey = h("div", { class: "sd-survey", hidden: true });
    els.endedBox = h(
      "div",
      { class: "sd-ended", hidden: true },
      h("p", { role: "status", text: t("ended") }),
      h("button", {
        type: "button",
        class: "sd-secondary",
        text: t("new_chat"),
        onclick: () => {
          for (const el of S.rendered.values()) el.remove();
          S.rendered.clear();
          if (S.conv) S.gone.add(S.conv.id);
          S.conv = null;
          S.survey = null;
          renderSurvey();
          render();
          focusInPanel(els.input);
        },
      })
    );
    els.chat = h("div", { class: "sd-view sd-chat" }, els.queue, els.log, els.typing, els.endedBox, els.survey);
    els.prechat = h("div", { class: "sd-view", hidden: true });
    els.offline = h("div", { class: "sd-view", hidden: true });
    els.offlineThanks = h("p", { class: "sd-view sd-thanks", hidden: true, tabindex: "-1", role: "status", text: t("offline_thanks") });
    els.conn = h("p", { class: "sd-conn", role: "status", hidden: true, text: t("reconnecting") });
    els.scroll = h("div", { class: "sd-scroll" }, els.greeting, els.prechat, els.offline, els.offlineThanks, els.chat);

    const inputId = nextId("input");
    els.composerErr = h("p", { class: "sd-err", id: inputId + "-err", hidden: true });
    els.input = h("textarea", {
      id: inputId,
      class: "sd-compose-input",
      rows: 1,
      placeholder: t("placeholder"),
      "aria-label": t("message"),
      "aria-describedby": inputId + "-err",
      oninput: onComposerInput,
      onpaste: (ev) => {
        const files = ev.clipboardData && ev.clipboardData.files;
        if (files && files.length) {
          ev.preventDefault();
          addFiles(files);
        }
      },
      onkeydown: (ev) => {
        if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
          ev.preventDefault();
          sendFromComposer();
        }
      },
    });
    els.tray = h("ul", { class: "sd-tray", hidden: true });
    els.fileInput = h("input", {
      type: "file",
      multiple: true,
      hidden: true,
      onchange: () => {
        addFiles(els.fileInput.files);
        els.fileInput.value = "";
      },
    });
    els.composer = h(
      "form",
      {
        class: "sd-composer",
        novalidate: true,
        onsubmit: (ev) => {
          ev.preventDefault();
          sendFromComposer();
        },
      },
      els.composerErr,
      els.tray,
      (els.emojiBox = h("div", { class: "sd-emoji-box", role: "group", "aria-label": t("emoji"), hidden: true, onkeydown: onEmojiKey })),
      h(
        "div",
        { class: "sd-compose-row" },
        els.fileInput,
        h("button", { type: "button", class: "sd-attach", "aria-label": t("attach"), onclick: () => els.fileInput.click() }, icon("clip")),
        els.input,
        (els.emojiBtn = h("button", {
          type: "button",
          class: "sd-emoji-btn",
          "aria-label": t("emoji"),
          "aria-expanded": "false",
          onclick: () => toggleEmoji(els.emojiBox.hidden),
        }, icon("smile"))),
        h("button", { type: "submit", class: "sd-send", "aria-label": t("send") }, icon("send"))
      )
    );

    els.panel = h(
      "div",
      {
        id: "sd-panel",
        class: "sd-panel",
        role: "dialog",
        "aria-labelledby": titleId,
        tabindex: "-1",
        hidden: true,
        // Files dropped anywhere on the panel are attached while the chat's composer is shown.
        ondragover: (ev) => !els.composer.hidden && ev.preventDefault(),
        ondrop: (ev) => {
          if (els.composer.hidden) return;
          ev.preventDefault();
          addFiles(ev.dataTransfer && ev.dataTransfer.files);
        },
        onkeydown: (ev) => {
          if (ev.key === "Escape") {
            ev.stopPropagation();
            setOpen(false, true);
          }
        },
      },
      header,
      els.conn,
      els.scroll,
      els.composer
    );

    els.root = h(
      "div",
      { class: "sd-root sd-" + (cfg.position === "left" ? "left" : "right"), dir, lang, style: "visibility:hidden" },
      els.panel,
      els.launcher
    );
    els.root.style.setProperty("--sd-brand", brand);
    els.root.style.setProperty("--sd-on-brand", readableOn(brand));
    // Shown once our stylesheet is in, so the page never sees an unstyled widget.
    const reveal = safe(() => {
      els.root.style.removeProperty("visibility");
      // Opened from the launcher: now that it can be seen, the panel opens and takes the focus.
      if (L.openNow) setOpen(true, true);
      L.openNow = false;
    });
    link.addEventListener("load", reveal);
    link.addEventListener("error", reveal);
    shadow.append(link, els.root);
    // On <html>, not <body>: a transform or filter on the page's body would otherwise capture position:fixed.
    // The launcher's button gives way to ours, drawn in the same place (the stylesheet is in the cache by now).
    if (L.launcher) L.launcher.replaceWith(host);
    else document.documentElement.append(host);
    L.launcher = null;

    for (const o of store.get("outbox") || []) {
      if (o && o.client_id && o.body) setState(addPending(o.client_id, o.body), "queued");
    }

    document.addEventListener(
      "visibilitychange",
      safe(() => {
        if (!document.hidden) {
          clearUnread();
          reconnectNow();
          sendRead();
        }
      })
    );
    window.addEventListener("online", safe(reconnectNow));
    render();
    renderBadge();
    if (!L.openNow && store.get("open")) setOpen(true, false);
  }

  /* ---------------------------------------------------------------- start */

  async function boot() {
    for (let attempt = 0; ; attempt++) {
      let r = null;
      try {
        // The launcher's session, when it started one: the visitor is not asked twice.
        r = attempt === 0 && L.first ? applySession(L.first) : await startSession({});
      } catch (e) {
        r = null; // network error or CORS refusal
      }
      if (r && r.ok) break;
      if (r && r.status >= 400 && r.status < 500 && r.status !== 429) {
        return warn("the desk refused this widget:", r.status, r.data.detail || "");
      }
      await new Promise((res) => setTimeout(res, Math.min(60000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2)));
    }
    build();
    // The visitor's language is the one the widget speaks to them (surveys and e-mails follow it), known from the
    // config. Sent before the socket says hello: a visitor who has not written yet carries it in their token.
    if (store.get("locale") !== lang) {
      const r = await startSession({ locale: lang }).catch(() => null);
      if (r && r.ok) store.set("locale", lang);
    }
    connect();
  }

  boot().catch(warn);
})();
