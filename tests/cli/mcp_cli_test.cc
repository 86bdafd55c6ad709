// End-to-end: MCP servers as workflow tools through the real binary. The fake model calls the
// tools of real servers from npm (tests/mcp, installed by scripts/install-deps --test) and of a
// server of the tests' own that misbehaves on purpose; a replay runs with no server at all.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/support/conformance.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/json_lines.h"
#include "tests/support/node_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using scaffold::testing::FakeUpstream;
using scaffold::testing::NpmScript;
using scaffold::testing::ProcessOptions;
using scaffold::testing::ReadFile;
using scaffold::testing::RunScaffold;
using scaffold::testing::TempDir;

namespace {

std::string McpDir() { return scaffold::testing::McpTestsDir(); }


Json Misbehaving(const std::string& mode) {
  return Json{{"type", "mcp"},
              {"command", {"node", McpDir() + "/misbehaving-server.mjs", mode}}};
}

// How many tool_result blocks the model has been sent: the turn the conversation is at.
size_t Turn(const FakeUpstream::Request& req) {
  size_t n = 0;
  for (size_t at = req.body.find("\"tool_result\""); at != std::string::npos;
       at = req.body.find("\"tool_result\"", at + 1))
    ++n;
  return n;
}

// An agent with `tools`, in one phase, then done.
Json OneAgent(Json tools, Json agent_tools, int max_turns = 8) {
  Json wf = {{"scaffold", 1},
             {"name", "mcp"},
             {"entry", "work"},
             {"tools", std::move(tools)},
             {"agents",
              {{"worker",
                {{"provider", "anthropic"},
                 {"model", "claude-test"},
                 {"prompt", "Work."},
                 {"max_turns", max_turns},
                 {"tools", std::move(agent_tools)}}}}},
             {"phases",
              {{"work", {{"run", "worker"}, {"next", "done"}}}, {"done", {{"terminal", true}}}}}};
  return wf;
}

struct Run {
  std::string id;
  std::vector<Json> events;
  scaffold::testing::ProcessResult result;
};

Run RunWorkflow(const TempDir& dir, const FakeUpstream& up, const Json& wf,
                std::vector<std::string> flags = {"--allow-commands"}) {
  std::string path = dir.path() + "/wf.json";
  { std::ofstream(path) << wf.dump(2); }
  ProcessOptions env;
  env.env = {{"ANTHROPIC_BASE_URL", up.url()}, {"ANTHROPIC_API_KEY", "sk-test"}};
  env.cwd = dir.path();
  std::vector<std::string> args = {"run", path, "--db", dir.path() + "/s.db", "--json"};
  args.insert(args.end(), flags.begin(), flags.end());
  Run run;
  run.result = RunScaffold(args, env);
  run.events = scaffold::testing::ParseJsonLines(run.result.out);
  if (!run.events.empty()) run.id = run.events.front()["payload"].value("sessionId", "");
  return run;
}

std::vector<Json> Named(const std::vector<Json>& events, const std::string& name) {
  std::vector<Json> out;
  for (const auto& e : events)
    if (e.value("name", "") == name) out.push_back(e["payload"]);
  return out;
}

// The tool:result payload of the call whose toolName is `tool`.
Json ResultOf(const std::vector<Json>& events, const std::string& tool) {
  for (const auto& p : Named(events, "tool:result"))
    if (p.value("toolName", "") == tool) return p;
  FAIL("no tool:result for " << tool);
  return {};
}

}  // namespace

TEST_CASE("mcp tools: agents call the reference servers' tools, and a replay starts none",
          "[cli][mcp]") {
  TempDir dir;
  // The everything server through a wrapper that notes each start.
  std::string starts = dir.path() + "/starts.log";
  std::string wrapper = dir.path() + "/everything.sh";
  {
    std::ofstream(wrapper) << "echo started >> '" << starts << "'\nexec node '"
                           << NpmScript("@modelcontextprotocol/server-everything/dist/index.js")
                           << "' stdio\n";
  }
  Json tools = {
      {"every", {{"type", "mcp"}, {"command", {"sh", wrapper}}, {"allow", {"echo"}}}},
      {"fs",
       {{"type", "mcp"},
        {"command",
         {"node", NpmScript("@modelcontextprotocol/server-filesystem/dist/index.js"),
          "{{session.workspace}}"}},
        {"allow", {"write_file", "list_directory"}}}}};
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request& req) {
    switch (Turn(req)) {
      case 0:
        return FakeUpstream::AnthropicToolUse("toolu_1", "every__echo", {{"message", "hello mcp"}});
      case 1:
        return FakeUpstream::AnthropicToolUse(
            "toolu_2", "fs__write_file", {{"path", "note.txt"}, {"content", "written over MCP"}});
      default:
        return FakeUpstream::AnthropicText({"Done."});
    }
  });
  Run run = RunWorkflow(dir, up, OneAgent(tools, {"every", "fs"}));
  INFO(run.result.out << run.result.err);
  REQUIRE(run.result.exit_code == 0);

  // The model was offered exactly the allowed tools, named for it, with the servers' schemas.
  Json first = Json::parse(up.requests().at(0).body);
  std::vector<std::string> offered;
  for (const auto& t : first["tools"]) offered.push_back(t["name"]);
  std::sort(offered.begin(), offered.end());
  CHECK(offered == std::vector<std::string>{"every__echo", "fs__list_directory", "fs__write_file"});
  for (const auto& t : first["tools"]) {
    if (t["name"] == "every__echo") CHECK(t["input_schema"]["required"] == Json::array({"message"}));
  }
  auto listed = Named(run.events, "tool:listed");
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]["tool"] == "every");
  CHECK(listed[0]["tools"][0]["name"] == "echo");
  CHECK(listed[0]["tools"][0]["as"] == "every__echo");

  Json echo = ResultOf(run.events, "every__echo");
  CHECK_FALSE(echo["isError"].get<bool>());
  CHECK_THAT(echo["output"].dump(), Catch::Contains("hello mcp"));
  Json write = ResultOf(run.events, "fs__write_file");
  INFO(write.dump());
  CHECK_FALSE(write["isError"].get<bool>());
  CHECK(ReadFile(dir.path() + "/workspaces/_local/" + run.id + "/note.txt") == "written over MCP");
  CHECK(ReadFile(starts) == "started\n");  // one server per session and entry

  // The replay answers listings and calls from the recording: no server starts, even with the
  // wrapper gone and without --allow-commands.
  std::filesystem::remove(wrapper);
  std::filesystem::remove(dir.path() + "/workspaces/_local/" + run.id + "/note.txt");
  size_t requests = up.requests().size();
  ProcessOptions env;
  env.cwd = dir.path();
  auto replay = RunScaffold({"replay", run.id, "--db", dir.path() + "/s.db", "--no-color"}, env);
  INFO(replay.out << replay.err);
  CHECK(replay.exit_code == 0);
  CHECK_THAT(replay.out, Catch::Contains("identical"));
  CHECK(up.requests().size() == requests);
  CHECK(ReadFile(starts) == "started\n");
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/workspaces/_local/" + run.id + "/note.txt"));
}

TEST_CASE("mcp tools: whatever a server does wrong reaches the agent as a tool error",
          "[cli][mcp]") {
  Json tools = {{"die", Misbehaving("die")},
                {"slow", Misbehaving("slow")},
                {"huge", Misbehaving("huge")},
                {"rich", Misbehaving("rich")},
                {"odd", Misbehaving("badschema")},
                {"gone", {{"type", "mcp"}, {"command", {"/nonexistent/mcp-server"}}}}};
  // Its calls are never answered. The timeout also bounds starting the server and listing its
  // tools, which a loaded test machine can take past half a second for a Node process.
  tools["slow"]["timeout_ms"] = 3000;
  tools["huge"]["max_output_bytes"] = 1000;
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request& req) {
    static const char* kCalls[] = {"die__tool0", "slow__tool0", "huge__tool0", "rich__tool0",
                                   "die__tool0"};
    size_t turn = Turn(req);
    if (turn < 5)
      return FakeUpstream::AnthropicToolUse("toolu_" + std::to_string(turn), kCalls[turn], {{"n", 1}});
    return FakeUpstream::AnthropicText({"Coped."});
  });
  TempDir dir;
  Run run = RunWorkflow(dir, up, OneAgent(tools, {"die", "slow", "huge", "rich", "odd", "gone"}, 10));
  INFO(run.result.out << run.result.err);
  REQUIRE(run.result.exit_code == 0);  // the session completes

  auto results = Named(run.events, "tool:result");
  REQUIRE(results.size() == 5);
  CHECK(results[0]["isError"].get<bool>());  // died mid-call
  CHECK_THAT(results[0]["output"].get<std::string>(),
             Catch::Contains("MCP server \"die\"") &&
                 Catch::Contains("(its stderr ends: panic: the tool broke)"));
  CHECK(results[1]["isError"].get<bool>());
  CHECK_THAT(results[1]["output"].get<std::string>(), Catch::Contains("timeout_ms"));
  CHECK_FALSE(results[2]["isError"].get<bool>());
  std::string huge = results[2]["output"];
  CHECK(huge.size() < 1200);
  CHECK_THAT(huge, Catch::Contains("[output cut at 1000 of 2097152 bytes"));
  std::string rich = results[3]["output"];
  CHECK_THAT(rich, Catch::Contains("a chart and its data"));
  CHECK_THAT(rich, Catch::Contains("[image image/png, 16 bytes, not shown]"));
  CHECK_THAT(rich, Catch::Contains("[resource link: q3.csv <file:///data/q3.csv> text/csv]"));
  CHECK_THAT(rich, Catch::Contains("[resource <file:///data/notes.txt>]\nquarterly notes"));
  // The server that died was started again for the next call, which died too.
  CHECK(results[4]["isError"].get<bool>());

  std::map<std::string, Json> listed;
  for (const auto& p : Named(run.events, "tool:listed")) listed[p["tool"]] = p;
  REQUIRE(listed.size() == 6);
  CHECK(listed["odd"]["tools"].size() == 1);
  CHECK(listed["odd"]["skipped"][0]["name"] == "broken");
  CHECK_THAT(listed["odd"]["skipped"][0]["reason"].get<std::string>(),
             Catch::Contains("input schema is invalid"));
  CHECK(listed["gone"]["tools"].empty());
  CHECK_THAT(listed["gone"]["error"].get<std::string>(), Catch::Contains("/nonexistent/mcp-server"));

  // The replay gets the same errors from the recording.
  auto replay = RunScaffold({"replay", run.id, "--db", dir.path() + "/s.db", "--no-color"});
  INFO(replay.out << replay.err);
  CHECK(replay.exit_code == 0);
  CHECK_THAT(replay.out, Catch::Contains("identical"));
}

TEST_CASE("mcp tools: a server changes its tools and the next agent sees them", "[cli][mcp]") {
  Json wf = OneAgent({{"grow", Misbehaving("changes")}}, {"grow"});
  wf["phases"]["work"]["next"] = "again";
  wf["phases"]["again"] = {{"run", "worker"}, {"next", "done"}};
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request& req) {
    if (Turn(req) == 0) return FakeUpstream::AnthropicToolUse("toolu_a", "grow__tool0", {{"n", 1}});
    return FakeUpstream::AnthropicText({"Grown."});
  });
  TempDir dir;
  Run run = RunWorkflow(dir, up, wf);
  INFO(run.result.out << run.result.err);
  REQUIRE(run.result.exit_code == 0);
  auto listed = Named(run.events, "tool:listed");
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]["tools"].size() == 1);
  CHECK(listed[1]["tools"].size() == 2);  // the second run sees the tool the call added
}

TEST_CASE("mcp tools: servers start only with --allow-commands, and never in playback",
          "[cli][mcp]") {
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request&) { return FakeUpstream::AnthropicText({"Alone."}); });
  TempDir dir;
  Json wf = OneAgent({{"srv", Misbehaving("well")}}, {"srv"});
  Run run = RunWorkflow(dir, up, wf, {});
  INFO(run.result.out << run.result.err);
  REQUIRE(run.result.exit_code == 0);
  auto listed = Named(run.events, "tool:listed");
  REQUIRE(listed.size() == 1);
  CHECK_THAT(listed[0]["error"].get<std::string>(), Catch::Contains("--allow-commands"));
  CHECK_FALSE(Json::parse(up.requests().at(0).body).contains("tools"));

  Run playback = RunWorkflow(dir, up, wf, {"--allow-commands", "--mode", "playback"});
  INFO(playback.result.out << playback.result.err);
  auto again = Named(playback.events, "tool:listed");
  REQUIRE(again.size() == 1);
  CHECK_THAT(again[0]["error"].get<std::string>(), Catch::Contains("playback"));
}

TEST_CASE("mcp tools: a server over Streamable HTTP at an allow-listed host, no --allow-commands",
          "[cli][mcp]") {
  auto server = std::make_unique<scaffold::testing::NodeServer>(
      std::vector<std::string>{McpDir() + "/http-everything.mjs"});
  Json tools = {{"web",
                 {{"type", "mcp"},
                  {"url", server->url()},
                  {"allow_hosts", {"127.0.0.1"}},
                  {"headers", {{"X-Session", "{{session.id}}"}}},
                  {"allow", {"echo"}}}},
                {"elsewhere",
                 {{"type", "mcp"}, {"url", "http://{{env.NO_SUCH_HOST}}x.example/mcp"},
                  {"allow_hosts", {"127.0.0.1"}}}}};
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request& req) {
    if (Turn(req) == 0)
      return FakeUpstream::AnthropicToolUse("toolu_h", "web__echo", {{"message", "via http"}});
    return FakeUpstream::AnthropicText({"Done."});
  });
  TempDir dir;
  Run run = RunWorkflow(dir, up, OneAgent(tools, {"web", "elsewhere"}), {});
  INFO(run.result.out << run.result.err);
  REQUIRE(run.result.exit_code == 0);
  Json echo = ResultOf(run.events, "web__echo");
  CHECK_FALSE(echo["isError"].get<bool>());
  CHECK_THAT(echo["output"].dump(), Catch::Contains("via http"));
  std::map<std::string, Json> listed;
  for (const auto& p : Named(run.events, "tool:listed")) listed[p["tool"]] = p;
  CHECK(listed["web"]["tools"].size() == 1);
  CHECK_THAT(listed["elsewhere"]["error"].get<std::string>(),
             Catch::Contains("not in tool \"elsewhere\"'s allow_hosts"));

  server.reset();  // the replay needs no server
  auto replay = RunScaffold({"replay", run.id, "--db", dir.path() + "/s.db", "--no-color"});
  INFO(replay.out << replay.err);
  CHECK(replay.exit_code == 0);
  CHECK_THAT(replay.out, Catch::Contains("identical"));
}

TEST_CASE("mcp tools: a server built on the SDK's second major version", "[cli][mcp]") {
  Json tools = {{"v2", {{"type", "mcp"}, {"command", {"node", McpDir() + "/sdk2-server.mjs"}}}}};
  if (!std::filesystem::exists(McpDir() + "/node_modules/@modelcontextprotocol/server"))
    FAIL("missing @modelcontextprotocol/server: scripts/install-deps --test (npm ci in tests/mcp)");
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request& req) {
    if (Turn(req) == 0)
      return FakeUpstream::AnthropicToolUse("toolu_v2", "v2__shout", {{"text", "quiet please"}});
    return FakeUpstream::AnthropicText({"Shouted."});
  });
  TempDir dir;
  Run run = RunWorkflow(dir, up, OneAgent(tools, {"v2"}));
  INFO(run.result.out << run.result.err);
  REQUIRE(run.result.exit_code == 0);
  auto listed = Named(run.events, "tool:listed");
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["tools"].size() == 1);  // its input schema (JSON Schema 2020-12) compiles
  Json shout = ResultOf(run.events, "v2__shout");
  CHECK_FALSE(shout["isError"].get<bool>());
  CHECK(shout["output"] == "QUIET PLEASE");
}
