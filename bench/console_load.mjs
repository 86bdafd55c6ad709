// How long the web console takes to show a long session: opens /#/sessions/ID in Debian's
// Chromium (playwright-core from tests/console) RUNS times and prints JSON with, per run, the
// milliseconds from navigation until the page shows the session's head, until its event list
// holds every event (they arrive over SSE from position 1), until the state tab shows the last state, and the page's JS heap at the end.
//
//   node bench/console_load.mjs SERVER_URL SESSION_ID EVENTS RUNS

import {join, dirname} from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const {chromium} = await import(pathToFileURL(join(root, "tests/console/node_modules/playwright-core/index.mjs")));
const [server, id, events, runs] = process.argv.slice(2);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const out = [];
for (let i = 0; i < Number(runs); ++i) {
  const context = await browser.newContext({viewport: {width: 1400, height: 1000}});
  const page = await context.newPage();
  // The moment the session's head first shows, seen from inside the page (a busy page answers
  // the test's polling late).
  await page.addInitScript(() => {
    sessionStorage.setItem("scaffold.tab", "events");
    new MutationObserver((_, observer) => {
      const meta = document.getElementById("session-meta");
      if (meta && meta.textContent) { window.headShownAt = performance.timeOrigin + performance.now(); observer.disconnect(); }
    }).observe(document, {subtree: true, childList: true, characterData: true});
  });
  const start = Date.now();
  await page.goto(`${server}/#/sessions/${id}`);
  await page.waitForFunction(() => window.headShownAt, null, {timeout: 60000});
  const head = Math.round(await page.evaluate(() => window.headShownAt)) - start;
  await page.waitForFunction(n => document.querySelector("#event-count")?.textContent === `${n} events`,
                             events,
                             {timeout: 300000, polling: 50});
  const all = Date.now() - start;
  await page.click("#tab-state");
  await page.waitForFunction(n => document.querySelector("#state-view")?.dataset.position === String(n),
                             Number(events), {timeout: 60000, polling: 50});
  const state = Date.now() - start;
  const cdp = await context.newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const {metrics} = await cdp.send("Performance.getMetrics").catch(() => ({metrics: []}));
  const heap = await page.evaluate(() => performance.memory ? performance.memory.usedJSHeapSize : 0);
  out.push({head_ms: head, all_events_ms: all, state_ms: state, heap_mib: heap / 1048576,
            nodes: (metrics.find(m => m.name === "Nodes") || {}).value});
  await context.close();
}
await browser.close();
console.log(JSON.stringify(out));
