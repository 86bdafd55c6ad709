// Client tools across nodes: a desktop client connected to one node serves its user's sessions
// driven on another, and nobody else's. Real processes on loopback, the tests' PostgreSQL.

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "engine/json.h"
#include "tests/support/cluster_nodes.h"
#include "tests/support/http_client.h"
#include "tests/support/jwt_signer.h"
#include "tests/support/postgres.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using namespace scaffold::testing;

namespace {

// A desktop client of `token`'s user on `port`, offering the screenshot tool.
std::unique_ptr<WsClient> ToolClient(uint16_t port, const std::string& token) {
  auto ws = std::make_unique<WsClient>(port, "/ws?client=osclient",
                                       std::vector<std::pair<std::string, std::string>>{
                                           {"Authorization", "Bearer " + token}});
  REQUIRE(ws->connected());
  ws->Send(Json{{"type", "tools:register"},
                {"tools", {{{"name", "screenshot"}, {"input_schema", {{"type", "object"}}}}}}});
  auto ack = ws->ReceiveUntil([](const Json& m) { return m["type"] != "pong"; });
  REQUIRE(ack);
  REQUIRE((*ack)["type"] == "tools:registered");
  return ws;
}

}  // namespace

TEST_CASE("a desktop client on one node serves its user's sessions driven on another, and no one else's",
          "[postgres][cluster]") {
  TempDatabase db;
  TempDir dir;
  std::string secret_file = dir.path() + "/secret";
  std::ofstream(secret_file) << "a-secret-shared-by-the-nodes-0123456789";
  std::vector<std::string> auth = {"--workflow", TestDataFile("desk.json"), "--auth", "jwt",
                                   "--jwt-secret-file", secret_file, "--metrics-listen",
                                   "127.0.0.1:0"};
  auto a = StartNode(db, "a", auth), b = StartNode(db, "b", auth);
  std::string secret = "a-secret-shared-by-the-nodes-0123456789";
  std::string ada = SignHs256(secret, {{"sub", "ada"}, {"exp", 4102444800}});
  std::string bob = SignHs256(secret, {{"sub", "bob"}, {"exp", 4102444800}});

  // Bob's desktop client is on node b, offering the same tool: it must never be asked.
  auto bob_desk = ToolClient(b->port(), bob);
  // Ada's desktop client is on node b; her session is driven by node a.
  auto ada_desk = ToolClient(b->port(), ada);
  auto created = Http("POST", a->url() + "/sessions",
                      Json{{"workflow", "desk"}, {"input", nullptr}}.dump(),
                      {kJsonContent, "Authorization: Bearer " + ada});
  INFO(created.body);
  REQUIRE(created.status == 201);
  std::string id = created.json()["sessionId"];

  auto request = ada_desk->ReceiveUntil([](const Json& m) { return m["type"] == "tool:request"; },
                                        20000);
  REQUIRE(request);
  CHECK((*request)["sessionId"] == id);
  CHECK((*request)["input"] == Json{{"region", "top"}});
  ada_desk->Send(Json{{"type", "tool:response"},
                      {"callId", (*request)["callId"]},
                      {"output", {{"png", "iVBORw0KGgo"}}}});
  std::string auth_ada = "Authorization: Bearer " + ada;
  bool waiting = false;
  for (int i = 0; i < 400 && !waiting; ++i) {
    waiting = Http("GET", a->url() + "/sessions/" + id, "", {auth_ada}).json().value("status", "") ==
              "waiting";
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(waiting);
  auto state = Http("GET", b->url() + "/sessions/" + id + "/state", "", {auth_ada}).json();
  CHECK(state["state"]["shot"] == Json{{"png", "iVBORw0KGgo"}});
  CHECK_FALSE(bob_desk->ReceiveUntil([](const Json& m) { return m["type"] == "tool:request"; },
                                     500));
  // Bob cannot see it from any node.
  for (auto* node : {a.get(), b.get()}) {
    CHECK(Http("GET", node->url() + "/sessions/" + id, "", {"Authorization: Bearer " + bob})
              .status == 404);
  }

  // The tool route on node a, which drives the session, and through node b, which sends it to
  // a: both served by ada's client on b.
  auto route = [&](ServeProcess& node, const std::string& output) {
    std::thread answer([&] {
      auto again = ada_desk->ReceiveUntil(
          [](const Json& m) { return m["type"] == "tool:request"; }, 20000);
      if (again) {
        ada_desk->Send(Json{{"type", "tool:response"}, {"callId", (*again)["callId"]},
                            {"output", output}});
      }
    });
    auto r = Http("POST", node.url() + "/sessions/" + id + "/tools/screenshot",
                  Json{{"input", Json::object()}}.dump(), {kJsonContent, auth_ada}, 30000);
    answer.join();
    return r;
  };
  for (auto [node, output] : {std::pair{a.get(), "second"}, std::pair{b.get(), "third"}}) {
    auto routed = route(*node, output);
    INFO(routed.body);
    CHECK(routed.status == 200);
    CHECK(routed.json()["output"] == output);
  }
  CHECK(Http("POST", b->url() + "/sessions/" + id + "/tools/screenshot",
             Json{{"input", Json::object()}}.dump(), {kJsonContent, "Authorization: Bearer " + bob})
            .status == 404);

  // The client leaves: a's next call finds no client anywhere and says so.
  ada_desk.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto none = Http("POST", a->url() + "/sessions/" + id + "/tools/screenshot",
                   Json{{"input", Json::object()}}.dump(), {kJsonContent, auth_ada}, 30000);
  CHECK(none.json()["isError"] == true);
  CHECK_THAT(none.body, Catch::Contains("no client is connected"));
}
