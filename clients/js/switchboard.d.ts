/** Options of {@link connect}. */
export interface ConnectOptions {
  /** A JWT for the user (its `sub` is the user id). */
  token?: string;
  /** Called for every (re)connect and before the token expires; give this or `token`. */
  getToken?: () => Promise<string> | string;
  /** The WebSocket class; default `globalThis.WebSocket` (in Node: `import WebSocket from "ws"`). */
  WebSocket?: unknown;
  /** Sends kept while not connected; beyond it `send()` rejects. Default 100. */
  queueLimit?: number;
  /** Milliseconds a `send()` waits for its reply. Default 30000. */
  requestTimeout?: number;
  /** Reconnect delays: doubled per failed attempt from `initial` up to `max`, with full jitter. */
  backoff?: { initial?: number; max?: number };
  /** Milliseconds before the token's `exp` to send a fresh one (needs `getToken`). Default 30000. */
  refreshBefore?: number;
}

export type ConnectionState = "connecting" | "open" | "closed";

/** A close of the socket; `final`: no reconnect follows (4000, 4001, 4003, or `close()`). */
export interface CloseInfo {
  code: number;
  reason: string;
  final: boolean;
}

export declare class SwitchboardClient {
  readonly state: ConnectionState;
  /** Sends `data` to the app's request handler; resolves with its reply (`null` for none). */
  send(data: unknown): Promise<unknown>;
  on(event: "message", listener: (data: unknown) => void): () => void;
  on(event: "state", listener: (state: ConnectionState) => void): () => void;
  on(event: "close", listener: (close: CloseInfo) => void): () => void;
  /** Closes for good. */
  close(): void;
}

export declare function connect(url: string, options: ConnectOptions): SwitchboardClient;
