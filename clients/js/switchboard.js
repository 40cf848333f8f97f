// Switchboard client: one reconnecting WebSocket to a Switchboard node (or its load balancer).
// Plain ES module, no build step; runs in browsers (global WebSocket) and in Node (pass `WebSocket`
// from the `ws` package, or use Node's global one where it exists).

const CONTROL = "$switchboard";
/** Close codes after which reconnecting would not help: reported to the app, no reconnect. */
const FINAL_CLOSES = new Set([4000, 4001, 4003]);

/**
 * Opens a connection. Options:
 * - token: a JWT string, or getToken: () => Promise<string> (called for every (re)connect and refresh);
 * - WebSocket: the WebSocket class (default: globalThis.WebSocket);
 * - queueLimit: sends kept while not connected (default 100; beyond it send() rejects);
 * - requestTimeout: ms before a send() promise rejects without a reply (default 30000);
 * - backoff: { initial: 500, max: 30000 } ms, doubled per failed attempt, with full jitter;
 * - refreshBefore: ms before the token's exp to send a fresh one (default 30000; needs getToken).
 */
export function connect(url, options = {}) {
  return new SwitchboardClient(url, options);
}

export class SwitchboardClient {
  constructor(url, options = {}) {
    if (!options.token && !options.getToken) {
      throw new Error("connect(url, {token | getToken}) needs a token or a getToken function");
    }
    this.url = url;
    this.options = options;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (!this.WebSocket) {
      throw new Error("no WebSocket implementation: pass options.WebSocket (e.g. from the ws package)");
    }
    this.queueLimit = options.queueLimit ?? 100;
    this.requestTimeout = options.requestTimeout ?? 30000;
    this.backoff = { initial: 500, max: 30000, ...(options.backoff ?? {}) };
    this.refreshBefore = options.refreshBefore ?? 30000;
    this.listeners = { message: new Set(), state: new Set(), close: new Set() };
    this.pending = new Map(); // request id -> { resolve, reject, timer }
    this.queue = []; // frames waiting for an open socket
    this.nextId = 1;
    this.attempts = 0;
    this.state = "connecting";
    this.closedByUser = false;
    this.open();
  }

  /** on('message', data => ...), on('state', state => ...), on('close', {code, reason, final} => ...). */
  on(event, listener) {
    this.listeners[event]?.add(listener);
    return () => this.listeners[event]?.delete(listener);
  }

  /**
   * Sends data to the app's request handler; resolves with its reply (data, or a Uint8Array for bytes,
   * or null for none), rejects with an Error carrying the node's error message.
   */
  send(data) {
    const id = this.nextId++;
    const frame = JSON.stringify({ [CONTROL]: "request", id, data });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error("no reply within " + this.requestTimeout + " ms"));
      }, this.requestTimeout);
      const entry = { id, resolve, reject, timer, frame, sent: false };
      this.pending.set(id, entry);
      if (this.state === "open") {
        entry.sent = true;
        this.socket.send(frame);
      } else if (this.queue.length < this.queueLimit && this.state !== "closed") {
        this.queue.push(entry);
      } else {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new Error(this.state === "closed" ? "connection closed" : "send queue full"));
      }
    });
  }

  /** Closes for good (no reconnect). */
  close() {
    this.closedByUser = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.refreshTimer);
    this.socket?.close(1000, "bye");
    this.setState("closed");
    this.failPending("connection closed");
  }

  // --- internals ---

  async token() {
    return this.options.getToken ? await this.options.getToken() : this.options.token;
  }

  async open() {
    this.setState("connecting");
    let token;
    try {
      token = await this.token();
    } catch (error) {
      this.scheduleReconnect();
      return;
    }
    if (this.closedByUser) {
      return;
    }
    // Protocol v2: every frame from the node is a JSON envelope, so no message the app sends can be
    // taken for one of the node's answers.
    const socket = new this.WebSocket(this.url, ["switchboard.v2", "bearer." + token]);
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      this.attempts = 0;
      this.setState("open");
      this.scheduleRefresh(token);
      for (const entry of this.queue.splice(0)) {
        if (this.pending.get(entry.id) === entry) { // not timed out meanwhile
          entry.sent = true;
          socket.send(entry.frame);
        }
      }
    };
    socket.onmessage = (event) => this.onFrame(event.data);
    socket.onclose = (event) => this.onClose(socket, event.code, event.reason);
    socket.onerror = () => {}; // onclose follows
  }

  onFrame(raw) {
    if (this.socket.protocol !== "switchboard.v2") {
      this.onPlainFrame(raw); // a node that does not speak v2 yet
      return;
    }
    const frame = JSON.parse(raw);
    if (frame[CONTROL] === "message") {
      this.emit("message", "data" in frame ? frame.data
        : "binary" in frame ? fromBase64(frame.binary)
        : frame.text);
      return;
    }
    this.onControl(frame);
  }

  /** A frame of protocol 1: a JSON value, a string or bytes as sent, or the node's own answer. */
  onPlainFrame(raw) {
    if (typeof raw !== "string") {
      this.emit("message", new Uint8Array(raw));
      return;
    }
    let parsed;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.emit("message", raw); // a text frame that is not JSON
      return;
    }
    if (parsed !== null && typeof parsed === "object" && CONTROL in parsed) {
      this.onControl(parsed);
      return;
    }
    this.emit("message", parsed);
  }

  onControl(control) {
    if (control[CONTROL] === "reply") {
      const waiting = this.pending.get(control.id);
      if (!waiting) {
        return;
      }
      this.pending.delete(control.id);
      clearTimeout(waiting.timer);
      if ("error" in control) {
        const error = new Error(control.error);
        error.requestId = control.requestId;
        waiting.reject(error);
      } else if ("binary" in control) {
        waiting.resolve(fromBase64(control.binary));
      } else {
        waiting.resolve(control.data);
      }
    } else if (control[CONTROL] === "refreshed") {
      this.scheduleRefreshAt(control.exp);
    }
  }

  onClose(socket, code, reason) {
    if (socket !== this.socket) {
      return;
    }
    clearTimeout(this.refreshTimer);
    const final = this.closedByUser || FINAL_CLOSES.has(code);
    this.emit("close", { code, reason, final });
    if (final) {
      this.setState("closed");
      this.failPending("connection closed (" + code + (reason ? ": " + reason : "") + ")");
      return;
    }
    // Requests already on the dropped socket get no reply: reject them (the app may or may not have
    // handled them). Queued ones go out after the reconnect.
    for (const [id, entry] of this.pending) {
      if (entry.sent) {
        clearTimeout(entry.timer);
        this.pending.delete(id);
        entry.reject(new Error("connection lost before the reply (the app may have handled it)"));
      }
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    this.setState("connecting");
    const ceiling = Math.min(this.backoff.max, this.backoff.initial * 2 ** this.attempts);
    this.attempts++;
    const delay = Math.random() * ceiling; // full jitter
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  scheduleRefresh(token) {
    this.scheduleRefreshAt(expiry(token));
  }

  scheduleRefreshAt(exp) {
    clearTimeout(this.refreshTimer);
    if (!exp || !this.options.getToken) {
      return; // no exp, or no way to get a fresh token: the node closes at exp (4001)
    }
    const delay = Math.max(0, exp * 1000 - Date.now() - this.refreshBefore);
    this.refreshTimer = setTimeout(async () => {
      try {
        const fresh = await this.options.getToken();
        if (this.state === "open") {
          this.socket.send(JSON.stringify({ [CONTROL]: "refresh", token: fresh }));
        }
      } catch {
        // the next reconnect asks again
      }
    }, delay);
  }

  failPending(message) {
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error(message));
      this.pending.delete(id);
    }
    this.queue.length = 0;
  }

  setState(state) {
    if (this.state !== state) {
      this.state = state;
      this.emit("state", state);
    }
  }

  emit(event, value) {
    for (const listener of this.listeners[event]) {
      listener(value);
    }
  }
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The exp claim (seconds) of a JWT, or undefined. */
function expiry(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).exp;
  } catch {
    return undefined;
  }
}
