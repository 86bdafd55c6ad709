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

std::string Chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

}  // namespace

TEST_CASE("a browser follows a session with EventSource and answers it over WebSocket",
          "[server][browser][slow]") {
  std::string chromium = Chromium();
  if (chromium.empty()) FAIL("chromium is not installed (scripts/install-deps --test installs it)");

  const std::string secret = "browser-test-secret-0123456789abcdef0123";
  auto verifier = std::move(scaffold::net::JwtVerifier::FromSecret(secret, {}).value());
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string token = SignHs256(secret, {{"sub", "ada"}, {"exp", now + 600}});

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
