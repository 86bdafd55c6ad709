// End-to-end: tools through the real binary — `run --tool`, --allow-commands, and a replay of
// a session that used every tool type with no client, no command and no HTTP request.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/support/conformance.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using scaffold::testing::FakeUpstream;
using scaffold::testing::ProcessOptions;
using scaffold::testing::ReadFile;
using scaffold::testing::RunScaffold;
using scaffold::testing::TempDir;

namespace {

// Every tool type: the agent calls the client tool and the files tool; tool phases run the
// command and the http tool.
std::string EveryToolWorkflow(const std::string& upstream) {
  Json wf = Json::parse(R"({
    "scaffold": 1,
    "name": "every-tool",
    "entry": "look",
    "tools": {
      "screenshot": {"type": "client", "input_schema": {"type": "object"}},
      "notes": {"type": "files"},
      "count": {"type": "command", "argv": ["sh", "-c", "echo run >> runs.txt; wc -l < runs.txt"]},
      "fetch": {"type": "http", "url": "URL/data/{{input.id}}", "allow_hosts": ["127.0.0.1"]}
    },
    "agents": {"looker": {"provider": "anthropic", "model": "claude-test", "prompt": "Look.",
                          "tools": ["screenshot", "notes"]}},
    "state": {"runs": null, "fetched": null},
    "phases": {
      "look": {"run": "looker", "next": "count"},
      "count": {"tool": {"name": "count", "input": {}}, "update": {"/runs": {"var": "output.stdout"}},
                "next": "fetch"},
      "fetch": {"tool": {"name": "fetch", "input": {"id": "42"}},
                "update": {"/fetched": {"var": "output.body"}}, "next": "done"},
      "done": {"terminal": true}
    }
  })");
  wf["tools"]["fetch"]["url"] = upstream + "/data/{{input.id}}";
  return wf.dump(2);
}

// The agent: a screenshot first, then a note, then text.
FakeUpstream::Response Agent(const FakeUpstream::Request& req) {
  if (req.path.rfind("/data/", 0) == 0) {
    FakeUpstream::Response r;
    r.headers = {{"Content-Type", "application/json"}};
    r.writes = {{R"({"id": 42, "price": 9.5})"}};
    return r;
  }
  size_t results = 0;
  for (size_t at = req.body.find("tool_result"); at != std::string::npos;
       at = req.body.find("tool_result", at + 1))
    ++results;
  if (results == 0)
    return FakeUpstream::AnthropicToolUse("toolu_1", "screenshot", {{"region", "all"}});
  if (results == 1) {
    return FakeUpstream::AnthropicToolUse(
        "toolu_2", "notes", {{"op", "write"}, {"path", "seen.txt"}, {"content", "a chart"}});
  }
  return FakeUpstream::AnthropicText({"Noted."});
}

const char* kShot = R"(screenshot=cat > request.json; echo '{"output": {"png": "abc"}}')";

}  // namespace

TEST_CASE("a session uses every tool type, then replays with no client, command or request",
          "[cli][tools]") {
  FakeUpstream up;
  up.SetDefault(Agent);
  TempDir dir;
  std::string wf = dir.path() + "/every.json";
  { std::ofstream(wf) << EveryToolWorkflow(up.url()); }
  std::string db = dir.path() + "/s.db";
  ProcessOptions env;
  env.env = {{"ANTHROPIC_BASE_URL", up.url()}, {"ANTHROPIC_API_KEY", "sk-test"}};
  env.cwd = dir.path();

  auto r =
      RunScaffold({"run", wf, "--db", db, "--tool", kShot, "--allow-commands", "--no-color"}, env);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex("session ([0-9a-f-]{36})")));
  std::string id = m[1];
  std::string ws = dir.path() + "/workspaces/_local/" + id;
  CHECK(ReadFile(ws + "/seen.txt") == "a chart");
  CHECK(ReadFile(ws + "/runs.txt") == "run\n");
  // The program got the request on stdin (it runs in the current directory).
  Json request = Json::parse(ReadFile(dir.path() + "/request.json"));
  CHECK(request["toolName"] == "screenshot");
  CHECK(request["input"] == Json{{"region", "all"}});
  CHECK(request["sessionId"] == id);
  auto state = RunScaffold({"state", id, "--db", db}, env);
  CHECK(Json::parse(state.out)["fetched"] == Json{{"id", 42}, {"price", 9.5}});
  size_t requests = up.requests().size();
  REQUIRE(requests == 4);  // three model calls and the http tool

  std::filesystem::remove(dir.path() + "/request.json");
  auto replay = RunScaffold({"replay", id, "--db", db, "--no-color"}, env);
  INFO(replay.out << replay.err);
  CHECK(replay.exit_code == 0);
  CHECK_THAT(replay.out, Catch::Contains("identical"));
  CHECK(up.requests().size() == requests);                             // no model call, no http
  CHECK(ReadFile(ws + "/runs.txt") == "run\n");                        // the command did not run
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/request.json"));  // nor the client program
}

TEST_CASE("command tools need --allow-commands, and --tool must name a client tool",
          "[cli][tools]") {
  FakeUpstream up;
  up.SetDefault(Agent);
  TempDir dir;
  std::string wf = dir.path() + "/every.json";
  { std::ofstream(wf) << EveryToolWorkflow(up.url()); }
  ProcessOptions env;
  env.env = {{"ANTHROPIC_BASE_URL", up.url()}, {"ANTHROPIC_API_KEY", "sk-test"}};
  env.cwd = dir.path();

  auto r =
      RunScaffold({"run", wf, "--db", dir.path() + "/s.db", "--tool", kShot, "--no-color"}, env);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out + r.err, Catch::Contains("--allow-commands"));
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path()))
    CHECK(entry.path().filename() != "runs.txt");

  r = RunScaffold({"run", wf, "--db", dir.path() + "/s.db", "--tool", "fetch=true"}, env);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("declares no client tool \"fetch\""));
  r = RunScaffold({"run", wf, "--db", dir.path() + "/s.db", "--tool", "screenshot"}, env);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("NAME=PROGRAM"));
}
