// New waiting chat: a short beep made with WebAudio and a desktop notification, both switchable and remembered.
const SOUND_KEY = "supportdesk.inbox.sound";
const NOTIFY_KEY = "supportdesk.inbox.notify";

export class Alerts {
  constructor({ soundBox, notifyBox, onBlocked }) {
    this.soundBox = soundBox;
    this.notifyBox = notifyBox;
    this.onBlocked = onBlocked;
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
    });
    // Browsers allow audio and the permission prompt only after a user gesture: prepare both on the first one.
    const firstGesture = () => {
      this.unlockAudio();
      if (this.notifyBox.checked) this.askPermission();
    };
    document.addEventListener("pointerdown", firstGesture, { once: true });
    document.addEventListener("keydown", firstGesture, { once: true });
  }

  askPermission() {
    if (!("Notification" in window)) return;
    if (Notification.permission === "default") Notification.requestPermission();
    else if (Notification.permission === "denied") this.onBlocked();
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
