// Switchboard's operator console: one page on the node's API port. The API key lives in `key` below and
// nowhere else (no storage, no cookie); every call sends it as a bearer token. Data reaches the page only
// through textContent, never as HTML.

const POLL_MS = 2000;
const FEED_MAX = 200;

let key = null;
let pollTimer = null;
let feedAbort = null;
let previous = null; // the last metrics sample, for rates

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: "Bearer " + key, ...(options.headers ?? {}) },
  });
  const type = response.headers.get("Content-Type") ?? "";
  const body = type.startsWith("application/json") ? await response.json() : await response.text();
  if (!response.ok) {
    throw new ApiError(response.status, typeof body === "object" ? body : { error: body });
  }
  return body;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  if (className) {
    node.className = className;
  }
  return node;
}

function setLink(state) {
  const pill = $("link");
  pill.textContent = state;
  pill.className = "pill " + (state === "live" ? "live" : state === "unreachable" ? "down" : "");
}

// --- sign in / out --------------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const candidate = $("api-key").value.trim();
  $("login-error").textContent = "";
  key = candidate;
  try {
    const cluster = await api("/v1/cluster");
    $("api-key").value = "";
    $("login").hidden = true;
    $("dashboard").hidden = false;
    $("session").hidden = false;
    $("self").textContent = "node " + cluster.self;
    await refresh();
    pollTimer = setInterval(refresh, POLL_MS);
    followEvents();
  } catch (error) {
    key = null;
    $("login-error").textContent =
      error instanceof ApiError && (error.status === 401 || error.status === 403)
        ? "That API key was refused."
        : "Could not reach the node: " + error.message;
  }
}

function signOut() {
  key = null;
  previous = null;
  clearInterval(pollTimer);
  feedAbort?.abort();
  $("feed").replaceChildren();
  $("members").tBodies[0].replaceChildren();
  $("counters").replaceChildren();
  $("lookup-result").replaceChildren();
  $("send-result").textContent = "";
  $("dashboard").hidden = true;
  $("session").hidden = true;
  $("login").hidden = false;
  $("api-key").focus();
}

// --- cluster and counters -------------------------------------------------------------------------

async function refresh() {
  if (key === null) {
    return;
  }
  try {
    const [cluster, nodes, metrics] = await Promise.all([
      api("/v1/cluster"),
      api("/v1/nodes"),
      api("/metrics"),
    ]);
    if (key === null) {
      return;
    }
    renderMembers(cluster, nodes);
    renderCounters(parseMetrics(metrics));
    setLink("live");
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      signOut();
      $("login-error").textContent = "The node no longer accepts this API key.";
      return;
    }
    setLink("unreachable");
  }
}

function renderMembers(cluster, nodes) {
  const stats = new Map(nodes.nodes.map((n) => [n.node, n]));
  const totals = { connections: 0, users: 0, entities: 0, onlineUsers: 0 };
  const rows = cluster.members.map((member) => {
    const row = element("tr");
    row.dataset.member = member.address;
    const name = element("td", member.address, "mono");
    if (member.address === cluster.self) {
      name.append(element("span", " (this node)", "muted"));
    }
    if (member.address === cluster.leader) {
      name.append(element("span", " leader", "muted"));
    }
    row.append(
      name,
      element("td", member.status, member.status === "up" ? "status-up" : "status-other"),
      element("td", member.reachable ? "yes" : "no", member.reachable ? "" : "unreachable"),
    );
    const s = stats.get(member.address);
    for (const field of ["connections", "users", "entities", "onlineUsers"]) {
      row.append(element("td", s ? s[field] : "–", "num " + field));
      totals[field] += s ? s[field] : 0;
    }
    return row;
  });
  $("members").tBodies[0].replaceChildren(...rows);
  $("total-connections").textContent = totals.connections;
  $("total-users").textContent = totals.users;
  $("total-entities").textContent = totals.entities;
  $("total-online").textContent = totals.onlineUsers;
  const missing = $("unanswered");
  missing.hidden = nodes.unanswered.length === 0;
  missing.textContent = "No answer from: " + nodes.unanswered.join(", ");
}

/** Prometheus text format to {name: total over its label sets}, plus closes by code. */
function parseMetrics(text) {
  const values = new Map();
  const closes = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) {
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match) {
      continue;
    }
    const [, name, , labels, raw] = match;
    const value = Number(raw);
    if (!Number.isFinite(value)) {
      continue;
    }
    if (name === "jvm_memory_used_bytes" && !/area="heap"/.test(labels ?? "")) {
      continue;
    }
    values.set(name, (values.get(name) ?? 0) + value);
    if (name === "switchboard_closes_total") {
      const code = /code="(\d+)"/.exec(labels ?? "")?.[1];
      if (code) {
        closes.set(code, value);
      }
    }
  }
  return { values, closes, at: Date.now() };
}

const COUNTERS = [
  ["switchboard_connections", "connections open", "gauge"],
  ["switchboard_presence_entities", "user entities here", "gauge"],
  ["switchboard_online_users", "online (entities here)", "gauge"],
  ["switchboard_messages_in_total", "client messages in /s", "rate"],
  ["switchboard_messages_out_total", "frames out /s", "rate"],
  ["switchboard_sends_total", "sends decided here", "total"],
  ["switchboard_deliveries_total", "deliveries", "total"],
  ["switchboard_rate_limited_total", "rate-limited messages", "total"],
  ["switchboard_handler_timeouts_total", "handler timeouts", "total"],
  ["switchboard_handler_errors_total", "handler errors", "total"],
  ["switchboard_webhook_failures_total", "webhook failures", "total"],
  ["jvm_memory_used_bytes", "heap used (MB)", "megabytes"],
];

function renderCounters(sample) {
  const cards = COUNTERS.map(([name, label, kind]) => {
    const value = sample.values.get(name);
    let shown = "–";
    if (value !== undefined) {
      if (kind === "rate") {
        if (previous && previous.values.has(name) && sample.at > previous.at) {
          const perSecond = ((value - previous.values.get(name)) * 1000) / (sample.at - previous.at);
          shown = Math.max(0, perSecond).toFixed(1);
        } else {
          shown = "…";
        }
      } else if (kind === "megabytes") {
        shown = (value / 1048576).toFixed(0);
      } else {
        shown = Math.round(value).toLocaleString("en");
      }
    }
    const card = element("div", null, "counter");
    card.dataset.metric = name;
    card.append(element("div", shown, "value"), element("div", label, "name"));
    return card;
  });
  if (sample.closes.size > 0) {
    const card = element("div", null, "counter");
    const text = [...sample.closes].map(([code, n]) => `${code}: ${Math.round(n)}`).join("  ");
    card.append(element("div", text, "value mono"), element("div", "closes by code", "name"));
    cards.push(card);
  }
  $("counters").replaceChildren(...cards);
  previous = sample;
}

// --- the live presence feed -----------------------------------------------------------------------

/** Reads /v1/events with fetch (EventSource cannot send the key) and reconnects after a drop. */
async function followEvents() {
  const controller = new AbortController();
  feedAbort = controller;
  while (key !== null && !controller.signal.aborted) {
    try {
      const response = await fetch("/v1/events", {
        headers: { Authorization: "Bearer " + key, Accept: "text/event-stream" },
        signal: controller.signal,
      });
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      $("feed-state").textContent = "following the cluster's events (through this node)";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          break;
        }
        buffer += value.replace(/\r\n/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          onEventBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
      $("feed-state").textContent = "the stream ended; reconnecting…";
    } catch (error) {
      if (controller.signal.aborted) {
        return;
      }
      $("feed-state").textContent = "event stream unavailable (" + error.message + "); retrying…";
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function onEventBlock(block) {
  const data = block
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).trimStart())
    .join("\n");
  if (data === "") {
    return; // a heartbeat
  }
  let event;
  try {
    event = JSON.parse(data);
  } catch {
    return;
  }
  const item = element("li");
  item.dataset.user = event.userId;
  item.dataset.kind = event.kind;
  item.append(
    element("span", new Date(event.timestamp).toLocaleTimeString("en-GB"), "muted"),
    element("span", event.kind, "kind " + event.kind),
    element("span", event.userId, "mono"),
    element("span", "#" + event.seq, "muted"),
  );
  const feed = $("feed");
  feed.prepend(item);
  while (feed.children.length > FEED_MAX) {
    feed.lastChild.remove();
  }
}

// --- look up and send ------------------------------------------------------------------------------

async function lookUp(event) {
  event.preventDefault();
  const user = $("lookup-user").value.trim();
  const result = $("lookup-result");
  try {
    const presence = await api("/v1/users/" + encodeURIComponent(user) + "/presence");
    const status = element("p");
    status.append(element("span", presence.userId, "mono"), " is ");
    status.append(
      presence.online
        ? element("span", presence.inGrace ? "online (in the offline grace)" : "online", "online-yes")
        : element("span", "offline", "online-no"),
    );
    const parts = [status];
    if (presence.connections.length > 0) {
      const table = element("table");
      const head = element("tr");
      head.append(element("th", "Connection"), element("th", "Node"), element("th", "Opened"));
      table.append(head);
      for (const c of presence.connections) {
        const row = element("tr");
        row.append(
          element("td", c.id, "mono"),
          element("td", c.node, "mono"),
          element("td", new Date(c.openedAt).toLocaleTimeString("en-GB")),
        );
        table.append(row);
      }
      parts.push(table);
    }
    result.replaceChildren(...parts);
  } catch (error) {
    result.replaceChildren(element("p", error.message, "error"));
  }
}

async function send(event) {
  event.preventDefault();
  const user = $("send-user").value.trim();
  const type = $("send-type").value;
  const body = $("send-body").value;
  const result = $("send-result");
  result.className = "";
  if (type === "application/json") {
    try {
      JSON.parse(body);
    } catch {
      result.textContent = "That is not valid JSON: choose Text to send it as a string.";
      result.className = "error";
      return;
    }
  }
  try {
    const delivery = await api("/v1/users/" + encodeURIComponent(user) + "/messages", {
      method: "POST",
      headers: { "Content-Type": type },
      body,
    });
    result.textContent = `Delivered to ${delivery.delivered} connection${delivery.delivered === 1 ? "" : "s"} of ${delivery.userId}.`;
  } catch (error) {
    result.textContent = error.message;
    result.className = "error";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("lookup-form").addEventListener("submit", lookUp);
  $("send-form").addEventListener("submit", send);
  $("api-key").focus();
});
