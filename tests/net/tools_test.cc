// Tools (DESIGN §7): the built-in files/command/http tools, the router, and client tools
// delegated over WebSocket to the user's own client, end to end through the server with the
// fake upstream asking for the tool.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/event_loop.h"
#include "engine/workflow.h"
#include "net/llm/llm_provider.h"
#include "net/tools/builtin_tools.h"
#include "net/tools/child_process.h"
#include "net/tools/client_tools.h"
#include "net/tools/program_tools.h"
#include "net/tools/tool_router.h"
#include "tests/support/conformance.h"
#include "tests/support/cutting_proxy.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/http_client.h"
#include "tests/support/jwt_signer.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using scaffold::Json;
using namespace scaffold::testing;
namespace engine = scaffold::engine;
namespace net = scaffold::net;

namespace {

engine::ToolDecl Decl(const std::string& type, Json extra = Json::object()) {
  Json wf = {
      {"scaffold", 1},
      {"name", "t"},
      {"tools", {{"t", Json{{"type", type}}}}},
      {"phases", {{"a", {{"tool", {{"name", "t"}}}, {"next", "b"}}}, {"b", {{"terminal", true}}}}}};
  wf["tools"]["t"].update(extra);
  auto loaded = engine::LoadWorkflow(wf.dump());
  INFO(wf.dump());
  for (const auto& d : loaded.diagnostics) INFO(d.ToString());
  REQUIRE(loaded.workflow);
  return loaded.workflow->tools.at("t");
}

// Runs one call through a ToolRouter on an event loop and returns its result.
engine::ToolResult CallTool(net::ToolRouter& router, const engine::ToolDecl& decl, Json input,
                            const std::string& session = "s1", const std::string& owner = "") {
  engine::EventLoop loop;
  engine::ToolResult out;
  engine::ToolRequest req{session, owner,        "", "call-1", decl.name, std::move(input),
                          "",      std::nullopt};
  auto call = router.Call(req, &decl, &loop, [&](engine::ToolResult r) {
    out = std::move(r);
    loop.Stop();
  });
  loop.Run();
  return out;
}

std::string Text(const engine::ToolResult& r) {
  return r.output.is_string() ? r.output.get<std::string>() : r.output.dump();
}

}  // namespace

// ---- files ---------------------------------------------------------------------------------

TEST_CASE("a program that exits without reading its input does not take the process with it",
          "[tools][program]") {
  // Writing to a pipe nobody reads raises SIGPIPE, whose default action ends the process: the
  // write must see EPIPE instead, whatever the process does with the signal.
  struct sigaction dfl {}, old {};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, &old);
  scaffold::net::ChildSpec spec;
  spec.argv = {"true"};
  spec.stdin_data = std::string(4 << 20, 'x');  // far more than a pipe holds
  for (int i = 0; i < 20; ++i) {
    auto result = scaffold::net::RunChild(spec);
    CHECK(result.spawn_error.empty());
    CHECK(result.exit_code == 0);
  }
  sigaction(SIGPIPE, &old, nullptr);
}

TEST_CASE("files refuses every path that could leave the workspace", "[tools][files]") {
  TempDir dir;
  std::string ws = dir.path() + "/ws";
  std::string outside = dir.path() + "/secret.txt";
  { std::ofstream(outside) << "top secret"; }
  REQUIRE(net::EnsureWorkspace(ws).empty());
  std::filesystem::create_directories(ws + "/sub");
  REQUIRE(symlink(dir.path().c_str(), (ws + "/up").c_str()) == 0);
  REQUIRE(symlink(outside.c_str(), (ws + "/secret_link").c_str()) == 0);
  REQUIRE(symlink("sub", (ws + "/inner_link").c_str()) == 0);  // inside, but still a link
  REQUIRE(symlink("/dev/zero", (ws + "/zero").c_str()) == 0);
  REQUIRE(mkfifo((ws + "/fifo").c_str(), 0600) == 0);
  auto decl = Decl("files");

  struct Case {
    std::string op, path;
    std::string expect;  // part of the error
  };
  std::vector<Case> cases = {
      {"read", "../secret.txt", ".."},
      {"read", "sub/../../secret.txt", ".."},
      {"read", "..", ".."},
      {"list", "..", ".."},
      {"list", "./..", ".."},
      {"list", "sub/./../..", ".."},
      {"write", "../escape.txt", ".."},
      {"delete", "../secret.txt", ".."},
      {"read", "/etc/passwd", "absolute"},
      {"write", "/tmp/escape.txt", "absolute"},
      {"list", "/", "absolute"},
      {"read", "~/x", "~"},
      {"read", "", "empty"},
      {"read", std::string("a\0b", 3), "NUL"},
      {"read", "up/secret.txt", "symbolic link"},
      {"write", "up/escape.txt", "symbolic link"},
      {"list", "up", "symbolic link"},
      {"read", "secret_link", "symbolic link"},
      {"write", "secret_link", "symbolic link"},
      {"read", "inner_link/x", "symbolic link"},
      {"read", "zero", "symbolic link"},
      {"read", "fifo", "not a regular file"},
      {"write", "fifo", "not a regular file"},
      {"read", "sub", "directory"},
      {"read", std::string(2000, 'a'), "longer"},
      {"delete", ".", "workspace itself"},
      {"read", "sub//..//../secret.txt", ".."},
  };
  REQUIRE(cases.size() >= 20);
  for (const auto& c : cases) {
    Json input = {{"op", c.op}, {"path", c.path}};
    if (c.op == "write") input["content"] = "pwned";
    auto r = net::RunFilesTool(decl, ws, input);
    INFO(c.op << " \"" << c.path.substr(0, 60) << "\" -> " << Text(r));
    CHECK(r.is_error);
    CHECK_THAT(Text(r), Catch::Contains(c.expect));
    CHECK_THAT(Text(r), !Catch::Contains("top secret"));
  }
  // Nothing outside changed, nothing was created next to the workspace.
  CHECK(ReadFile(outside) == "top secret");
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/escape.txt"));
  CHECK_FALSE(std::filesystem::exists("/tmp/escape.txt"));
}

TEST_CASE("files reads, writes, lists and deletes inside the workspace, within its caps",
          "[tools][files]") {
  TempDir dir;
  std::string ws = dir.path() + "/ws";
  auto decl = Decl("files", {{"max_bytes", 16}});
  auto w =
      net::RunFilesTool(decl, ws, {{"op", "write"}, {"path", "notes/a.txt"}, {"content", "hello"}});
  REQUIRE_FALSE(w.is_error);
  CHECK(w.output == Json{{"path", "notes/a.txt"}, {"bytes", 5}});
  auto r = net::RunFilesTool(decl, ws, {{"op", "read"}, {"path", "./notes//a.txt"}});
  REQUIRE_FALSE(r.is_error);
  CHECK(r.output["content"] == "hello");
  auto l = net::RunFilesTool(decl, ws, {{"op", "list"}, {"path", "."}});
  REQUIRE_FALSE(l.is_error);
  CHECK(l.output["entries"] == Json::parse(R"([{"name":"notes","type":"directory"}])"));
  l = net::RunFilesTool(decl, ws, {{"op", "list"}, {"path", "notes"}});
  CHECK(l.output["entries"] == Json::parse(R"([{"name":"a.txt","type":"file","bytes":5}])"));

  auto big = net::RunFilesTool(
      decl, ws, {{"op", "write"}, {"path", "b.txt"}, {"content", std::string(17, 'x')}});
  CHECK(big.is_error);
  CHECK_THAT(Text(big), Catch::Contains("max_bytes"));
  { std::ofstream(ws + "/big.txt") << std::string(100, 'x'); }
  CHECK_THAT(Text(net::RunFilesTool(decl, ws, {{"op", "read"}, {"path", "big.txt"}})),
             Catch::Contains("max_bytes"));
  { std::ofstream(ws + "/bin.dat") << std::string("\xff\xfe\x00", 3); }
  CHECK_THAT(Text(net::RunFilesTool(decl, ws, {{"op", "read"}, {"path", "bin.dat"}})),
             Catch::Contains("not UTF-8"));

  auto d = net::RunFilesTool(decl, ws, {{"op", "delete"}, {"path", "notes/a.txt"}});
  CHECK_FALSE(d.is_error);
  CHECK_FALSE(std::filesystem::exists(ws + "/notes/a.txt"));
  CHECK(net::RunFilesTool(decl, ws, {{"op", "read"}, {"path", "notes/a.txt"}}).is_error);

  auto ro = Decl("files", {{"read_only", true}});
  auto refused = net::RunFilesTool(ro, ws, {{"op", "write"}, {"path", "c.txt"}, {"content", "x"}});
  CHECK(refused.is_error);
  CHECK_THAT(Text(refused), Catch::Contains("read-only"));
}

TEST_CASE("workspaces are per owner and session, and neither can name another directory",
          "[tools][files]") {
  CHECK(net::WorkspacePath("/d", "", "abc") == "/d/workspaces/_local/abc");
  CHECK(net::WorkspacePath("/d", "../../etc", "s") == "/d/workspaces/%2E%2E%2F%2E%2E%2Fetc/s");
  CHECK(net::WorkspacePath("/d", "ada", "..") == "/d/workspaces/ada/%2E%2E");
  CHECK(net::WorkspacePath("/d", "a/b", "s") != net::WorkspacePath("/d", "a", "b/s"));
}

// ---- command -------------------------------------------------------------------------------

TEST_CASE("command tools run only with --allow-commands, without a shell, in the workspace",
          "[tools][command]") {
  TempDir dir;
  auto decl = Decl("command",
                   {{"argv", {"sh", "-c", "pwd; echo \"$1\"; env | sort", "sh", "{{input.text}}"}},
                    {"input_schema", {{"type", "object"}}}});
  Json input = {{"text", "a; rm -rf / $(whoami) `id`"}};

  net::ToolRouter off({dir.path(), false, nullptr, nullptr, ""});
  auto refused = CallTool(off, decl, input);
  CHECK(refused.is_error);
  CHECK_THAT(Text(refused), Catch::Contains("--allow-commands"));

  setenv("SCAFFOLD_TEST_SECRET", "sk-must-not-leak", 1);
  net::ToolRouter on({dir.path(), true, nullptr, nullptr, ""});
  auto r = CallTool(on, decl, input, "sess-9", "ada");
  unsetenv("SCAFFOLD_TEST_SECRET");
  INFO(r.output.dump());
  REQUIRE_FALSE(r.is_error);
  CHECK(r.output["exitCode"] == 0);
  std::string out = r.output["stdout"];
  std::string ws = net::WorkspacePath(dir.path(), "ada", "sess-9");
  CHECK_THAT(out, Catch::StartsWith(ws + "\n"));
  // The input arrives as one argument, untouched: no shell ever parsed it.
  CHECK_THAT(out, Catch::Contains("\na; rm -rf / $(whoami) `id`\n"));
  CHECK_THAT(out, Catch::Contains("HOME=" + ws));
  CHECK_THAT(out, Catch::Contains("PATH=/usr/local/bin:/usr/bin:/bin"));
  CHECK_THAT(out, !Catch::Contains("sk-must-not-leak"));
}

TEST_CASE("command tools are killed at their timeout and their output is capped",
          "[tools][command]") {
  TempDir dir;
  net::ToolRouter on({dir.path(), true, nullptr, nullptr, ""});
  auto slow = Decl("command", {{"argv", {"sh", "-c", "sleep 30 & sleep 30"}}, {"timeout_ms", 300}});
  auto start = std::chrono::steady_clock::now();
  auto r = CallTool(on, slow, Json::object());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  CHECK(r.is_error);
  CHECK(r.output["error"] == "timed out after 300 ms");

  auto loud =
      Decl("command", {{"argv", {"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x; exit 3"}},
                       {"max_output_bytes", 1000}});
  r = CallTool(on, loud, Json::object());
  CHECK(r.is_error);  // a non-zero exit is an error, with its output
  CHECK(r.output["exitCode"] == 3);
  CHECK(r.output["stdout"].get<std::string>().size() == 1000);
  CHECK(r.output["truncated"] == true);

  auto missing = Decl("command", {{"argv", {"no-such-program-xyz"}}});
  r = CallTool(on, missing, Json::object());
  CHECK(r.is_error);
  CHECK_THAT(Text(r), Catch::Contains("not found"));
}

// ---- http ----------------------------------------------------------------------------------

TEST_CASE("http tools call only allow-listed hosts, with a size cap", "[tools][http]") {
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request& req) {
    FakeUpstream::Response r;
    r.headers = {{"Content-Type", "application/json"}};
    r.writes = {{Json{{"echo", req.path},
                      {"body", req.body},
                      {"auth", req.headers.count("x-key") ? req.headers.at("x-key") : ""}}
                     .dump()}};
    return r;
  });
  TempDir dir;
  net::ToolRouter router({dir.path(), false, nullptr, nullptr, ""});
  std::string port = up.url().substr(up.url().rfind(':') + 1);

  auto ok = Decl("http", {{"method", "POST"},
                          {"url", "http://127.0.0.1:" + port + "/items/{{input.id}}"},
                          {"headers", {{"X-Key", "k-{{input.id}}"}}},
                          {"body", {{"name", "{{input.name}}"}}},
                          {"allow_hosts", {"127.0.0.1"}}});
  auto r = CallTool(router, ok, {{"id", "7"}, {"name", "lamp"}});
  INFO(r.output.dump());
  REQUIRE_FALSE(r.is_error);
  CHECK(r.output["status"] == 200);
  CHECK(r.output["body"]["echo"] == "/items/7");
  CHECK(Json::parse(r.output["body"]["body"].get<std::string>()) == Json{{"name", "lamp"}});
  CHECK(r.output["body"]["auth"] == "k-7");

  // The URL's host comes from the input here, so only the call can refuse it.
  size_t before = up.requests().size();
  auto templated = Decl("http", {{"url", "http://{{input.host}}:" + port + "/"},
                                 {"allow_hosts", {"api.example.com", "*.example.org"}}});
  for (std::string host :
       {"127.0.0.1", "localhost", "example.org", "evil.com", "api.example.com.evil.com"}) {
    auto refused = CallTool(router, templated, {{"host", host}});
    INFO(host << " -> " << Text(refused));
    CHECK(refused.is_error);
    CHECK_THAT(Text(refused), Catch::Contains("allow_hosts"));
  }
  CHECK(up.requests().size() == before);  // nothing was sent
  CHECK(engine::HostAllowed("a.b.example.org", {"*.example.org"}));
  CHECK(engine::HostAllowed("API.Example.com", {"api.example.com"}));

  auto capped = Decl("http", {{"url", "http://127.0.0.1:" + port + "/big"},
                              {"allow_hosts", {"127.0.0.1"}},
                              {"max_response_bytes", 10}});
  r = CallTool(router, capped, Json::object());
  CHECK(r.is_error);
  CHECK_THAT(Text(r), Catch::Contains("max_response_bytes"));

  auto file = Decl("http", {{"url", "http://{{input.u}}"}, {"allow_hosts", {"x"}}});
  CHECK(CallTool(router, file, {{"u", "x/../../etc/passwd"}}).is_error);
}

// ---- declarations --------------------------------------------------------------------------

TEST_CASE("validate checks tool declarations by type", "[tools][validate]") {
  auto problems = [](const Json& tool) {
    Json wf = {{"scaffold", 1},
               {"name", "t"},
               {"tools", {{"t", tool}}},
               {"phases",
                {{"a", {{"tool", {{"name", "t"}}}, {"next", "b"}}}, {"b", {{"terminal", true}}}}}};
    std::string all;
    for (const auto& d : engine::LoadWorkflow(wf.dump()).diagnostics) all += d.ToString() + "\n";
    return all;
  };
  CHECK_THAT(problems({{"type", "command"}}), Catch::Contains("/tools/t/argv: required"));
  CHECK_THAT(problems({{"type", "command"}, {"argv", Json::array()}}),
             Catch::Contains("/tools/t/argv"));
  CHECK_THAT(problems({{"type", "command"}, {"argv", {"ls", "{{#x}}"}}}),
             Catch::Contains("/tools/t/argv/1"));
  CHECK_THAT(problems({{"type", "http"}, {"url", "http://a.com"}}),
             Catch::Contains("/tools/t/allow_hosts: required"));
  CHECK_THAT(problems({{"type", "http"}, {"url", "http://evil.com/x"}, {"allow_hosts", {"a.com"}}}),
             Catch::Contains("/tools/t/url: host \"evil.com\" is not in this tool's allow_hosts"));
  CHECK_THAT(
      problems({{"type", "http"}, {"url", "file:///etc/passwd"}, {"allow_hosts", {"a.com"}}}),
      Catch::Contains("http:// or https://"));
  CHECK_THAT(
      problems({{"type", "http"}, {"url", "http://a.com"}, {"allow_hosts", {"http://a.com"}}}),
      Catch::Contains("/tools/t/allow_hosts/0"));
  CHECK_THAT(problems({{"type", "http"},
                       {"url", "http://a.com"},
                       {"allow_hosts", {"a.com"}},
                       {"method", "BREW"}}),
             Catch::Contains("/tools/t/method"));
  CHECK_THAT(problems({{"type", "files"}, {"argv", {"ls"}}}),
             Catch::Contains("/tools/t/argv: unknown key"));
  CHECK_THAT(problems({{"type", "client"}, {"input_schema", {{"type", "nope"}}}}),
             Catch::Contains("/tools/t/input_schema"));
  CHECK_THAT(problems({{"type", "clinet"}}), Catch::Contains("did you mean \"client\""));
  CHECK(
      problems({{"type", "http"}, {"url", "https://{{input.host}}/x"}, {"allow_hosts", {"a.com"}}})
          .empty());
  CHECK(problems({{"type", "files"}}).empty());
  CHECK(Decl("files").input_schema == engine::FilesToolSchema());
}

TEST_CASE("the router checks the input against the tool's schema before anything runs", "[tools]") {
  TempDir dir;
  net::ToolRouter router({dir.path(), true, nullptr, nullptr, ""});
  auto decl = Decl("command", {{"argv", {"touch", "ran"}},
                               {"input_schema", {{"type", "object"}, {"required", {"path"}}}}});
  auto r = CallTool(router, decl, Json::object());
  CHECK(r.is_error);
  CHECK_THAT(Text(r), Catch::Contains("input_schema"));
  CHECK_FALSE(std::filesystem::exists(net::WorkspacePath(dir.path(), "", "s1") + "/ran"));
  auto files = Decl("files");
  r = CallTool(router, files, {{"op", "format"}, {"path", "x"}});
  CHECK(r.is_error);
  CHECK_THAT(Text(r), Catch::Contains("/op"));
  auto client = Decl("client");
  r = CallTool(router, client, Json::object());
  CHECK(r.is_error);
  CHECK_THAT(Text(r), Catch::Contains("no client is connected"));
}

TEST_CASE("tool programs answer on stdout; bad programs are tool errors", "[tools][program]") {
  Json req = {{"callId", "c1"}, {"toolName", "t"}, {"input", {{"x", 2}}}};
  auto r = net::RunToolProgram(
      "python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps({\"output\": "
      "r[\"input\"][\"x\"]*21}))'",
      req, 10000, nullptr);
  if (r.is_error && Text(r).find("not found") != std::string::npos) {
    r = net::RunToolProgram("cat >/dev/null; echo '{\"output\": 42}'", req, 10000, nullptr);
  }
  CHECK_FALSE(r.is_error);
  CHECK(r.output == 42);
  r = net::RunToolProgram("cat >/dev/null; echo '{\"output\": \"no\", \"isError\": true}'", req,
                          10000, nullptr);
  CHECK(r.is_error);
  CHECK(r.output == "no");
  r = net::RunToolProgram("echo not json", req, 10000, nullptr);
  CHECK(r.is_error);
  CHECK_THAT(Text(r), Catch::Contains("instead of a JSON response"));
  r = net::RunToolProgram("echo broken >&2; exit 4", req, 10000, nullptr);
  CHECK(r.is_error);
  CHECK_THAT(Text(r), Catch::Contains("exited with status 4: broken"));
  r = net::RunToolProgram("sleep 20", req, 200, nullptr);
  CHECK(r.is_error);
  CHECK_THAT(Text(r), Catch::Contains("timed out after 200 ms"));
  CHECK_FALSE(net::ParseToolFlag("noequals").ok());
  CHECK_FALSE(net::ParseToolFlag("=prog").ok());
  CHECK(net::ParseToolFlag("a=b=c")->program == "b=c");
}

// ---- client tools through the server -------------------------------------------------------

namespace {

constexpr const char* kJwtSecret = "tools-test-secret-0123456789abcdef";

// "desk": an agent that calls the client tool `screenshot`, then a text ask that keeps the
// session waiting (so the tool route has a running session), then done.
std::string DeskWorkflow(int timeout_ms) {
  Json wf = Json::parse(R"({
    "scaffold": 1,
    "name": "desk",
    "entry": "look",
    "tools": {
      "screenshot": {"type": "client", "description": "Captures the user's screen",
                     "input_schema": {"type": "object", "properties": {"region": {"type": "string"}},
                                      "required": ["region"]}},
      "notes": {"type": "files"}
    },
    "agents": {"helper": {"provider": "anthropic", "model": "claude-test",
                          "prompt": "What is on the screen?", "tools": ["screenshot"]}},
    "phases": {
      "look": {"run": "helper", "next": "confirm"},
      "confirm": {"ask": {"prompt": "Looks right?", "type": "text"}, "next": "done"},
      "done": {"terminal": true}
    }
  })");
  wf["tools"]["screenshot"]["timeout_ms"] = timeout_ms;
  return wf.dump();
}

// The fake upstream: asks for the screenshot first, then answers with text once the tool
// result is in the conversation.
struct Upstream {
  FakeUpstream up;
  net::LlmProvider provider;
  Upstream()
      : provider({{"anthropic", net::Endpoint{"anthropic", "anthropic", up.url(), "sk-test",
                                              "ANTHROPIC_API_KEY", 10000, 30000}}}) {
    up.SetDefault([](const FakeUpstream::Request& req) {
      if (req.body.find("tool_result") != std::string::npos)
        return FakeUpstream::AnthropicText({"I see ", "a chart."});
      return FakeUpstream::AnthropicToolUse("toolu_shot", "screenshot", {{"region", "top"}});
    });
  }
  // The tool_result block the agent sent back.
  Json ToolResultBlock() {
    for (const auto& r : up.requests()) {
      Json body = r.json();
      for (const auto& m : body["messages"]) {
        if (!m["content"].is_array()) continue;
        for (const auto& b : m["content"])
          if (b.value("type", "") == "tool_result") return b;
      }
    }
    return nullptr;
  }
};

struct DeskServer {
  Upstream upstream;
  std::unique_ptr<TestServer> server;
  explicit DeskServer(int timeout_ms = 5000, const net::JwtVerifier* verifier = nullptr) {
    TestServer::Config config;
    config.workflows = {DeskWorkflow(timeout_ms)};
    config.provider = &upstream.provider;
    config.verifier = verifier;
    server = std::make_unique<TestServer>(config);
  }
  std::vector<engine::EventPtr> Events(const std::string& id) {
    return server->store().ReadEvents(id, 0, 100000).value();
  }
  Json ToolResultEvent(const std::string& id) {
    for (const auto& e : Events(id))
      if (e->name == "tool:result") return e->payload;
    return nullptr;
  }
};

std::unique_ptr<WsClient> ToolClientFor(uint16_t port, const std::string& token = "",
                                        Json tools = Json::parse(R"([{"name": "screenshot",
                                          "description": "Captures the screen",
                                          "input_schema": {"type": "object"}}])")) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.push_back({"Authorization", "Bearer " + token});
  auto ws = std::make_unique<WsClient>(port, "/ws?client=osclient", headers);
  REQUIRE(ws->connected());
  ws->Send(Json{{"type", "tools:register"}, {"tools", tools}});
  auto ack = ws->ReceiveUntil([](const Json& m) { return m["type"] != "pong"; });
  REQUIRE(ack);
  REQUIRE((*ack)["type"] == "tools:registered");
  return ws;
}

bool IsToolRequest(const Json& m) {
  return m["type"] == "tool:request";
}

}  // namespace

TEST_CASE("an agent's client tool call goes to the user's desktop client and back",
          "[tools][client][server]") {
  DeskServer desk;
  auto client = ToolClientFor(desk.server->port());
  std::string id = desk.server->Create("desk", Json());
  auto req = client->ReceiveUntil(IsToolRequest);
  REQUIRE(req);
  CHECK((*req)["sessionId"] == id);
  CHECK((*req)["toolName"] == "screenshot");
  CHECK((*req)["input"] == Json{{"region", "top"}});
  CHECK((*req)["timeoutMs"] == 5000);
  client->Send(Json{{"type", "tool:response"},
                    {"callId", (*req)["callId"]},
                    {"output", {{"png", "iVBORw0KGgo"}, {"width", 1280}}}});
  REQUIRE(desk.server->WaitForStatus(id, "waiting"));
  Json result = desk.ToolResultEvent(id);
  CHECK(result["output"] == Json{{"png", "iVBORw0KGgo"}, {"width", 1280}});
  CHECK(result["isError"] == false);
  CHECK(result["toolId"] == "toolu_shot");
  Json block = desk.upstream.ToolResultBlock();
  CHECK(block["tool_use_id"] == "toolu_shot");
  CHECK_THAT(block.dump(), Catch::Contains("iVBORw0KGgo"));
  CHECK(desk.server->client_tools().pending() == 0);
}

TEST_CASE("client tool failures come back to the agent as tool errors", "[tools][client][server]") {
  struct Case {
    const char* name;
    int timeout_ms;
    std::function<void(std::unique_ptr<WsClient>&, const Json& request)> act;
    const char* expect;
  };
  std::vector<Case> cases = {
      {"timeout", 300, [](auto&, const Json&) {},
       "did not answer tool \"screenshot\" within 300 ms"},
      {"disconnect mid-call", 5000, [](auto& c, const Json&) { c.reset(); },
       "disconnected before answering"},
      {"malformed response (no output)", 5000,
       [](auto& c, const Json& r) {
         c->Send(Json{{"type", "tool:response"}, {"callId", r["callId"]}, {"result", 1}});
         auto err = c->ReceiveUntil([](const Json& m) { return m["type"] == "error"; });
         REQUIRE(err);
         CHECK((*err)["code"] == "bad_tool_response");
       },
       "malformed tool:response"},
      {"malformed response (isError not a boolean)", 5000,
       [](auto& c, const Json& r) {
         c->Send(Json{{"type", "tool:response"},
                      {"callId", r["callId"]},
                      {"output", 1},
                      {"isError", "yes"}});
       },
       "\"isError\" must be true or false"},
      {"the client's own error", 5000,
       [](auto& c, const Json& r) {
         c->Send(Json{{"type", "tool:response"},
                      {"callId", r["callId"]},
                      {"output", "screen locked"},
                      {"isError", true}});
       },
       "screen locked"},
  };
  for (auto& c : cases) {
    SECTION(c.name) {
      DeskServer desk(c.timeout_ms);
      auto client = ToolClientFor(desk.server->port());
      std::string id = desk.server->Create("desk", Json());
      auto req = client->ReceiveUntil(IsToolRequest);
      REQUIRE(req);
      c.act(client, *req);
      // The session carries on: the agent sees the error and answers, and the ask waits.
      REQUIRE(desk.server->WaitForStatus(id, "waiting"));
      Json result = desk.ToolResultEvent(id);
      INFO(result.dump());
      CHECK(result["isError"] == true);
      CHECK_THAT(result["output"].get<std::string>(), Catch::Contains(c.expect));
      Json block = desk.upstream.ToolResultBlock();
      CHECK(block["is_error"] == true);
      CHECK(desk.server->client_tools().pending() == 0);
    }
  }
}

TEST_CASE("with no client, or only another user's, the call fails and nobody else sees it",
          "[tools][client][server][auth]") {
  auto verifier = std::move(net::JwtVerifier::FromSecret(kJwtSecret, {}).value());
  DeskServer desk(5000, &verifier);
  std::string ada = TokenFor(kJwtSecret, "ada"), bob = TokenFor(kJwtSecret, "bob");

  SECTION("no client at all") {
    std::string id = desk.server->Create("desk", Json(), {"Authorization: Bearer " + ada});
    REQUIRE(desk.server->WaitForStatus(id, "waiting", {"Authorization: Bearer " + ada}));
    CHECK_THAT(desk.ToolResultEvent(id)["output"].get<std::string>(),
               Catch::Contains("no client is connected to run tool \"screenshot\""));
  }
  SECTION("only bob's client is connected to ada's session's tool") {
    auto bobs = ToolClientFor(desk.server->port(), bob);
    std::string id = desk.server->Create("desk", Json(), {"Authorization: Bearer " + ada});
    REQUIRE(desk.server->WaitForStatus(id, "waiting", {"Authorization: Bearer " + ada}));
    CHECK(desk.ToolResultEvent(id)["isError"] == true);
    CHECK_FALSE(bobs->ReceiveUntil(IsToolRequest, 300));
  }
  SECTION("a client that registered other tools") {
    auto other =
        ToolClientFor(desk.server->port(), ada, Json::parse(R"([{"name": "record_audio"}])"));
    std::string id = desk.server->Create("desk", Json(), {"Authorization: Bearer " + ada});
    REQUIRE(desk.server->WaitForStatus(id, "waiting", {"Authorization: Bearer " + ada}));
    CHECK_THAT(desk.ToolResultEvent(id)["output"].get<std::string>(),
               Catch::Contains("does not offer tool \"screenshot\" (it offers \"record_audio\")"));
    CHECK_FALSE(other->ReceiveUntil(IsToolRequest, 300));
  }
  SECTION("the most recently registered of ada's clients gets it; bob cannot answer it") {
    auto older = ToolClientFor(desk.server->port(), ada);
    auto newer = ToolClientFor(desk.server->port(), ada);
    auto bobs = ToolClientFor(desk.server->port(), bob);
    std::string id = desk.server->Create("desk", Json(), {"Authorization: Bearer " + ada});
    auto req = newer->ReceiveUntil(IsToolRequest);
    REQUIRE(req);
    // Bob learns the callId somehow: his answer is refused and the call still waits.
    bobs->Send(Json{{"type", "tool:response"}, {"callId", (*req)["callId"]}, {"output", "forged"}});
    auto err = bobs->ReceiveUntil([](const Json& m) { return m["type"] == "error"; });
    REQUIRE(err);
    CHECK((*err)["code"] == "bad_tool_response");
    newer->Send(Json{{"type", "tool:response"}, {"callId", (*req)["callId"]}, {"output", "real"}});
    REQUIRE(desk.server->WaitForStatus(id, "waiting", {"Authorization: Bearer " + ada}));
    CHECK(desk.ToolResultEvent(id)["output"] == "real");
    CHECK_FALSE(older->ReceiveUntil(IsToolRequest, 200));
  }
}

TEST_CASE("a reconnecting client registers again and gets the next call",
          "[tools][client][server]") {
  DeskServer desk;
  { auto first = ToolClientFor(desk.server->port()); }  // connects, registers, goes away
  for (int i = 0; i < 100 && desk.server->client_tools().clients() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(desk.server->client_tools().clients() == 0);
  auto again = ToolClientFor(desk.server->port());
  std::string id = desk.server->Create("desk", Json());
  auto req = again->ReceiveUntil(IsToolRequest);
  REQUIRE(req);
  again->Send(Json{{"type", "tool:response"}, {"callId", (*req)["callId"]}, {"output", "ok"}});
  REQUIRE(desk.server->WaitForStatus(id, "waiting"));
  CHECK(desk.ToolResultEvent(id)["output"] == "ok");
}

TEST_CASE("registration frames are checked", "[tools][client][server]") {
  DeskServer desk;
  WsClient web(desk.server->port(), "/ws?client=web");
  web.Send(Json{{"type", "tools:register"}, {"tools", Json::array()}});
  auto err = web.ReceiveUntil([](const Json& m) { return m["type"] == "error"; });
  REQUIRE(err);
  CHECK_THAT((*err)["message"].get<std::string>(), Catch::Contains("client=osclient"));

  WsClient os(desk.server->port(), "/ws?client=osclient");
  for (Json tools : {Json("x"), Json::parse(R"([{"description": "no name"}])"),
                     Json::parse(R"([{"name": "a", "input_schema": {"type": 5}}])"),
                     Json::parse(R"([{"name": "a"}, {"name": "a"}])")}) {
    os.Send(Json{{"type", "tools:register"}, {"tools", tools}});
    auto e = os.ReceiveUntil([](const Json& m) { return m["type"] == "error"; });
    REQUIRE(e);
    INFO(tools.dump() << " -> " << (*e)["message"]);
    CHECK((*e)["code"] == "bad_request");
    CHECK_THAT((*e)["message"].get<std::string>(), Catch::Contains("/tools"));
  }
  os.Send(Json{{"type", "tool:response"}, {"callId", "nope"}, {"output", 1}});
  auto e = os.ReceiveUntil([](const Json& m) { return m["type"] == "error"; });
  REQUIRE(e);
  CHECK(desk.server->client_tools().clients() == 0);
}

TEST_CASE("the web app runs a client tool through the tool route, recorded in the log",
          "[tools][client][server]") {
  DeskServer desk;
  auto client = ToolClientFor(desk.server->port());
  std::string id = desk.server->Create("desk", Json());
  auto first = client->ReceiveUntil(IsToolRequest);
  REQUIRE(first);
  client->Send(Json{{"type", "tool:response"}, {"callId", (*first)["callId"]}, {"output", "ok"}});
  REQUIRE(desk.server->WaitForStatus(id, "waiting"));

  // The desktop client answers the next request from another thread while the route waits.
  // Catch's assertions are not thread-safe: the request is checked after the join.
  std::optional<Json> req;
  std::thread answer([&] {
    req = client->ReceiveUntil(IsToolRequest);
    if (!req) return;
    client->Send(
        Json{{"type", "tool:response"}, {"callId", (*req)["callId"]}, {"output", {{"png", "L"}}}});
  });
  auto r = Http("POST", desk.server->Url("/sessions/" + id + "/tools/screenshot"),
                R"({"input": {"region": "left"}})");
  answer.join();
  REQUIRE(req);
  CHECK((*req)["input"] == Json{{"region", "left"}});
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.json()["output"] == Json{{"png", "L"}});
  CHECK(r.json()["isError"] == false);
  std::string call_id = r.json()["callId"];

  int called = 0, results = 0;
  for (const auto& e : desk.Events(id)) {
    if (e->payload.value("toolId", "") != call_id) continue;
    CHECK(e->payload["via"] == "api");
    called += e->name == "tool:called";
    results += e->name == "tool:result";
  }
  CHECK(called == 1);
  CHECK(results == 1);

  // Errors: the input's schema, a tool of another type, another user's route, an ended session.
  r = Http("POST", desk.server->Url("/sessions/" + id + "/tools/screenshot"), R"({"input": {}})");
  CHECK(r.status == 200);
  CHECK(r.json()["isError"] == true);
  CHECK_THAT(r.json()["output"].get<std::string>(), Catch::Contains("input_schema"));
  r = Http("POST", desk.server->Url("/sessions/" + id + "/tools/notes"), R"({"input": {}})");
  CHECK(r.status == 400);
  r = Http("POST", desk.server->Url("/sessions/" + id + "/tools/screenshot"), R"([1])");
  CHECK(r.status == 400);
  // The session still runs and finishes normally.
  CHECK(
      Http("POST", desk.server->Url("/sessions/" + id + "/input"), R"({"input": "yes"})").status ==
      200);
  REQUIRE(desk.server->WaitForStatus(id, "completed"));
  r = Http("POST", desk.server->Url("/sessions/" + id + "/tools/screenshot"),
           R"({"input": {"region": "x"}})");
  CHECK(r.status == 409);
}

TEST_CASE("scaffold client serves a tool from a program and re-registers after a drop",
          "[tools][client][server]") {
  DeskServer desk;
  // The first connection is cut once the server has sent more than the handshake and the
  // registration ack (inside the first tool:request); later ones are left alone.
  std::atomic<int> connections{0};
  CuttingProxy proxy(desk.server->port(), [&]() -> size_t { return connections++ == 0 ? 300 : 0; });
  BackgroundProcess client(
      {"client", "http://127.0.0.1:" + std::to_string(proxy.port()), "--tool",
       R"(screenshot=cat > /dev/null; echo '{"output": {"png": "from-the-desktop"}}')"});
  auto wait_registered = [&] {
    for (int i = 0; i < 500 && desk.server->client_tools().clients() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return desk.server->client_tools().clients() == 1;
  };
  REQUIRE(wait_registered());

  // The first call is cut mid-request: the agent gets the error, the client reconnects.
  std::string first = desk.server->Create("desk", Json());
  REQUIRE(desk.server->WaitForStatus(first, "waiting"));
  CHECK_THAT(desk.ToolResultEvent(first)["output"].get<std::string>(),
             Catch::Contains("disconnected before answering"));
  CHECK(proxy.cuts() == 1);
  REQUIRE(wait_registered());

  std::string second = desk.server->Create("desk", Json());
  REQUIRE(desk.server->WaitForStatus(second, "waiting"));
  Json result = desk.ToolResultEvent(second);
  INFO(result.dump());
  CHECK(result["isError"] == false);
  CHECK(result["output"] == Json{{"png", "from-the-desktop"}});

  client.Signal(SIGINT);
  CHECK(client.Wait() == 130);
  std::string log = client.Stderr();
  CHECK_THAT(log, Catch::Contains("serving screenshot"));
  CHECK_THAT(log, Catch::Contains("reconnecting in"));
}
