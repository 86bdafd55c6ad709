// End-to-end: the real binary talking to the fake upstream over HTTP.

#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/conformance.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using scaffold::testing::BackgroundProcess;
using scaffold::testing::FakeUpstream;
using scaffold::testing::ProcessOptions;
using scaffold::testing::RunScaffold;
using scaffold::testing::TempDir;

namespace {

constexpr const char* kSecret = "sk-ant-test-DO-NOT-LEAK-7f3a9c";

std::string Example(const std::string& name) {
  return std::string(SCAFFOLD_SOURCE_DIR) + "/examples/" + name;
}

ProcessOptions AnthropicEnv(const FakeUpstream& up) {
  ProcessOptions o;
  o.env = {{"ANTHROPIC_BASE_URL", up.url()}, {"ANTHROPIC_API_KEY", kSecret}};
  return o;
}

// Answers the ticket-triage agents by their system prompt.
FakeUpstream::Response Triage(const FakeUpstream::Request& req) {
  std::string system = req.json().value("system", "");
  if (system.find("You label") != std::string::npos) {
    return FakeUpstream::AnthropicToolUse("toolu_1", "respond",
                                          {{"category", "billing"}, {"urgency", "high"}});
  }
  return FakeUpstream::AnthropicText({"Hello! ", "We have refunded ", "the double charge."}, 120,
                                     40);
}

std::string ReadAll(const std::string& dir) {
  std::string all;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.is_regular_file()) all += scaffold::testing::ReadFile(f.path().string());
  }
  return all;
}

}  // namespace

TEST_CASE("run talks to the Anthropic API: streams, structured output, cost, and no key leaks",
          "[cli][provider]") {
  FakeUpstream up;
  up.SetDefault(Triage);
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  auto r = RunScaffold({"run", Example("ticket-triage.json"), "--input",
                        "I was charged twice this month.", "--answer", "review=yes", "--db", db},
                       AnthropicEnv(up));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("writer › Hello! We have refunded the double charge."));
  CHECK_THAT(r.out, Catch::Contains("state /category = \"billing\""));
  CHECK_THAT(r.out, Catch::Contains("2 agent calls"));
  CHECK_THAT(r.out,
             Catch::Contains("$0."));  // priced: claude-haiku-4-5 and claude-sonnet-4-5 are known
  auto requests = up.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].json()["model"] == "claude-haiku-4-5");
  CHECK(requests[0].json()["tool_choice"]["name"] == "respond");
  CHECK(requests[1].json()["messages"][0]["content"][0]["text"].get<std::string>().find(
            "high-urgency billing") != std::string::npos);
  // The key went to the API and nowhere else.
  CHECK(requests[0].headers["x-api-key"] == kSecret);
  CHECK(r.out.find(kSecret) == std::string::npos);
  CHECK(r.err.find(kSecret) == std::string::npos);
  CHECK(ReadAll(dir.path()).find(kSecret) == std::string::npos);
  auto json = RunScaffold(
      {"events", "--json",
       RunScaffold({"sessions", "list", "--json", "--db", db}).out.substr(14, 36), "--db", db});
  CHECK(json.out.find(kSecret) == std::string::npos);
}

TEST_CASE("a missing API key is refused before anything runs, naming the variable",
          "[cli][provider]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  ProcessOptions o;
  o.env = {{"ANTHROPIC_BASE_URL", "https://api.anthropic.com"}};
  auto r = RunScaffold({"run", Example("ticket-triage.json"), "--input", "x", "--db", db}, o);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err,
             Catch::Contains("provider \"anthropic\" needs an API key: set ANTHROPIC_API_KEY"));
  CHECK_FALSE(std::filesystem::exists(db));

  // A local server needs none.
  FakeUpstream up;
  up.Push(FakeUpstream::OpenAiText({"four"}));
  ProcessOptions local;
  local.env = {{"OPENAI_BASE_URL", up.url() + "/v1"}};
  std::string wf = dir.path() + "/one.json";
  std::ofstream(wf) << R"({"scaffold": 1, "name": "one", "state": {"a": ""},
    "agents": {"q": {"provider": "openai", "model": "llama3", "prompt": "2+2?", "update": {"/a": {"var": "output"}}}},
    "phases": {"ask": {"run": "q", "next": "done"}, "done": {"terminal": true, "result": {"var": "state.a"}}}})";
  auto ok = RunScaffold({"run", wf, "--db", db, "--quiet"}, local);
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains("result four"));
  CHECK_THAT(ok.out, Catch::Contains("no price for llama3"));
  CHECK(up.requests().at(0).headers.count("authorization") == 0);
}

TEST_CASE("every agent goes to another API with --provider and --model", "[cli][provider]") {
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request& req) {
    bool structured = req.json().contains("response_format");
    if (structured)
      return FakeUpstream::OpenAiText({"{\"category\": \"bug\", \"urgency\": \"low\"}"});
    return FakeUpstream::OpenAiText({"Thanks for the report."});
  });
  TempDir dir;
  ProcessOptions o;
  o.env = {{"OPENAI_BASE_URL", up.url() + "/v1"}, {"OPENAI_API_KEY", kSecret}};
  auto r = RunScaffold(
      {"run", Example("ticket-triage.json"), "--input", "The app crashes.", "--provider", "openai",
       "--model", "gpt-4o-mini", "--answer", "review=yes", "--db", dir.path() + "/s.db"},
      o);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("state /category = \"bug\""));
  for (const auto& req : up.requests()) {
    CHECK(req.path == "/v1/chat/completions");
    CHECK(req.json()["model"] == "gpt-4o-mini");
  }
}

TEST_CASE("a rate-limited call is retried and the retry is shown", "[cli][provider]") {
  FakeUpstream up;
  up.Push(FakeUpstream::Error(429,
                              {{"error", {{"type", "rate_limit_error"}, {"message", "slow down"}}}},
                              {{"retry-after", "0"}}));
  up.SetDefault(Triage);
  TempDir dir;
  auto r = RunScaffold({"run", Example("ticket-triage.json"), "--input", "refund please",
                        "--answer", "review=yes", "--db", dir.path() + "/s.db", "--json"},
                       AnthropicEnv(up));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(
      r.out,
      Catch::Contains(
          R"("name":"agent:retry","payload":{"agent":"classifier","attempt":1,"delayMs":0,)"));
  CHECK_THAT(r.out, Catch::Contains("anthropic returned HTTP 429: slow down"));
}

TEST_CASE("a stream that breaks after output began is retried from the start, visibly",
          "[cli][provider]") {
  FakeUpstream up;
  up.Push(FakeUpstream::AnthropicToolUse("toolu_1", "respond",
                                         {{"category", "bug"}, {"urgency", "low"}}));
  auto broken = FakeUpstream::AnthropicText({"Hel", "lo wor", "ld"});
  broken.writes.resize(5);  // start, block start, ping, two deltas
  broken.drop = true;
  up.Push(broken);
  up.Push(FakeUpstream::AnthropicText({"Hello ", "world"}));
  TempDir dir;
  auto r = RunScaffold({"run", Example("ticket-triage.json"), "--input", "crash", "--answer",
                        "review=yes", "--json", "--db", dir.path() + "/s.db"},
                       AnthropicEnv(up));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> writer;  // the writer's text deltas, retries and completion, in order
  for (size_t start = 0; start < r.out.size();) {
    size_t nl = r.out.find('\n', start);
    Json e = Json::parse(r.out.substr(start, nl - start));
    start = nl + 1;
    if (e["payload"].value("agent", "") != "writer") continue;
    if (e["name"] == "text:delta") writer.push_back(e["payload"]["delta"]);
    if (e["name"] == "agent:retry")
      writer.push_back("<retry " + e["payload"]["reason"].get<std::string>() + ">");
    if (e["name"] == "agent:completed")
      writer.push_back("<output " + e["payload"]["output"].get<std::string>() + ">");
  }
  CHECK(writer == std::vector<std::string>{"Hel", "lo wor", "<retry server_error>", "Hello ",
                                           "world", "<output Hello world>"});
}

TEST_CASE("a session whose provider keeps failing fails with the provider's error",
          "[cli][provider]") {
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request&) {
    return FakeUpstream::Error(
        400, {{"error", {{"type", "invalid_request_error"}, {"message", "max_tokens too large"}}}});
  });
  TempDir dir;
  auto r = RunScaffold({"run", Example("research-brief.json"), "--input", "Should we?", "--db",
                        dir.path() + "/s.db"},
                       AnthropicEnv(up));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("✗ provider_error"));
  CHECK_THAT(r.out, Catch::Contains("max_tokens too large"));
  CHECK_THAT(r.err, Catch::Contains("scaffold fork"));
}

TEST_CASE("Ctrl-C during a stream aborts the transfer at once and pauses",
          "[cli][provider][slow]") {
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request&) {
    auto r = FakeUpstream::AnthropicText({"thinking about it"});
    r.writes.resize(4);
    r.stall_ms = 30000;
    return r;
  });
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  ProcessOptions o = AnthropicEnv(up);
  BackgroundProcess p(
      {"run", Example("research-brief.json"), "--input", "Is it?", "--json", "--db", db}, o);
  std::string line;
  int deltas = 0;
  while (deltas < 2 && p.ReadLine(&line, 10000)) {
    if (Json::parse(line)["name"] == "text:delta") ++deltas;
  }
  REQUIRE(deltas == 2);  // both parallel agents are streaming
  auto start = std::chrono::steady_clock::now();
  p.Signal(SIGINT);
  CHECK(p.Wait(10000) == 130);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  for (int i = 0; i < 100 && up.abandoned() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(up.abandoned() == 2);
}
