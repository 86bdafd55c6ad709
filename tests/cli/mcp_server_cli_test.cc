// End-to-end: `scaffold mcp`, workflows as MCP tools, driven by a client built on the official
// TypeScript SDK (tests/mcp/sdk-client.mjs) and by hostile lines on its stdin.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/fake_upstream.h"
#include "tests/support/http_client.h"
#include "tests/support/jwt_signer.h"
#include "tests/support/serve_process.h"
#include "tests/support/json_lines.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using scaffold::testing::FakeUpstream;
using scaffold::testing::ProcessOptions;
using scaffold::testing::RunScaffold;
using scaffold::testing::TempDir;

namespace {

const std::string kJson = "Content-Type: application/json";

const char* kGreet = R"({
  "scaffold": 1, "name": "greet", "description": "Greets someone by name",
  "input": {"type": "string"}, "state": {"greeting": ""}, "entry": "write",
  "agents": {"writer": {"provider": "anthropic", "model": "claude-test", "prompt": "Greet {{input}}.",
                        "update": {"/greeting": {"var": "output"}}}},
  "phases": {"write": {"run": "writer", "next": "done"},
             "done": {"terminal": true, "result": {"var": "state.greeting"}}}
})";

const char* kApprove = R"({
  "scaffold": 1, "name": "approve", "input": {"type": "string"}, "state": {"approved": false},
  "entry": "confirm",
  "phases": {"confirm": {"ask": {"prompt": "Deploy {{input}}?", "type": "approval"},
                         "update": {"/approved": {"var": "output.approved"}}, "next": "done"},
             "done": {"terminal": true, "result": {"var": "state.approved"}}}
})";

std::string NodeProgram() {
  for (const char* p : {"/usr/bin/node", "/usr/local/bin/node"})
    if (std::filesystem::exists(p)) return p;
  FAIL("node is not installed (scripts/install-deps --test)");
  return "";
}

std::string SdkClient() {
  std::string sdk = std::string(SCAFFOLD_SOURCE_DIR) + "/tests/mcp/node_modules/@modelcontextprotocol/sdk";
  if (!std::filesystem::exists(sdk))
    FAIL("missing " << sdk << ": install it with scripts/install-deps --test (npm ci in tests/mcp)");
  return std::string(SCAFFOLD_SOURCE_DIR) + "/tests/mcp/sdk-client.mjs";
}

struct Setup {
  TempDir dir;
  FakeUpstream up;
  std::string db, greet, approve;
  ProcessOptions env;
  Setup() {
    db = dir.path() + "/s.db";
    greet = dir.path() + "/greet.json";
    approve = dir.path() + "/approve.json";
    std::ofstream(greet) << kGreet;
    std::ofstream(approve) << kApprove;
    up.SetDefault([](const FakeUpstream::Request&) {
      return FakeUpstream::AnthropicText({"Hello, ", "Ada!"});
    });
    env.env = {{"ANTHROPIC_BASE_URL", up.url()}, {"ANTHROPIC_API_KEY", "sk-test"}};
    env.cwd = dir.path();
  }
  Json Client(const std::string& elicit) {
    ProcessOptions o = env;
    o.program = NodeProgram();
    auto r = RunScaffold({SdkClient(), elicit, SCAFFOLD_BINARY, "mcp", greet, approve, "--db", db}, o);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return Json::parse(r.out);
  }
};

}  // namespace

TEST_CASE("scaffold mcp: an SDK client lists workflows, runs one and answers an ask by elicitation",
          "[cli][mcp]") {
  Setup s;
  Json out = s.Client("accept");
  INFO(out.dump(2));
  CHECK(out["server"]["name"] == "scaffold");
  REQUIRE(out["tools"].size() == 2);
  CHECK(out["tools"][0]["name"] == "approve");
  Json greet = out["tools"][1];
  CHECK(greet["name"] == "greet");
  CHECK(greet["description"] == "Greets someone by name");
  CHECK(greet["inputSchema"] == Json::parse(R"({"type": "object", "properties":
        {"input": {"type": "string"}}, "required": ["input"]})"));

  // The workflow that finishes: its result, its session, progress at each phase.
  CHECK_FALSE(out["greet"].value("isError", false));
  Json done = out["greet"]["structuredContent"];
  CHECK(done["status"] == "completed");
  CHECK(done["result"] == "Hello, Ada!");
  std::string id = done["sessionId"];
  CHECK_THAT(out["greet"]["content"][0]["text"].get<std::string>(),
             Catch::Contains("Hello, Ada!") && Catch::Contains("scaffold events " + id));
  REQUIRE(out["progress"].size() >= 1);
  CHECK(out["progress"][0]["message"] == "phase write");

  // The workflow that asks: put to the client as a form, answered, finished.
  REQUIRE(out["elicitations"].size() == 1);
  CHECK(out["elicitations"][0]["message"] == "Deploy v2?");
  CHECK(out["elicitations"][0]["requestedSchema"]["properties"]["approved"]["type"] == "boolean");
  CHECK(out["approve"]["structuredContent"]["status"] == "completed");
  CHECK(out["approve"]["structuredContent"]["result"] == true);
  CHECK_THAT(out["unknown"].get<std::string>(), Catch::Contains("unknown tool"));

  // Both sessions are in the usual database.
  auto events = RunScaffold({"events", id, "--json", "--db", s.db}, s.env);
  CHECK(events.exit_code == 0);
  CHECK_THAT(events.out, Catch::Contains("workflow:completed"));
}

TEST_CASE("scaffold mcp: a client built on the SDK's second major version", "[cli][mcp]") {
  Setup s;
  std::string script = std::string(SCAFFOLD_SOURCE_DIR) + "/tests/mcp/sdk2-client.mjs";
  if (!std::filesystem::exists(std::string(SCAFFOLD_SOURCE_DIR) +
                               "/tests/mcp/node_modules/@modelcontextprotocol/client"))
    FAIL("missing @modelcontextprotocol/client: scripts/install-deps --test (npm ci in tests/mcp)");
  ProcessOptions o = s.env;
  o.program = NodeProgram();
  auto r = RunScaffold({script, SCAFFOLD_BINARY, "mcp", s.greet, "--db", s.db}, o);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  Json out = Json::parse(r.out);
  CHECK(out["tools"] == Json::array({"greet"}));
  CHECK(out["greet"]["structuredContent"]["result"] == "Hello, Ada!");
}

TEST_CASE("scaffold mcp: without elicitation an ask comes back pending and resumes from the CLI",
          "[cli][mcp]") {
  Setup s;
  Json out = s.Client("none");
  INFO(out.dump(2));
  CHECK(out["elicitations"].empty());
  Json waiting = out["approve"]["structuredContent"];
  CHECK(waiting["status"] == "waiting");
  CHECK(waiting["ask"]["id"] == "confirm");
  CHECK(waiting["ask"]["type"] == "approval");
  std::string id = waiting["sessionId"];
  CHECK_THAT(out["approve"]["content"][0]["text"].get<std::string>(),
             Catch::Contains("scaffold resume " + id + " --answer 'confirm=VALUE'"));

  auto resumed = RunScaffold({"resume", id, "--answer", "confirm=yes", "--db", s.db, "--no-color"}, s.env);
  INFO(resumed.out << resumed.err);
  CHECK(resumed.exit_code == 0);
  auto state = RunScaffold({"state", id, "--db", s.db}, s.env);
  CHECK(Json::parse(state.out)["approved"] == true);
}

TEST_CASE("scaffold mcp: hostile lines get JSON-RPC errors and the server reads on", "[cli][mcp]") {
  Setup s;
  ProcessOptions o = s.env;
  o.stdin_text = std::string("this is not JSON\n") + "[1, 2]\n" + "{\"jsonrpc\": \"2.0\", \"id\": {}}\n" +
                 R"({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "1999-01-01", "capabilities": 7}})" "\n" +
                 R"({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}}})" "\n" +
                 R"({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": 42}})" "\n" +
                 R"({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "greet", "arguments": {"input": 5}}})" "\n" +
                 R"({"jsonrpc": "2.0", "id": 5, "method": "resources/list"})" "\n" +
                 R"({"jsonrpc": "2.0", "id": 99, "result": {}})" "\n" +
                 std::string(20000, '[') + "\n" +
                 R"({"jsonrpc": "2.0", "id": "last", "method": "ping"})" "\n";
  auto r = RunScaffold({"mcp", s.greet, "--db", s.db}, o);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  auto lines = scaffold::testing::ParseJsonLines(r.out);
  REQUIRE(lines.size() == 10);
  CHECK(lines[0]["error"]["code"] == -32700);
  CHECK(lines[1]["error"]["code"] == -32600);
  CHECK(lines[2]["error"]["code"] == -32600);
  CHECK(lines[3]["id"] == 1);
  CHECK(lines[3]["error"]["code"] == -32602);
  CHECK_THAT(lines[3]["error"]["message"].get<std::string>(), Catch::Contains("/params/capabilities"));
  CHECK(lines[4]["result"]["protocolVersion"] == "2025-06-18");
  CHECK(lines[5]["error"]["code"] == -32602);
  CHECK(lines[6]["result"]["isError"] == true);  // the input does not fit the workflow's schema
  CHECK_THAT(lines[6]["result"]["content"][0]["text"].get<std::string>(),
             Catch::Contains("input schema"));
  CHECK(lines[7]["error"]["code"] == -32601);
  CHECK(lines[8]["error"]["code"] == -32700);  // nested past the limit
  CHECK(lines[9]["id"] == "last");
  CHECK(lines[9]["result"] == Json::object());
}

TEST_CASE("scaffold serve /mcp: an SDK client over Streamable HTTP, behind JWT auth",
          "[cli][mcp]") {
  Setup s;
  std::string secret = "a-secret-for-the-mcp-endpoint-0123456789";
  std::string secret_file = s.dir.path() + "/secret";
  { std::ofstream(secret_file) << secret; }
  scaffold::testing::ServeProcess serve(
      {"--workflow", s.greet, "--workflow", s.approve, "--db", s.db, "--auth", "jwt",
       "--jwt-secret-file", secret_file},
      false, s.env);
  std::string ada = scaffold::testing::SignHs256(secret, {{"sub", "ada"}, {"exp", 4102444800}});

  // Without a token: refused like every other route.
  auto refused = scaffold::testing::Http(
      "POST", serve.url() + "/mcp",
      R"({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})", {kJson});
  CHECK(refused.status == 401);

  ProcessOptions o = s.env;
  o.program = NodeProgram();
  auto r = RunScaffold({SdkClient(), "accept", "--url", serve.url() + "/mcp", ada}, o);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  Json out = Json::parse(r.out);
  INFO(out.dump(2));
  REQUIRE(out["tools"].size() == 2);
  CHECK(out["greet"]["structuredContent"]["status"] == "completed");
  CHECK(out["greet"]["structuredContent"]["result"] == "Hello, Ada!");
  // The ask waits in the server, answered through its API by the session's owner.
  Json waiting = out["approve"]["structuredContent"];
  REQUIRE(waiting["status"] == "waiting");
  std::string id = waiting["sessionId"];
  std::string auth = "Authorization: Bearer " + ada;
  auto answered = scaffold::testing::Http("POST", serve.url() + "/sessions/" + id + "/input",
                                          R"({"id": "confirm", "value": "yes"})",
                                          {kJson, auth});
  INFO(answered.body);
  CHECK(answered.status == 200);
  std::string status;
  for (int i = 0; i < 200 && status != "completed"; ++i) {
    status = scaffold::testing::Http("GET", serve.url() + "/sessions/" + id, "", {auth})
                 .json()
                 .value("status", "");
    if (status != "completed") std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  CHECK(status == "completed");

  // Hostile bodies get JSON-RPC errors; other methods 405.
  auto bad = scaffold::testing::Http("POST", serve.url() + "/mcp", "{nope",
                                     {kJson, auth});
  CHECK(bad.status == 400);
  CHECK(bad.json()["error"]["code"] == -32700);
  CHECK(scaffold::testing::Http("GET", serve.url() + "/mcp", "", {auth}).status == 405);
  auto version = scaffold::testing::Http(
      "POST", serve.url() + "/mcp", R"({"jsonrpc": "2.0", "id": 1, "method": "ping"})",
      {kJson, auth, "MCP-Protocol-Version: 1999-01-01"});
  CHECK(version.status == 400);
}
