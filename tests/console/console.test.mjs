// The web console in a real browser: Debian's Chromium, headless, driven by playwright-core,
// against `scaffold serve` and the test suite's fake upstream. Each step is a check printed as
// "ok N - ..." or "not ok N - ..."; screenshots of each step go to $ARTIFACTS.
//
//   SCAFFOLD=build/cli/scaffold FAKE_UPSTREAM=build/tests/fake-upstream ARTIFACTS=dir \
//     node tests/console/console.test.mjs

import {spawn} from "node:child_process";
import {createHmac} from "node:crypto";
import {mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {chromium} from "playwright-core";

const SCAFFOLD = process.env.SCAFFOLD;
const FAKE_UPSTREAM = process.env.FAKE_UPSTREAM;
const ARTIFACTS = process.env.ARTIFACTS || join(tmpdir(), "scaffold-console-artifacts");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
for (const [name, path] of [["SCAFFOLD", SCAFFOLD], ["FAKE_UPSTREAM", FAKE_UPSTREAM], ["CHROMIUM", CHROMIUM]]) {
  if (!path || !existsSync(path)) {
    console.error(`not ok - ${name} (${path}) is missing (scripts/install-deps --test installs Chromium)`);
    process.exit(1);
  }
}
mkdirSync(ARTIFACTS, {recursive: true});

let step = 0;
let failures = 0;
function ok(cond, what) {
  ++step;
  if (cond) console.log(`ok ${step} - ${what}`);
  else { console.log(`not ok ${step} - ${what}`); ++failures; }
  return cond;
}

const dir = mkdtempSync(join(tmpdir(), "scaffold-console-"));
const children = [];
function cleanup() {
  for (const c of children) { try { c.kill("SIGTERM"); } catch { /* gone */ } }
  rmSync(dir, {recursive: true, force: true});
}
process.on("exit", cleanup);

// A program's first line on a stream matching `re`, or a failure after `ms`.
function waitForLine(child, stream, re, ms = 20000) {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms: ${text}`)), ms);
    child[stream].on("data", chunk => {
      text += chunk;
      const m = text.match(re);
      if (m) { clearTimeout(timer); resolve(m); }
    });
    child.on("exit", code => reject(new Error(`exited with ${code}: ${text}`)));
  });
}

const workflow = {
  scaffold: 1, name: "review", description: "Draft a note and ask for approval before it goes out.",
  input: {type: "object", properties: {
    topic: {type: "string", minLength: 1, description: "What the note is about"},
    words: {type: "integer", minimum: 1, maximum: 500}}, required: ["topic"]},
  state: {topic: "", note: "", approved: false, count: 0},
  start: {"/topic": {var: "input.topic"}},
  defaults: {provider: "anthropic", model: "claude-haiku-4-5", max_tokens: 256},
  agents: {writer: {prompt: "Write a note about {{state.topic}}.", update: {"/note": {var: "output"}}}},
  phases: {
    write: {run: "writer", next: "count"},
    count: {set: {"/count": {"+": [{var: "state.count"}, 1]}}, next: "review"},
    review: {ask: {prompt: "Send this note?\n\n{{state.note}}", type: "approval"},
             update: {"/approved": {var: "output.approved"}},
             next: {if: [{var: "state.approved"}, "done", "write"]}},
    done: {terminal: true, result: {var: "state.note"}},
  },
};
// No model: a choice, then a JSON answer checked against its schema, with a timeout.
const intake = {
  scaffold: 1, name: "intake", description: "Pick a size, then give the order as JSON.",
  state: {size: "", order: null},
  phases: {
    size: {ask: {prompt: "Which size?", type: "choice", options: ["small", "medium", "large"]},
           update: {"/size": {var: "output"}}, next: "order"},
    order: {ask: {prompt: "The order, as JSON", type: "json", timeout_ms: 600000, default: {count: 1},
                  schema: {type: "object", properties: {count: {type: "integer", minimum: 1}},
                           required: ["count"]}},
            update: {"/order": {var: "output"}}, next: "done"},
    done: {terminal: true, result: {var: "state"}},
  },
};
const NOTE = "Otters hold hands while they sleep so that the current does not carry them apart, " +
             "and a group of them resting together is called a raft.";
mkdirSync(join(dir, "workflows"));
writeFileSync(join(dir, "workflows", "review.json"), JSON.stringify(workflow, null, 2));
writeFileSync(join(dir, "workflows", "intake.json"), JSON.stringify(intake, null, 2));
writeFileSync(join(dir, "upstream.json"), JSON.stringify({routes: [
  {match: "Write a note", text: NOTE, delay_ms: 200, usage: [120, 40]}]}));
writeFileSync(join(dir, "secret"), "a-secret-of-at-least-thirty-two-bytes!!");

async function startUpstream() {
  const up = spawn(FAKE_UPSTREAM, [join(dir, "upstream.json")], {stdio: ["pipe", "pipe", "inherit"]});
  children.push(up);
  const [url] = await waitForLine(up, "stdout", /http:\/\/\S+/);
  return url;
}

async function startServer(upstream, db, extra = [], listen = "127.0.0.1:0") {
  const serve = spawn(SCAFFOLD, ["serve", "--workflows", join(dir, "workflows"), "--db", db,
                                 "--listen", listen, "--no-access-log", ...extra],
                      {env: {...process.env, ANTHROPIC_BASE_URL: upstream, ANTHROPIC_API_KEY: "test-key"},
                       stdio: ["ignore", "ignore", "pipe"]});
  children.push(serve);
  const m = await waitForLine(serve, "stderr", /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  serve.url = m[1];
  return serve;
}

function jwt(sub, secret) {
  const b64 = o => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${b64({alg: "HS256", typ: "JWT"})}.${b64({sub, exp: Math.floor(Date.now() / 1000) + 3600})}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

// The session's events, read whole from the SSE route.
async function events(server, id, token) {
  const res = await fetch(`${server}/sessions/${id}/events?history=true&closeAtEnd=true`,
                          {headers: token ? {Authorization: `Bearer ${token}`} : {}});
  const text = await res.text();
  return text.split("\n").filter(l => l.startsWith("data: ")).map(l => JSON.parse(l.slice(6)));
}

async function until(what, fn, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const shot = (page, name) => page.screenshot({path: join(ARTIFACTS, `${name}.png`), fullPage: true});

try {
  const upstream = await startUpstream();
  const server = (await startServer(upstream, join(dir, "open.db"))).url;
  const page = await browser.newPage({viewport: {width: 1400, height: 1000}});
  const consoleErrors = [];
  page.on("pageerror", e => consoleErrors.push(e.message));
  page.on("console", m => { if (m.type() === "error") consoleErrors.push(m.text()); });

  // 1. The console is served at / with its security headers, and lists nothing yet.
  const res = await page.goto(`${server}/`);
  const csp = res.headers()["content-security-policy"] || "";
  ok(res.status() === 200 && csp.includes("default-src 'none'") && csp.includes("connect-src 'self'"),
     "GET / serves the console with a content security policy");
  await page.waitForSelector("#session-rows");
  ok((await page.textContent("#session-rows")).includes("No sessions yet"), "the list is empty at first");

  // 2. Start a session from the form generated from the input schema.
  await page.click("#start-review");
  await page.waitForSelector("#start-submit");
  ok(await page.isVisible("label:has-text('topic')") && await page.isVisible("input[type=number]"),
     "the form has a field per property of the input schema");
  await page.click("#start-submit");
  const fieldError = await page.locator(".field.string .field-error").textContent();
  ok(/empty|required/.test(fieldError), `an empty topic is shown as an error next to its field (${fieldError})`);
  await shot(page, "01-start-form-error");
  await page.fill(".field.string textarea, .field.string input", "otters");
  await page.fill("input[type=number]", "50");
  await page.click("#start-submit");
  await page.waitForURL(/#\/sessions\/[0-9a-f-]+$/);
  const id = page.url().split("/").pop();
  ok(/^[0-9a-f-]{36}$/.test(id), `starting it opens the new session's page (${id})`);

  // 3. The agent's text appears while it streams.
  const block = page.locator("#activity .block .text").first();
  await until("the first words", async () => ((await block.textContent()) || "").length > 0);
  const early = await block.textContent();
  const streaming = await page.isVisible("#activity .block .badge.running");
  await shot(page, "02-streaming");
  await until("the whole note", async () => (await block.textContent()) === NOTE);
  ok(streaming && early.length > 0 && early.length < NOTE.length,
     `the text grows while the agent streams (${early.length} of ${NOTE.length} characters seen first)`);

  // 4. Answer the approval.
  await page.waitForSelector("#ask-approve");
  ok((await page.textContent("#ask .prompt")).includes(NOTE), "the approval shows its prompt with the draft");
  await shot(page, "03-approval");
  await page.click("#ask-approve");
  await page.waitForSelector("#result");
  ok((await page.textContent("#session-status")) === "completed" && !(await page.isVisible("#ask")),
     "approving it completes the session");
  await shot(page, "04-completed");

  // 5. Time travel: the slider shows the state at a position.
  const log = await events(server, id);
  const countIntent = log.find(e => e.name === "state:intent" && e.payload.patches.some(p => p.path === "/count"));
  const P = countIntent.position;
  await page.click("#tab-state");
  await page.locator("#state-slider").fill(String(P));
  await page.waitForSelector(`#state-view[data-position="${P}"]`);
  const atP = await page.textContent("#state-view");
  await page.locator("#state-slider").fill(String(P - 1));
  await page.waitForSelector(`#state-view[data-position="${P - 1}"]`);
  const beforeP = await page.textContent("#state-view");
  ok(atP.includes(`State at position ${P}`) && atP.includes("count: 1") && beforeP.includes("count: 0"),
     `the slider shows the state at position ${P} (count 1) and ${P - 1} (count 0)`);
  await shot(page, "05-time-travel");

  // The events tab: filter by name, and an intent's change before -> after.
  await page.click("#tab-events");
  await page.fill("#event-filter", "state:intent");
  await page.click(`.event-viewport .row[data-position="${P}"]`);
  await page.waitForSelector("#intent-changes td.before");
  const change = await page.textContent("#intent-changes");
  ok(change.includes("/count") && /0\s*1/.test(change.replace(/\/count/, "")),
     `the intent at ${P} shows /count before 0 and after 1 (${change.trim()})`);
  await shot(page, "06-events");

  // 6. Fork at the position before the count and watch the fork run to its ask.
  await page.click("#tab-state");
  await page.locator("#state-slider").fill(String(P - 1));
  await page.waitForSelector(`#state-view[data-position="${P - 1}"]`);
  await page.click("#fork-here");
  await page.waitForURL(u => !u.toString().endsWith(id) && /#\/sessions\/[0-9a-f-]{36}$/.test(u.toString()));
  const forkId = page.url().split("/").pop();
  const fork = await (await fetch(`${server}/sessions/${forkId}`)).json();
  ok(fork.parentSessionId === id && fork.forkPosition === P - 1,
     `the fork names its parent and position ${P - 1} (${JSON.stringify({p: fork.parentSessionId, at: fork.forkPosition})})`);
  // A fork is created paused, for a look before it runs on.
  await until("the fork's page", async () => (await page.textContent("#session-status")) === "paused").catch(async e => {
    await shot(page, "07-fork-not-paused");
    throw new Error(`${e.message}: status ${await page.textContent("#session-status")}; page errors: ${consoleErrors.join(" | ")}`);
  });
  ok(await page.isEnabled("#resume") && !(await page.isEnabled("#pause")), "the fork shows paused, with Resume");
  await page.click("#resume");
  await page.waitForSelector("#ask-approve");
  await page.click("#ask-approve");
  await page.waitForSelector("#result");
  const forkLog = await events(server, forkId);
  ok(forkLog.at(-1).name === "workflow:completed" && forkLog.at(-1).payload.finalState.count === 1,
     "the fork runs on from its position to completion in the browser");
  await shot(page, "07-fork");

  // The graph marks the phases, and the list shows both sessions with tokens and cost.
  await page.click("#tab-graph");
  ok(await page.locator("#graph .node").count() === 4 && await page.locator("#graph .edge.conditional").count() === 2,
     "the graph has the four phases and both sides of the if");
  await page.goto(`${server}/#/`);
  await page.waitForSelector(`#session-rows tr[data-id="${forkId}"]`);
  await until("usage in the list", async () => /\$/.test(await page.textContent(`#session-rows tr[data-id="${id}"]`)));
  ok((await page.textContent(`#session-rows tr[data-id="${id}"]`)).includes("160"),
     "the list shows a session's tokens (120 in + 40 out) and its cost");
  await shot(page, "08-list");

  // Choice and JSON asks, the latter checked against its schema and counting down.
  const order = await (await fetch(`${server}/sessions`, {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({workflow: "intake"})})).json();
  await page.goto(`${server}/#/`);
  await page.fill("#open-id", order.sessionId.slice(0, 8));
  await page.press("#open-id", "Enter");
  await page.waitForURL(u => u.toString().endsWith(`#/sessions/${order.sessionId}`));
  ok(true, "a session opens by the first characters of its id");
  await page.check("#ask input[value=large]");
  await page.click("#ask-submit");
  await page.waitForSelector("#ask input[type=number]");
  ok(/\d+ s left/.test(await page.textContent("#ask .countdown")), "a JSON ask with a timeout counts down");
  await page.fill("#ask input[type=number]", "0");
  await page.click("#ask-submit");
  const jsonError = await page.locator("#ask .field-error").first().textContent();
  ok(/at least 1/.test(jsonError), `a JSON ask is a form from its schema, and a value against it is refused next to its field (${jsonError})`);
  await shot(page, "09-json-ask");
  await page.fill("#ask input[type=number]", "3");
  await page.click("#ask-submit");
  await page.waitForSelector("#result");
  const intakeLog = await events(server, order.sessionId);
  const result = intakeLog.at(-1).payload.result || {};
  ok(result.size === "large" && result.order && result.order.count === 3,
     `the choice and the JSON answer reach the session (${JSON.stringify(result)})`);
  await page.click("#tab-usage");
  await page.emulateMedia({colorScheme: "dark"});
  await shot(page, "10-dark");
  await page.emulateMedia({colorScheme: "light"});

  // Delete asks first, then the session is gone from the list.
  page.once("dialog", d => d.accept());
  await page.click("#delete");
  await page.waitForURL(u => u.toString().endsWith("#/"));
  await page.waitForSelector(`#session-rows tr[data-id="${id}"]`);
  ok(!(await page.locator(`#session-rows tr[data-id="${order.sessionId}"]`).count()) &&
     (await fetch(`${server}/sessions/${order.sessionId}`)).status === 404,
     "delete, once confirmed, removes the session");
  ok(consoleErrors.length === 0, `no errors in the page (${consoleErrors.join(" | ")})`);

  // 7. With --auth jwt, a page without a token sees nothing; with one, its user's sessions.
  const secret = "a-secret-of-at-least-thirty-two-bytes!!";
  const authed = (await startServer(upstream, join(dir, "auth.db"),
                                    ["--auth", "jwt", "--jwt-secret-file", join(dir, "secret")])).url;
  const token = jwt("ada", secret);
  const created = await (await fetch(`${authed}/sessions`, {method: "POST",
    headers: {"Content-Type": "application/json", Authorization: `Bearer ${token}`},
    body: JSON.stringify({workflow: "review", input: {topic: "secrets"}})})).json();
  const stranger = await browser.newPage({viewport: {width: 1200, height: 800}});
  await stranger.goto(`${authed}/`);
  await stranger.waitForSelector("#need-token");
  ok(!(await stranger.content()).includes(created.sessionId) && await stranger.isVisible("#token-dialog"),
     "without a token the page shows no session and asks for a token");
  await shot(stranger, "11-auth-no-token");
  await stranger.goto(`${authed}/#/sessions/${created.sessionId}`);
  await stranger.waitForSelector("#need-token");
  ok(!(await stranger.content()).includes("secrets"), "nor a session opened by its link");
  await stranger.fill("#token-input", token);
  await stranger.click("#token-save");
  await stranger.waitForSelector("#ask-approve", {timeout: 20000});
  ok((await stranger.textContent("#ask .prompt")).includes(NOTE), "with the token the session shows, live");
  await shot(stranger, "12-auth-token");

  // 8. The server restarts under an open page: it reconnects and resumes after the last
  // position it saw, and shows every event once.
  let restartable = await startServer(upstream, join(dir, "restart.db"));
  const port = new URL(restartable.url).port;
  const waiting = await (await fetch(`${restartable.url}/sessions`, {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({workflow: "review", input: {topic: "restarts"}})})).json();
  const watcher = await browser.newPage({viewport: {width: 1200, height: 800}});
  await watcher.goto(`${restartable.url}/#/sessions/${waiting.sessionId}`);
  await watcher.waitForSelector("#ask-approve");
  // Another client pauses and resumes it: the page follows.
  const post = path => fetch(`${restartable.url}/sessions/${waiting.sessionId}/${path}`, {method: "POST"});
  await post("pause");
  await until("paused on the page", async () => (await watcher.textContent("#session-status")) === "paused");
  await post("resume");
  await until("waiting again on the page", async () => (await watcher.textContent("#session-status")) === "waiting");
  ok(await watcher.isEnabled("#pause") && !(await watcher.isEnabled("#resume")),
     "a pause and a resume by another client show on the page");
  const stopped = new Promise(resolve => restartable.on("exit", resolve));
  restartable.kill("SIGTERM");
  await stopped;
  await until("the page to notice", async () => /offline|connecting/.test(await watcher.textContent("#conn")));
  restartable = await startServer(upstream, join(dir, "restart.db"), [], `127.0.0.1:${port}`);
  await until("the page to reconnect", async () => (await watcher.textContent("#conn")).includes("live"), 30000);
  await watcher.waitForSelector("#ask-approve:enabled");
  await watcher.click("#ask-approve");
  await watcher.waitForSelector("#result", {timeout: 20000});
  const full = await events(restartable.url, waiting.sessionId);
  await watcher.click("#tab-events");
  await until("every event listed", async () => (await watcher.textContent("#event-count")) === `${full.length} events`)
    .catch(() => {});
  const visits = await watcher.textContent("#timeline .phase-stats tbody tr:nth-child(3) td:nth-child(2)");
  ok((await watcher.textContent("#event-count")) === `${full.length} events` && visits === "1",
     `after a restart the page shows the ${full.length} events of the log once (${await watcher.textContent("#event-count")})`);
  await shot(watcher, "13-after-restart");
} catch (err) {
  ok(false, `the run ends without an error: ${err.stack || err}`);
} finally {
  await browser.close();
}
console.log(`1..${step}`);
console.log(failures ? `${failures} of ${step} checks failed; screenshots in ${ARTIFACTS}` :
                       `all ${step} checks passed; screenshots in ${ARTIFACTS}`);
process.exit(failures ? 1 : 0);
