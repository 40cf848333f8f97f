// Socket.IO peer of Switchboard for the side-by-side benchmarks (see README.md).
//
// One process is one node: a Socket.IO server that authenticates each socket with a JWT and puts it in
// the room `user:<sub>`, plus a small internal HTTP API that sends to a user, answers presence and
// reports the node's memory. With REDIS_URL set, nodes share rooms through the Redis adapter.

import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";

import { createAdapter } from "@socket.io/redis-adapter";
import jwt from "jsonwebtoken";
import { createClient } from "redis";
import { Server } from "socket.io";

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_PRESENCE_USERS = 100;
// How long a cluster-wide request (presence) may wait for the other nodes through Redis.
const CLUSTER_REQUEST_TIMEOUT_MS = 5_000;
// Same as Switchboard's WS_HANDSHAKE_TIMEOUT: a socket that has not joined the namespace by then is closed.
const CONNECT_TIMEOUT_MS = 10_000;
// Clock skew allowed on `exp`/`nbf`, as Switchboard does.
const JWT_CLOCK_TOLERANCE_S = 5;
const SHUTDOWN_TIMEOUT_MS = 10_000;

function fail(message) {
  console.error(`socketio peer: ${message}`);
  process.exit(1);
}

function portFromEnv(name, fallback) {
  const raw = process.env[name] ?? String(fallback);
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${name} must be a port number, got "${raw}"`);
  return port;
}

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is required`);
  return value;
}

/** Rejects when `promise` has not settled within `ms`. */
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- configuration ------------------------------------------------------------------------------

const HOST = process.env.HOST || "127.0.0.1";
const WS_PORT = portFromEnv("WS_PORT", 9443);
const API_PORT = portFromEnv("API_PORT", 9081);
const JWT_SECRET = requiredEnv("JWT_SECRET");
const API_KEY = requiredEnv("API_KEY");
const REDIS_URL = process.env.REDIS_URL || null;
const NODE_NAME = process.env.NODE_NAME || `${HOST}:${WS_PORT}`;
const { TLS_CERT, TLS_KEY } = process.env;
if (Boolean(TLS_CERT) !== Boolean(TLS_KEY)) fail("set both TLS_CERT and TLS_KEY, or neither");
let tls = null;
if (TLS_CERT) {
  try {
    tls = { cert: readFileSync(TLS_CERT), key: readFileSync(TLS_KEY) };
  } catch (err) {
    fail(`cannot read TLS_CERT/TLS_KEY: ${err.message}`);
  }
}

// ---- Socket.IO server ---------------------------------------------------------------------------

// Anything that is not a Socket.IO request (Socket.IO answers those itself) gets a 404.
const notFound = (req, res) => res.writeHead(404).end();
const wsServer = tls ? https.createServer(tls, notFound) : http.createServer(notFound);

let redisClients = [];
let adapter; // undefined: Socket.IO's default in-memory adapter
if (REDIS_URL) {
  const pubClient = createClient({ url: REDIS_URL });
  const subClient = pubClient.duplicate();
  redisClients = [pubClient, subClient];
  for (const client of redisClients) {
    // The client retries on its own; log each outage once rather than at every reconnection attempt.
    let lastError = null;
    client.on("error", (err) => {
      if (err.message !== lastError) console.error(`socketio peer: redis: ${err.message}`);
      lastError = err.message;
    });
    client.on("ready", () => {
      lastError = null;
    });
  }
  try {
    // At start-up, fail rather than wait for Redis forever.
    await withTimeout(Promise.all(redisClients.map((client) => client.connect())), CLUSTER_REQUEST_TIMEOUT_MS, "connecting to Redis");
  } catch (err) {
    fail(`cannot use REDIS_URL: ${err.message}`);
  }
  adapter = createAdapter(pubClient, subClient, { requestsTimeout: CLUSTER_REQUEST_TIMEOUT_MS });
}

const io = new Server(wsServer, {
  path: "/socket.io",
  transports: ["websocket"],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  connectTimeout: CONNECT_TIMEOUT_MS,
  adapter,
});

const userRoom = (userId) => `user:${userId}`;

/** The user id (`sub`) of a valid HS256 token signed with JWT_SECRET, or null. */
function verifiedUserId(token) {
  if (typeof token !== "string" || token === "") return null;
  try {
    const { sub } = jwt.verify(token, JWT_SECRET, { algorithms: ["HS256"], clockTolerance: JWT_CLOCK_TOLERANCE_S });
    return typeof sub === "string" && sub !== "" ? sub : null;
  } catch {
    return null;
  }
}

// The client sends its token in the CONNECT packet: 40{"token":"<jwt>"}. A refusal reaches it as
// 44{"message":"unauthorized"}.
io.use((socket, next) => {
  const userId = verifiedUserId(socket.handshake.auth?.token);
  if (userId === null) return next(new Error("unauthorized"));
  socket.data.userId = userId;
  next();
});

io.on("connection", (socket) => {
  socket.join(userRoom(socket.data.userId));
});

// ---- internal HTTP API --------------------------------------------------------------------------

class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

function sendJson(res, status, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

function requireMethod(req, method) {
  if (req.method !== method) throw new HttpError(405, "method not allowed", { allow: method });
}

const digest = (value) => createHash("sha256").update(value).digest();
const apiKeyDigest = digest(API_KEY);

function requireApiKey(req) {
  const match = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  if (!match) throw new HttpError(401, "missing API key");
  // Compare digests so that the comparison takes the same time whatever the key's length.
  if (!timingSafeEqual(digest(match[1]), apiKeyDigest)) throw new HttpError(403, "invalid API key");
}

function readJsonBody(req) {
  const tooLarge = () => new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`, { connection: "close" });
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"]) > MAX_BODY_BYTES) return reject(tooLarge());
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop buffering; the 413 closes the connection, so the rest of the body is never read.
        req.removeAllListeners("data");
        reject(tooLarge());
      } else {
        chunks.push(chunk);
      }
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(new HttpError(400, "invalid JSON"));
      }
    });
    req.on("error", reject);
  });
}

async function sendToUser(req, res, encodedUserId) {
  let userId;
  try {
    userId = decodeURIComponent(encodedUserId);
  } catch {
    throw new HttpError(400, "invalid user id encoding");
  }
  const message = await readJsonBody(req);
  const room = userRoom(userId);
  // With the Redis adapter the emit reaches the room on every node, but how many sockets it reached
  // elsewhere is not known synchronously, so `delivered` is null there; in memory it is this node's count.
  const delivered = adapter ? null : (io.sockets.adapter.rooms.get(room)?.size ?? 0);
  io.to(room).emit("message", message);
  sendJson(res, 200, { userId, delivered });
}

async function presence(req, res) {
  const body = await readJsonBody(req);
  const users = body?.users;
  const valid =
    Array.isArray(users) &&
    users.length >= 1 &&
    users.length <= MAX_PRESENCE_USERS &&
    users.every((userId) => typeof userId === "string" && userId !== "");
  if (!valid) throw new HttpError(400, `"users" must be an array of 1 to ${MAX_PRESENCE_USERS} user ids`);

  // fetchSockets() asks every node through the Redis adapter (which gives up after requestsTimeout).
  // The outer timeout also covers Redis being unreachable, when the adapter's commands just queue.
  let online;
  try {
    online = await withTimeout(
      Promise.all(users.map(async (userId) => (await io.in(userRoom(userId)).fetchSockets()).length > 0)),
      CLUSTER_REQUEST_TIMEOUT_MS + 1_000,
      "presence lookup",
    );
  } catch (err) {
    throw new HttpError(503, `presence unavailable: ${err.message}`);
  }
  sendJson(res, 200, { users: users.map((userId, i) => ({ userId, online: online[i] })) });
}

function stats(res) {
  // With --expose-gc, collect first so that heapUsed is the live heap, not garbage awaiting collection.
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  sendJson(res, 200, { node: NODE_NAME, connections: io.engine.clientsCount, rss, heapUsed });
}

let state = "starting"; // "starting" | "ready" | "stopping"

async function route(req, res) {
  const path = req.url.split("?")[0];
  if (path === "/health") {
    requireMethod(req, "GET");
    return sendJson(res, state === "ready" ? 200 : 503, { status: state });
  }
  requireApiKey(req);
  if (path === "/stats") {
    requireMethod(req, "GET");
    return stats(res);
  }
  if (path === "/v1/presence") {
    requireMethod(req, "POST");
    return presence(req, res);
  }
  const send = /^\/v1\/users\/([^/]+)\/messages$/.exec(path);
  if (send) {
    requireMethod(req, "POST");
    return sendToUser(req, res, send[1]);
  }
  throw new HttpError(404, "not found");
}

const apiServer = http.createServer((req, res) => {
  route(req, res).catch((err) => {
    if (res.headersSent) return res.destroy();
    if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message }, err.headers);
    console.error(`socketio peer: ${req.method} ${req.url}:`, err);
    sendJson(res, 500, { error: "internal error" });
  });
});

// ---- start and stop -----------------------------------------------------------------------------

// The same accept backlog as Switchboard's WebSocket port (WS_ACCEPT_BACKLOG; Node's default is 511),
// so that a connect storm meets the same kernel queue on both sides.
const BACKLOG = 16384;

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, HOST, BACKLOG, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function shutdown(signal) {
  if (state === "stopping") return;
  state = "stopping";
  console.log(`socketio peer ${NODE_NAME}: ${signal}, shutting down`);
  setTimeout(() => {
    console.error(`socketio peer ${NODE_NAME}: shutdown took over ${SHUTDOWN_TIMEOUT_MS} ms, exiting anyway`);
    process.exit(0);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  // io.close() disconnects every socket, closes the adapter and the WebSocket server.
  await io.close();
  await new Promise((resolve) => {
    apiServer.close(resolve);
    apiServer.closeAllConnections();
  });
  await Promise.allSettled(redisClients.map((client) => client.quit()));
  process.exit(0);
}

process.once("SIGTERM", () => shutdown("SIGTERM"));
process.once("SIGINT", () => shutdown("SIGINT"));

try {
  await listen(wsServer, WS_PORT);
  await listen(apiServer, API_PORT);
} catch (err) {
  fail(`cannot listen: ${err.message}`);
}
state = "ready";
console.log(
  `socketio peer ${NODE_NAME} ready: ${tls ? "wss" : "ws"}://${HOST}:${WS_PORT}, api http://${HOST}:${API_PORT}, ` +
    `adapter: ${adapter ? "redis" : "memory"}`,
);
