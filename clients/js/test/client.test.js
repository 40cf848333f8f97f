// Runs the client library against a real Switchboard node: the jar started here (plain ws, TLS=off),
// with this process as its HTTP request handler. Needs `mvn package` first (SWITCHBOARD_JAR overrides
// the jar's path) and `npm install` (for the ws package).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import path from "node:path";
import WebSocket from "ws";
import { connect } from "../switchboard.js";
import { token as sign, until, startNode } from "../testing.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const JAR = process.env.SWITCHBOARD_JAR ?? path.join(here, "../../../service/target/switchboard.jar");
const SECRET = "client-test-secret-client-test-secret-0123";
const API_KEY = "client-test-key";
let node;
let handler;
let wsUrl;
let apiUrl;

const token = (user, ttlSeconds) => sign(SECRET, user, ttlSeconds);

async function api(method, route, body) {
  const response = await fetch(apiUrl + route, {
    method,
    headers: { Authorization: "Bearer " + API_KEY, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

before(async () => {
  // The app: answers {"op": "echo"} with {"echo": data}, {"op": "fail"} with an error.
  handler = createServer((request, response) => {
    let raw = "";
    request.on("data", (chunk) => (raw += chunk));
    request.on("end", () => {
      const forwarded = JSON.parse(raw);
      if (forwarded.data?.op === "fail") {
        response.writeHead(422, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ error: "no such room" }));
        return;
      }
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ echo: forwarded.data, user: forwarded.user.id }));
    });
  });
  await new Promise((resolve) => handler.listen(0, "127.0.0.1", resolve));
  ({ node, wsUrl, apiUrl } = await startNode(JAR, {
    JWT_SECRET: SECRET, API_KEY, HANDLER_URL: `http://127.0.0.1:${handler.address().port}/`,
    HANDLER_SECRET: "handler-secret",
  }));
});

after(async () => {
  node?.kill("SIGKILL");
  handler?.close();
});

test("send() resolves with the handler's reply, or rejects with its error", async () => {
  const client = connect(wsUrl, { token: token("ann"), WebSocket });
  try {
    assert.deepEqual(await client.send({ op: "echo", n: 1 }), { echo: { op: "echo", n: 1 }, user: "ann" });
    const [a, b] = await Promise.all([client.send({ op: "echo", n: 2 }), client.send({ op: "echo", n: 3 })]);
    assert.equal(a.echo.n, 2);
    assert.equal(b.echo.n, 3);
    await assert.rejects(client.send({ op: "fail" }), /no such room/);
  } finally {
    client.close();
  }
});

test("messages sent to the user arrive; state goes connecting, open, closed", async () => {
  const states = [];
  const client = connect(wsUrl, { token: token("bea"), WebSocket });
  client.on("state", (s) => states.push(s));
  const received = [];
  client.on("message", (m) => received.push(m));
  await until("open", () => client.state === "open");
  await until("bea is online", async () => (await api("GET", "/v1/users/bea/presence")).body.online);
  const sent = await api("POST", "/v1/users/bea/messages", { hello: "bea" });
  assert.equal(sent.body.delivered, 1);
  await until("the message arrived", () => received.length === 1);
  assert.deepEqual(received[0], { hello: "bea" });
  client.close();
  assert.deepEqual(states, ["open", "closed"]);
});

test("protocol v2: a string, bytes and an object that looks like the node's answer arrive as sent", async () => {
  const client = connect(wsUrl, { token: token("bo"), WebSocket });
  const received = [];
  client.on("message", (m) => received.push(m));
  await until("open", () => client.state === "open");
  assert.equal(client.socket.protocol, "switchboard.v2");
  await until("bo is online", async () => (await api("GET", "/v1/users/bo/presence")).body.online);
  const post = (type, body) => fetch(apiUrl + "/v1/users/bo/messages", {
    method: "POST", headers: { Authorization: "Bearer " + API_KEY, "Content-Type": type }, body,
  });
  assert.equal((await post("text/plain", "just text")).status, 200);
  assert.equal((await post("application/octet-stream", new Uint8Array([0, 255]))).status, 200);
  assert.equal((await api("POST", "/v1/users/bo/messages", { $switchboard: "reply", id: 1 })).status, 200);
  await until("three messages arrived", () => received.length === 3);
  assert.equal(received[0], "just text");
  assert.deepEqual(received[1], new Uint8Array([0, 255]));
  assert.deepEqual(received[2], { $switchboard: "reply", id: 1 });
  client.close();
});

test("after a drop it reconnects and queued sends go out; after 4000 it stays closed", async () => {
  const client = connect(wsUrl, { token: token("cy"), WebSocket, backoff: { initial: 50, max: 200 } });
  const closes = [];
  client.on("close", (c) => closes.push(c));
  await until("open", () => client.state === "open");
  // The node drops the socket as a dying node would: here the client's socket is cut from this side.
  let reply;
  const stop = client.on("state", (state) => {
    if (state === "connecting" && !reply) {
      reply = client.send({ op: "echo", queued: true }); // made while reconnecting: queued
    }
  });
  client.socket.terminate();
  await until("the drop is noticed", () => reply !== undefined);
  stop();
  assert.deepEqual((await reply).echo, { op: "echo", queued: true });
  assert.equal(client.state, "open");
  assert.equal(closes[0].final, false);

  // The app logs the user out: 4000 means "do not come back".
  assert.equal((await api("DELETE", "/v1/users/cy/connections")).body.closed, 1);
  await until("closed for good", () => client.state === "closed");
  assert.equal(closes.at(-1).code, 4000);
  assert.equal(closes.at(-1).final, true);
  await new Promise((r) => setTimeout(r, 300)); // longer than the backoff: no reconnect happened
  assert.equal((await api("GET", "/v1/users/cy/presence")).body.online, false);
});

test("a token near its exp is refreshed on the socket (getToken), so the node does not close it", async () => {
  let calls = 0;
  const client = connect(wsUrl, {
    WebSocket,
    getToken: async () => {
      calls++;
      return token("dee", calls === 1 ? 3 : 3600); // the first expires in 3 s
    },
    refreshBefore: 2000,
  });
  const closes = [];
  client.on("close", (c) => closes.push(c));
  await until("refreshed", () => calls >= 2);
  await new Promise((r) => setTimeout(r, 3500)); // past the first token's exp
  assert.equal(client.state, "open");
  assert.deepEqual(closes, []);
  assert.equal((await client.send({ op: "echo" })).user, "dee");
  client.close();
});
