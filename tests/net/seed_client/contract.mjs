// Speaks to `scaffold serve` the way the Open Scaffold client does (its HttpClient and React
// hooks), written from that contract: every request carries Content-Type: application/json,
// streams are read with ?history=true and re-opened at once when they close, events are
// checked for their shape and de-duplicated by id, answers are sent as events, and the VCR
// calls (pause, resume, fork, state at a position) are made as the hooks make them. Also
// checks that Node's keep-alive agent can reuse a connection after an event stream.
//
//   node contract.mjs http://127.0.0.1:PORT
// Exit status 0 when every check holds; the first failure is printed.

import http from "node:http";
import { randomUUID } from "node:crypto";

const base = process.argv[2];
const json = { "Content-Type": "application/json" };
let checks = 0;

function check(condition, what) {
  checks += 1;
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function call(path, options = {}) {
  const response = await fetch(base + path, { ...options, headers: { ...json, ...(options.headers ?? {}) } });
  const text = await response.text();
  if (!response.ok) throw new Error(`${options.method ?? "GET"} ${path}: ${response.status} ${text}`);
  return { status: response.status, body: JSON.parse(text) };
}

// An event stream read the way the client reads it; `onEvent` gets each new event.
function follow(sessionId, onEvent, { headers = {}, query = "?history=true" } = {}) {
  const controller = new AbortController();
  const seen = new Set();
  const state = { connections: 0, ended: false, error: null };
  const run = async () => {
    while (!controller.signal.aborted) {
      state.connections += 1;
      const response = await fetch(`${base}/sessions/${sessionId}/events${query}`, { signal: controller.signal, headers });
      if (!response.ok) throw new Error(`SSE connection failed: ${response.status}`);
      const decoder = new TextDecoder();
      let buffer = "";
      let data = [];
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let eol;
        while ((eol = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, eol).replace(/\r$/, "");
          buffer = buffer.slice(eol + 1);
          if (line === "") {
            if (data.length) {
              const event = JSON.parse(data.join("\n"));
              check(typeof event.id === "string" && /^[0-9a-f-]{36}$/.test(event.id), "event id is a uuid");
              check(typeof event.name === "string", "event name is a string");
              check(event.payload && typeof event.payload === "object" && !Array.isArray(event.payload), "payload is an object");
              check(typeof event.timestamp === "number", "timestamp is Unix ms");
              if (!seen.has(event.id)) {
                seen.add(event.id);
                onEvent(event);
              }
            }
            data = [];
          } else if (line.startsWith("data:")) {
            data.push(line.slice(5).replace(/^ /, ""));
          }
        }
      }
      // The client re-opens a closed stream at once: count it and do the same.
    }
  };
  state.done = run().catch((e) => {
    if (!controller.signal.aborted) state.error = e;
  }).finally(() => { state.ended = true; });
  state.disconnect = () => controller.abort();
  return state;
}

async function until(condition, what, ms = 10000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- createSession, getSession, connect ----------------------------------------------------
const created = await call("/sessions", { method: "POST", body: JSON.stringify({ input: "release 1.2" }) });
check(created.status === 201 && typeof created.body.sessionId === "string", "createSession answers 201 {sessionId}");
const id = created.body.sessionId;
const info = await call(`/sessions/${id}`);
check(info.body.sessionId === id && typeof info.body.running === "boolean", "getSession answers {sessionId, running}");

const events = [];
const stream = follow(id, (e) => events.push(e));
const requested = (askId) => events.find((e) => e.name === "input:requested" && e.payload.id === askId);
await until(() => requested("review"), "the first ask");

// ---- sendInput(event), as the client sends it ----------------------------------------------
await call(`/sessions/${id}/input`, {
  method: "POST",
  body: JSON.stringify({ event: { id: randomUUID(), name: "input:received", payload: { id: "review", value: "yes" }, timestamp: Date.now() } }),
});
await until(() => requested("note"), "the second ask");
// respond(), as the hooks send it: the text as payload.response, the request named by causedBy.
await call(`/sessions/${id}/input`, {
  method: "POST",
  body: JSON.stringify({ event: { id: randomUUID(), name: "input:response", payload: { response: "ship it" }, timestamp: new Date(), causedBy: requested("note").id } }),
});
await until(() => events.some((e) => e.name === "workflow:completed"), "completion");
const received = events.filter((e) => e.name === "input:received");
check(received.length === 2 && received[0].payload.value === "yes" && received[0].payload.approved === true, "an approval answered \"yes\" keeps its text");
check(received[1].payload.value === "ship it", "respond() answers the ask its causedBy names");

// ---- a finished session's stream stays open: no reconnect loop -----------------------------
await sleep(1500);
check(stream.connections === 1 && !stream.ended, `the stream stayed open (${stream.connections} connections)`);
const count = (await call(`/sessions/${id}`)).body.eventCount;
check(events.length === count, "every event once");

// ---- getState, getStateAt ------------------------------------------------------------------
const final = (await call(`/sessions/${id}/state`)).body.state;
check(final.subject === "release 1.2" && final.approved === true && final.note === "ship it", "getState");
const at0 = (await call(`/sessions/${id}/state?position=0`)).body;
check(at0.position === 0 && at0.eventsReplayed === 0 && at0.state.subject === "" && at0.state.approved === false, "getStateAt(0) is the initial state");
const at3 = (await call(`/sessions/${id}/state?position=3`)).body;
check(at3.position === 3 && at3.eventsReplayed === 3, "getStateAt(3)");
const past = (await call(`/sessions/${id}/state?position=100000`)).body;
check(past.position === count && past.eventsReplayed === count && past.state.note === "ship it", "getStateAt past the end is the latest state");

// ---- VCR: pause, resume, fork --------------------------------------------------------------
let r = await call(`/sessions/${id}/pause`, { method: "POST" });
check(r.status === 200 && r.body.ok === true && r.body.wasPaused === false, "pause of a finished session: 200, wasPaused false");
r = await call(`/sessions/${id}/resume`, { method: "POST" });
check(r.status === 200 && r.body.ok === true && r.body.wasResumed === false, "resume of a finished session: 200, wasResumed false");
r = await call(`/sessions/${id}/fork`, { method: "POST" });
check(r.status === 201 && r.body.originalSessionId === id && r.body.eventsCopied === count && r.body.sessionId !== id, "fork");

const second = (await call("/sessions", { method: "POST", body: JSON.stringify({ input: "release 1.3" }) })).body.sessionId;
const live = [];
const liveStream = follow(second, (e) => live.push(e));
await until(() => live.some((e) => e.name === "input:requested"), "the second session's ask");
r = await call(`/sessions/${second}/pause`, { method: "POST" });
check(r.body.wasPaused === true, "pause of a waiting session");
await until(() => live.some((e) => e.name === "session:paused"), "session:paused");
check((await call(`/sessions/${second}`)).body.running === false, "paused: not running");
r = await call(`/sessions/${second}/resume`, { method: "POST" });
check(r.body.wasResumed === true, "resume of a paused session");
await until(() => live.some((e) => e.name === "session:resumed"), "session:resumed");
check((await call(`/sessions/${second}`)).body.running === true, "resumed: running");

// ---- Last-Event-ID with an event id --------------------------------------------------------
const after = [];
const resumed = follow(id, (e) => after.push(e), { headers: { "Last-Event-ID": events[2].id }, query: "" });
await until(() => after.length === count - 3, "the events after the third");
check(after[0].position === 4, "Last-Event-ID: <event id> resumes after that event");

// ---- disconnect ----------------------------------------------------------------------------
for (const s of [stream, liveStream, resumed]) s.disconnect();
await Promise.all([stream.done, liveStream.done, resumed.done]);
for (const s of [stream, liveStream, resumed]) check(s.error === null, `no stream error (${s.error})`);

// ---- keep-alive: a connection reused after an event stream ---------------------------------
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function get(path, method = "GET") {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { agent, method }, (res) => {
      let body = "";
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
for (let i = 0; i < 20; i += 1) {
  const ended = await get(`/sessions/${id}/events?history=true&closeAtEnd=true`);
  check(ended.status === 200 && ended.body.includes("workflow:completed"), "a stream that ends");
  const next = await get("/sessions");
  check(next.status === 200, "the next request on the same agent");
}
// A stream that ends because its session is deleted: the connection serves the next request.
const doomed = (await call("/sessions", { method: "POST", body: JSON.stringify({ input: "x" }) })).body.sessionId;
const doomedStream = get(`/sessions/${doomed}/events?history=true`);
await sleep(300);
await call(`/sessions/${doomed}`, { method: "DELETE" });
check((await doomedStream).status === 200, "the deleted session's stream ended");
check((await get("/healthz")).status === 200, "the next request after a deleted session's stream");
agent.destroy();

console.log(`ok: ${checks} checks`);
