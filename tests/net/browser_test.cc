// A real browser against `scaffold serve`: headless Chromium (Debian's chromium package) loads
// a page from another origin that follows a session with EventSource, subscribes to it and
// answers its ask over WebSocket, with the token in the query string as browsers must send it.

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>

#include "tests/support/http_client.h"
#include "tests/support/jwt_signer.h"
#include "tests/support/page_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using scaffold::Json;
using namespace scaffold::testing;

namespace {

const char* kPage = R"(<!doctype html>
<meta charset="utf-8">
<title>scaffold in a browser</title>
<script>
const server = "@SERVER@", session = "@SESSION@", token = "@TOKEN@";
const seen = {sse: [], ws: [], pong: false, errors: []};
let sseDone = false, wsDone = false;
function report() {
  if (sseDone && wsDone) fetch("/report", {method: "POST", body: JSON.stringify(seen)});
}

const names = ["workflow:started", "workflow:completed", "workflow:error", "phase:entered", "phase:exited",
  "agent:started", "agent:completed", "agent:retry", "text:delta", "text:complete", "thinking:delta",
  "thinking:complete", "tool:called", "tool:result", "state:intent", "state:checkpoint", "input:requested",
  "input:received", "session:paused", "session:resumed", "session:forked"];
const es = new EventSource(`${server}/sessions/${session}/events?history=true&token=${token}`);
for (const name of names) {
  es.addEventListener(name, e => {
    const event = JSON.parse(e.data);
    seen.sse.push({id: e.lastEventId, type: e.type, position: event.position, name: event.name});
    if (e.type === "workflow:completed") { es.close(); sseDone = true; report(); }
  });
}

const ws = new WebSocket(`${server.replace("http:", "ws:")}/ws?client=web&token=${token}`);
ws.onopen = () => {
  ws.send(JSON.stringify({type: "ping"}));
  ws.send(JSON.stringify({type: "subscribe", sessionId: session, fromPosition: 1}));
};
ws.onmessage = m => {
  const msg = JSON.parse(m.data);
  if (msg.type === "pong") seen.pong = true;
  if (msg.type === "error") seen.errors.push(msg.code);
  if (msg.type !== "event") return;
  seen.ws.push({position: msg.event.position, name: msg.event.name});
  if (msg.event.name === "input:requested") {
    ws.send(JSON.stringify({type: "input", sessionId: session, value: "from the browser"}));
  }
  if (msg.event.name === "workflow:completed") { wsDone = true; ws.close(); report(); }
};
</script>
)";

// A page of an origin the server was not told about: it tries what any site could try against
// a server on the user's machine.
const char* kHostilePage = R"(<!doctype html>
<meta charset="utf-8">
<title>another site</title>
<script>
const server = "@SERVER@", session = "@SESSION@";
const seen = {ws: "pending", simplePost: null, simpleInput: null, jsonPost: null};
const settled = [];
settled.push(new Promise(resolve => {
  const ws = new WebSocket(`${server.replace("http:", "ws:")}/ws`);
  ws.onopen = () => {
    seen.ws = "open";
    ws.send(JSON.stringify({type: "input", sessionId: session, value: "yes"}));
    setTimeout(resolve, 500);
  };
  ws.onclose = () => { if (seen.ws === "pending") seen.ws = "refused"; resolve(); };
}));
// "Simple requests": no preflight, so the browser sends them whatever the server's CORS says.
settled.push(fetch(`${server}/sessions`, {method: "POST", mode: "no-cors",
    body: JSON.stringify({input: "from another site"})})
  .then(() => seen.simplePost = "sent", () => seen.simplePost = "failed"));
settled.push(fetch(`${server}/sessions/${session}/input`, {method: "POST", mode: "no-cors",
    headers: {"Content-Type": "text/plain"}, body: JSON.stringify({id: "review", value: "yes"})})
  .then(() => seen.simpleInput = "sent", () => seen.simpleInput = "failed"));
// A JSON request needs a preflight the server does not grant.
settled.push(fetch(`${server}/sessions`, {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({input: "from another site"})})
  .then(r => seen.jsonPost = r.status, () => seen.jsonPost = "blocked"));
Promise.all(settled).then(() => fetch("/report", {method: "POST", body: JSON.stringify(seen)}));
</script>
)";

// The same, from an origin the server invited (--cors-origin): it may answer the session.
const char* kInvitedPage = R"(<!doctype html>
<meta charset="utf-8">
<title>the app</title>
<script>
const server = "@SERVER@", session = "@SESSION@";
const seen = {ws: "pending", answered: null, completed: false};
const ws = new WebSocket(`${server.replace("http:", "ws:")}/ws`);
ws.onopen = () => {
  seen.ws = "open";
  ws.send(JSON.stringify({type: "subscribe", sessionId: session, fromPosition: 0}));
};
ws.onmessage = async m => {
  const msg = JSON.parse(m.data);
  if (msg.type !== "event") return;
  if (msg.event.name === "input:requested" && msg.event.payload.id === "review") {
    const r = await fetch(`${server}/sessions/${session}/input`, {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({id: "review", value: "yes"})});
    seen.answered = r.status;
  }
  if (msg.event.name === "input:requested" && msg.event.payload.id === "note") {
    ws.send(JSON.stringify({type: "input", sessionId: session, value: "from the app"}));
  }
  if (msg.event.name === "workflow:completed") {
    seen.completed = true;
    ws.close();
    fetch("/report", {method: "POST", body: JSON.stringify(seen)});
  }
};
</script>
)";

std::string Chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

std::string Fill(std::string html, const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [key, value] : values) html = std::regex_replace(html, std::regex(key), value);
  return html;
}

// Opens `page` in headless Chromium and returns what it reported.
Json Visit(PageServer& page) {
  std::string chromium = Chromium();
  if (chromium.empty()) FAIL("chromium is not installed (scripts/install-deps --test installs it)");
  TempDir profile;
  ProcessOptions options;
  options.program = chromium;
  BackgroundProcess browser(
      {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
       "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
       "--user-data-dir=" + profile.path(), page.origin() + "/"},
      options);
  auto report = page.WaitForReport(60000);
  browser.Signal(SIGTERM);
  browser.Wait(20000);
  INFO(browser.Stderr());
  REQUIRE(report);
  return Json::parse(*report);
}

}  // namespace

TEST_CASE("a page of another origin can neither open the WebSocket nor change anything; an invited one can",
          "[server][browser][origin][slow]") {
  PageServer hostile, invited;
  TestServer::Config config;
  config.workflows = {kApproveWorkflow};
  config.options.cors_origins = {invited.origin()};
  config.options.check_host = true;  // a loopback server without auth, as serve runs it
  TestServer server(config);
  std::string id = server.Create("approve", "v1");
  REQUIRE(server.WaitForStatus(id, "waiting"));

  hostile.set_html(Fill(kHostilePage, {{"@SERVER@", server.Url("")}, {"@SESSION@", id}}));
  Json seen = Visit(hostile);
  INFO(seen.dump(2));
  CHECK(seen["ws"] == "refused");
  CHECK(seen["jsonPost"] == "blocked");
  // The simple requests left the browser, and the server refused them.
  auto sessions = Http("GET", server.Url("/sessions")).json()["sessions"];
  CHECK(sessions.size() == 1);
  CHECK(server.WaitForStatus(id, "waiting"));
  auto events = server.store().ReadEvents(id, 0, 1000).value();
  for (const auto& e : events) CHECK(e->name != "input:received");

  invited.set_html(Fill(kInvitedPage, {{"@SERVER@", server.Url("")}, {"@SESSION@", id}}));
  Json app = Visit(invited);
  INFO(app.dump(2));
  CHECK(app["ws"] == "open");
  CHECK(app["answered"] == 200);
  CHECK(app["completed"] == true);
  CHECK(server.WaitForStatus(id, "completed"));
}

TEST_CASE("a browser follows a session with EventSource and answers it over WebSocket",
          "[server][browser][slow]") {
  std::string chromium = Chromium();
  if (chromium.empty()) FAIL("chromium is not installed (scripts/install-deps --test installs it)");

  const std::string secret = "browser-test-secret-0123456789abcdef0123";
  auto verifier = std::move(scaffold::net::JwtVerifier::FromSecret(secret, {}).value());
  std::string token = TokenFor(secret, "ada");

  // The page comes from another origin, which the server must allow.
  PageServer page;
  TestServer::Config config;
  config.verifier = &verifier;
  config.options.cors_origins = {page.origin()};
  TestServer server(config);
  std::string id = server.Create("chat", "hello from a test", {"Authorization: Bearer " + token});
  REQUIRE(server.WaitForStatus(id, "waiting", {"Authorization: Bearer " + token}));

  std::string html = std::regex_replace(kPage, std::regex("@SERVER@"), server.Url(""));
  html = std::regex_replace(html, std::regex("@SESSION@"), id);
  html = std::regex_replace(html, std::regex("@TOKEN@"), token);
  page.set_html(html);

  TempDir profile;
  ProcessOptions options;
  options.program = chromium;
  BackgroundProcess browser(
      {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
       "--no-first-run", "--no-default-browser-check", "--user-data-dir=" + profile.path(),
       page.origin() + "/"},
      options);
  auto report = page.WaitForReport(60000);
  browser.Signal(SIGTERM);
  browser.Wait(20000);
  INFO(browser.Stderr());
  REQUIRE(report);
  Json seen = Json::parse(*report);
  INFO(seen.dump(2));

  auto stored = server.store().ReadEvents(id, 0, 10000).value();
  REQUIRE(seen["sse"].size() == stored.size());
  for (size_t i = 0; i < stored.size(); ++i) {
    CHECK(seen["sse"][i]["id"] == std::to_string(stored[i]->position));
    CHECK(seen["sse"][i]["type"] == stored[i]->name);
    CHECK(seen["sse"][i]["position"] == stored[i]->position);
    CHECK(seen["ws"][i]["position"] == stored[i]->position);
  }
  CHECK(seen["pong"] == true);
  CHECK(seen["errors"].empty());
  CHECK(stored.back()->name == "workflow:completed");
  CHECK(stored.back()->payload["result"] == "from the browser");
}
