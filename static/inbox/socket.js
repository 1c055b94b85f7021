// The operator's socket to /ws/agent/: frames in and out, reconnection with backoff, and `sync` after a drop.
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const FATAL_CODES = new Set([4401, 4403]);

export class AgentSocket {
  constructor({ onFrame, onState }) {
    this.onFrame = onFrame;
    this.onState = onState; // ("open" | "waiting" | "connecting" | "fatal", {seconds, reconnected})
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/agent/`;
    this.lastEventId = null;
    this.attempt = 0;
    this.everOpened = false;
    this.outbox = [];
    this.timer = null;
  }

  connect() {
    clearTimeout(this.timer);
    this.onState("connecting", {});
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      if (reconnected) this.send({ type: "sync", last_event_id: this.lastEventId });
      for (const frame of this.outbox.splice(0)) this.send(frame);
      this.onState("open", { reconnected });
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.noteEventId(frame);
      this.onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      if (FATAL_CODES.has(event.code)) {
        this.onState("fatal", { code: event.code });
        return;
      }
      this.scheduleReconnect();
    });
  }

  // Event ids let `sync` ask only for what was missed; frames without one are not logged events.
  noteEventId(frame) {
    const id = frame.event_id ?? frame.last_event_id;
    if (Number.isInteger(id) && (this.lastEventId === null || id > this.lastEventId)) this.lastEventId = id;
  }

  scheduleReconnect() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = base + Math.floor(Math.random() * base * 0.3);
    this.attempt += 1;
    let left = Math.ceil(delay / 1000);
    this.onState("waiting", { seconds: left });
    const tick = () => {
      left -= 1;
      if (left <= 0) return;
      this.onState("waiting", { seconds: left });
      this.timer = setTimeout(tick, 1000);
    };
    this.timer = setTimeout(tick, 1000);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  retryNow() {
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.timer);
    this.connect();
  }

  get isOpen() {
    return this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  // Frames sent while disconnected wait for the next connection; the server dedupes messages by client_id.
  send(frame) {
    if (this.isOpen) this.ws.send(JSON.stringify(frame));
    else if (frame.type !== "typing") this.outbox.push(frame);
  }
}
