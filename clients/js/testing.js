// What the client library's tests and the console's browser test share: a real Switchboard node (the
// jar, plain ws, on free loopback ports), HS256 tokens it accepts, and bounded waits. Not part of the
// published package (see "files" in package.json).
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";

/** An HS256 JWT for `user`, signed with `secret`, expiring in `ttlSeconds`. */
export function token(secret, user, ttlSeconds = 3600) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = b64({ alg: "HS256", typ: "JWT" }) + "." +
    b64({ sub: user, exp: Math.floor(Date.now() / 1000) + ttlSeconds });
  return body + "." + createHmac("sha256", secret).update(body).digest("base64url");
}

/** Polls `condition` (may be async) every 100 ms until it holds; throws after `seconds`. */
export async function until(what, condition, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await condition()) {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("timed out waiting for: " + what);
}

export function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the jar at `jar` as a one-node cluster with TLS off, `env` added, and waits (up to 90 s)
 * until it is ready. Resolves with the process and its URLs.
 */
export async function startNode(jar, env) {
  const [wss, api, cluster] = [await freePort(), await freePort(), await freePort()];
  const apiUrl = `http://127.0.0.1:${api}`;
  const node = spawn("java", ["-Xmx256m", "-jar", jar], {
    env: {
      ...process.env, TLS: "off", WSS_HOST: "127.0.0.1", WSS_PORT: String(wss), API_HOST: "127.0.0.1",
      API_PORT: String(api), CLUSTER_HOST: "127.0.0.1", CLUSTER_PORT: String(cluster), ...env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    await until("the node is ready", async () => {
      try {
        return (await fetch(apiUrl + "/health/ready")).status === 200;
      } catch {
        return false;
      }
    }, 90);
  } catch (error) {
    node.kill("SIGKILL");
    throw error;
  }
  return { node, wsUrl: `ws://127.0.0.1:${wss}/socket`, apiUrl };
}
