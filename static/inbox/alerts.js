// New waiting chat: a short beep made with WebAudio and a desktop notification, both switchable and remembered.
// Notifications blocked in the browser's site settings are the operator's choice, not an error of the page: a quiet
// mark by the switch (`blockedMark`) says so while they are switched on, and nothing interrupts the operator.
const SOUND_KEY = "supportdesk.inbox.sound";
const NOTIFY_KEY = "supportdesk.inbox.notify";

export class Alerts {
  constructor({ soundBox, notifyBox, blockedMark }) {
    this.soundBox = soundBox;
    this.notifyBox = notifyBox;
    this.blockedMark = blockedMark;
    this.audio = null;
    soundBox.checked = localStorage.getItem(SOUND_KEY) !== "off";
    notifyBox.checked = localStorage.getItem(NOTIFY_KEY) !== "off";
    soundBox.addEventListener("change", () => {
      localStorage.setItem(SOUND_KEY, soundBox.checked ? "on" : "off");
      if (soundBox.checked) this.beep();
    });
    notifyBox.addEventListener("change", () => {
      localStorage.setItem(NOTIFY_KEY, notifyBox.checked ? "on" : "off");
      if (notifyBox.checked) this.askPermission();
      this.showPermission();
    });
    // Browsers allow audio and the permission prompt only after a user gesture: prepare both on the first one.
    const firstGesture = () => {
      this.unlockAudio();
      if (this.notifyBox.checked) this.askPermission();
    };
    document.addEventListener("pointerdown", firstGesture, { once: true });
    document.addEventListener("keydown", firstGesture, { once: true });
    this.showPermission();
    // Allowed or blocked in the site settings while the page is open.
    navigator.permissions?.query({ name: "notifications" }).then(
      (status) => status.addEventListener("change", () => this.showPermission()),
      () => {},
    );
  }

  askPermission() {
    if (!("Notification" in window) || Notification.permission !== "default") return;
    // Older browsers answer through a callback instead of a promise.
    Promise.resolve(Notification.requestPermission()).then(
      () => this.showPermission(),
      () => {},
    );
  }

  showPermission() {
    const blocked = "Notification" in window && Notification.permission === "denied";
    this.blockedMark.hidden = !(blocked && this.notifyBox.checked);
  }

  unlockAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!this.audio) this.audio = new Context();
    if (this.audio.state === "suspended") this.audio.resume();
  }

  beep() {
    this.unlockAudio();
    const ctx = this.audio;
    if (!ctx) return;
    const start = ctx.currentTime;
    [880, 1320].forEach((frequency, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      const at = start + i * 0.16;
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.14);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.15);
    });
  }

  newChat({ title, body, tag, onClick }) {
    if (this.soundBox.checked) this.beep();
    if (!this.notifyBox.checked || !("Notification" in window) || Notification.permission !== "granted") return;
    const notification = new Notification(title, { body, tag });
    notification.onclick = () => {
      window.focus();
      onClick();
      notification.close?.();
    };
  }
}
