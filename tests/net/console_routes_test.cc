// The routes the web console stands on: its files at / and /console/, served without a token
// and with a content security policy; a session's workflow and its usage; createdAt in lists.

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/conformance.h"
#include "tests/support/http_client.h"
#include "tests/support/jwt_signer.h"
#include "tests/support/test_server.h"

using scaffold::Json;
using namespace scaffold::testing;

namespace {

const std::string kSecret = "console-test-secret-0123456789abcdef012";

std::string Token(const std::string& sub) {
  return "Authorization: Bearer " + TokenFor(kSecret, sub);
}

}  // namespace

TEST_CASE("the console's files are served with their types, a CSP and ETags", "[server][console]") {
  TestServer server;
  auto index = Http("GET", server.Url("/"));
  REQUIRE(index.status == 200);
  CHECK(index.headers["content-type"] == "text/html; charset=utf-8");
  CHECK_THAT(index.body, Catch::Contains("<script type=\"module\" src=\"/console/app.js\">"));
  CHECK_THAT(index.headers["content-security-policy"], Catch::Contains("default-src 'none'"));
  CHECK_THAT(index.headers["content-security-policy"], Catch::Contains("frame-ancestors 'none'"));
  CHECK(index.headers["x-content-type-options"] == "nosniff");
  CHECK(index.headers["referrer-policy"] == "no-referrer");
  REQUIRE_FALSE(index.headers["etag"].empty());
  CHECK(Http("GET", server.Url("/console/index.html")).body == index.body);

  auto again = Http("GET", server.Url("/"), "", {"If-None-Match: " + index.headers["etag"]});
  CHECK(again.status == 304);
  CHECK(again.body.empty());

  auto js = Http("GET", server.Url("/console/app.js"));
  CHECK(js.status == 200);
  CHECK(js.headers["content-type"] == "text/javascript; charset=utf-8");
  CHECK(Http("GET", server.Url("/console/style.css")).status == 404);
  CHECK(Http("GET", server.Url("/console/%2e%2e/workflows")).status == 404);
  CHECK(Http("POST", server.Url("/"), "{}", {"Content-Type: application/json"}).status == 404);
}

TEST_CASE("every console file is served byte for byte as it is in the source tree",
          "[server][console]") {
  TestServer server;
  size_t served = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SCAFFOLD_SOURCE_DIR) +
                                                               "/net/server/console")) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".cmake") continue;
    auto response = Http("GET", server.Url("/console/" + name));
    INFO(name);
    CHECK(response.status == 200);
    CHECK(response.body == ReadFile(entry.path().string()));
    ++served;
  }
  CHECK(served >= 10);
}

TEST_CASE("with --auth jwt the console loads without a token and its data does not",
          "[server][console][auth]") {
  auto verifier = std::move(scaffold::net::JwtVerifier::FromSecret(kSecret, {}).value());
  TestServer::Config config;
  config.verifier = &verifier;
  TestServer server(config);
  CHECK(Http("GET", server.Url("/")).status == 200);
  CHECK(Http("GET", server.Url("/console/api.js")).status == 200);
  CHECK(Http("GET", server.Url("/sessions")).status == 401);
  CHECK(Http("GET", server.Url("/workflows")).status == 401);

  auto created = Http("POST", server.Url("/sessions"), R"({"workflow": "counter", "input": 3})",
                      {"Content-Type: application/json", Token("ada")});
  REQUIRE(created.status == 201);
  std::string id = created.json()["sessionId"];
  for (const char* route : {"/workflow", "/usage"}) {
    CHECK(Http("GET", server.Url("/sessions/" + id + route)).status == 401);
    CHECK(Http("GET", server.Url("/sessions/" + id + route), "", {Token("bob")}).status == 404);
    CHECK(Http("GET", server.Url("/sessions/" + id + route), "", {Token("ada")}).status == 200);
  }
}

TEST_CASE("a session's workflow is the text it runs", "[server][console]") {
  TestServer server;
  std::string id = server.Create("counter", 2);
  auto r = Http("GET", server.Url("/sessions/" + id + "/workflow"));
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"] == "application/json");
  CHECK(r.body == kCounterWorkflow);
  CHECK(Http("POST", server.Url("/sessions/" + id + "/workflow"), "{}",
             {"Content-Type: application/json"})
            .status == 405);
  CHECK(Http("GET", server.Url("/sessions/no-such-session/workflow")).status == 404);
}

TEST_CASE("a session's usage counts tokens and cost per agent and follows new calls",
          "[server][console]") {
  TestServer server;
  server.provider().deltas = 4;  // each call: 12 tokens in, 4 out, claude-haiku-4-5
  std::string id = server.Create("chat", "hello");
  REQUIRE(server.WaitForStatus(id, "waiting"));
  auto usage = Http("GET", server.Url("/sessions/" + id + "/usage"));
  REQUIRE(usage.status == 200);
  Json u = usage.json();
  CHECK(u["total"]["agentCalls"] == 1);
  CHECK(u["total"]["inputTokens"] == 12);
  CHECK(u["total"]["outputTokens"] == 4);
  CHECK(u["total"]["models"] == Json::array({"claude-haiku-4-5"}));
  // claude-haiku-4-5: $1 per million in, $5 per million out.
  CHECK(u["total"]["costUsd"].get<double>() == Approx((12 * 1.0 + 4 * 5.0) / 1e6));
  CHECK(u["agents"]["writer"]["agentCalls"] == 1);
  int64_t position = u["position"];
  CHECK(position > 0);

  // A fork runs the agent again: its tally starts from the copied log and adds the new call.
  auto fork = Http("POST", server.Url("/sessions/" + id + "/fork"), R"({"position": 1})",
                   {"Content-Type: application/json"});
  REQUIRE(fork.status == 201);
  std::string forked = fork.json()["sessionId"];
  REQUIRE(Http("POST", server.Url("/sessions/" + forked + "/resume"), "{}",
               {"Content-Type: application/json"})
              .status == 200);
  REQUIRE(server.WaitForStatus(forked, "waiting"));
  CHECK(Http("GET", server.Url("/sessions/" + forked + "/usage")).json()["total"]["agentCalls"] ==
        1);
  // The first session's tally is unchanged when asked again, and counts an answer's events.
  REQUIRE(Http("POST", server.Url("/sessions/" + id + "/input"), R"({"value": "fine"})",
               {"Content-Type: application/json"})
              .status == 200);
  REQUIRE(server.WaitForStatus(id, "completed"));
  Json after = Http("GET", server.Url("/sessions/" + id + "/usage")).json();
  CHECK(after["total"]["agentCalls"] == 1);
  CHECK(after["position"].get<int64_t>() > position);
}

TEST_CASE("session lists carry when each session started", "[server][console]") {
  TestServer server;
  std::string id = server.Create("counter", 1);
  Json list = Http("GET", server.Url("/sessions")).json();
  REQUIRE(list["sessions"].size() == 1);
  CHECK(list["sessions"][0]["createdAt"].get<int64_t>() > 1700000000000);
  CHECK(Http("GET", server.Url("/sessions/" + id)).json()["createdAt"] ==
        list["sessions"][0]["createdAt"]);
}
