// The operator's console (/console) in headless Chromium against a real node (the jar, plain ws), with
// a second page as the user's browser: the client library's example page (clients/js/examples).
// Screenshots go to SCREENSHOTS (default ../../../target/console-screenshots).
// Needs `mvn package` (SWITCHBOARD_JAR overrides the jar), `npm install`, and Chromium (CHROMIUM
// overrides /usr/bin/chromium).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { chromium } from "playwright-core";
import { token as sign, startNode } from "../../../../clients/js/testing.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const JAR = process.env.SWITCHBOARD_JAR ?? path.join(here, "../../../target/switchboard.jar");
const SHOTS = process.env.SCREENSHOTS ?? path.join(here, "../../../target/console-screenshots");
const CLIENTS = path.join(here, "../../../../clients/js");
const SECRET = "console-test-secret-console-test-secret-01";
const API_KEY = "console-test-key";
const WAIT = 30_000;

let node;
let site;
let browser;
let apiUrl;
let wsUrl;
let siteUrl;

const token = (user) => sign(SECRET, user);

/** Serves clients/js (the library and its example page) as a user's site would. */
function serveClientLibrary() {
  const types = { ".js": "text/javascript", ".html": "text/html; charset=utf-8" };
  return createServer((request, response) => {
    const file = path.normalize(path.join(CLIENTS, new URL(request.url, "http://x").pathname));
    if (!file.startsWith(CLIENTS) || !(path.extname(file) in types)) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(file);
      response.writeHead(200, { "Content-Type": types[path.extname(file)] }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  ({ node, wsUrl, apiUrl } = await startNode(JAR, { JWT_SECRET: SECRET, API_KEY }));
  site = serveClientLibrary();
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteUrl = `http://127.0.0.1:${site.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
});

after(async () => {
  await browser?.close();
  node?.kill("SIGKILL");
  site?.close();
});

test("an operator signs in, watches a user come online, sends them a message, sees them go", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const panel = await context.newPage();
  const problems = [];
  panel.on("pageerror", (error) => problems.push(error.message));
  panel.on("console", (message) => {
    // Chromium logs every non-2xx response; the only one expected is the wrong key's 403.
    if (message.type() === "error" && !/status of 403/.test(message.text())) {
      problems.push(message.text());
    }
  });

  await panel.goto(apiUrl + "/console");
  assert.equal(new URL(panel.url()).pathname, "/console/", "/console redirects to the page");
  await panel.screenshot({ path: path.join(SHOTS, "1-sign-in.png") });

  // A wrong key is refused with a message; the dashboard stays hidden.
  await panel.fill("#api-key", "not-the-key");
  await panel.click("#login-form button");
  await panel.locator("#login-error", { hasText: "refused" }).waitFor({ timeout: WAIT });
  assert.equal(await panel.locator("#dashboard").isVisible(), false);

  await panel.fill("#api-key", API_KEY);
  await panel.click("#login-form button");
  await panel.locator("#members tbody tr").first().waitFor({ timeout: WAIT });
  const member = panel.locator("#members tbody tr").first();
  assert.match(await member.textContent(), /127\.0\.0\.1:\d+.*this node.*up/s);
  await panel.locator("#feed-state", { hasText: "following" }).waitFor({ timeout: WAIT });
  await panel.locator('[data-metric="switchboard_connections"] .value', { hasText: "0" })
    .waitFor({ timeout: WAIT });
  assert.equal(await panel.evaluate(() => localStorage.length + sessionStorage.length), 0,
    "the key is not stored");
  assert.equal(await panel.evaluate(() => document.cookie), "");

  // The user's browser: the client library's example page.
  const user = await context.newPage();
  await user.goto(`${siteUrl}/examples/browser.html?url=${encodeURIComponent(wsUrl)}&token=${token("ada")}`);
  await user.locator("#state", { hasText: "open" }).waitFor({ timeout: WAIT });

  await panel.locator('#feed li[data-user="ada"][data-kind="online"]').waitFor({ timeout: WAIT });
  await panel.locator("#members tbody tr td.connections", { hasText: "1" }).waitFor({ timeout: WAIT });
  await panel.locator("#members tbody tr td.users", { hasText: "1" }).waitFor({ timeout: WAIT });

  await panel.fill("#lookup-user", "ada");
  await panel.click("#lookup-form button");
  await panel.locator("#lookup-result .online-yes").waitFor({ timeout: WAIT });
  assert.equal(await panel.locator("#lookup-result table tr").count(), 2, "a header and one connection");

  await panel.fill("#send-user", "ada");
  await panel.fill("#send-body", '{"hello": "from the console"}');
  await panel.click("#send-form button");
  await panel.locator("#send-result", { hasText: "Delivered to 1 connection of ada" })
    .waitFor({ timeout: WAIT });
  await user.locator("#messages li", { hasText: '{"hello":"from the console"}' }).waitFor({ timeout: WAIT });
  await panel.screenshot({ path: path.join(SHOTS, "2-online-and-sent.png"), fullPage: true });
  await user.screenshot({ path: path.join(SHOTS, "3-user-page.png") });

  // Bad input in the send form gets a clear message, and nothing is sent.
  await panel.fill("#send-body", "{not json");
  await panel.click("#send-form button");
  await panel.locator("#send-result.error", { hasText: "not valid JSON" }).waitFor({ timeout: WAIT });

  await user.close();
  await panel.locator('#feed li[data-user="ada"][data-kind="offline"]').waitFor({ timeout: WAIT });
  await panel.locator("#members tbody tr td.connections", { hasText: "0" }).waitFor({ timeout: WAIT });
  await panel.fill("#lookup-user", "ada");
  await panel.click("#lookup-form button");
  await panel.locator("#lookup-result .online-no").waitFor({ timeout: WAIT });
  await panel.screenshot({ path: path.join(SHOTS, "4-offline.png"), fullPage: true });

  const kinds = await panel.locator('#feed li[data-user="ada"]').evaluateAll(
    (items) => items.map((item) => item.dataset.kind).reverse());
  assert.deepEqual(kinds, ["online", "offline"]);

  await panel.click("#sign-out");
  await panel.locator("#login").waitFor({ timeout: WAIT });
  assert.equal(await panel.locator("#dashboard").isVisible(), false);
  assert.deepEqual(problems, [], "no script errors on the page");
  await context.close();
});
