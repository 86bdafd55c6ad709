// Recording and replay, end to end: the real binary, the fake upstream, real files.

#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/support/conformance.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using scaffold::testing::BackgroundProcess;
using scaffold::testing::FakeUpstream;
using scaffold::testing::ProcessOptions;
using scaffold::testing::ProcessResult;
using scaffold::testing::RunScaffold;
using scaffold::testing::TempDir;

namespace {

std::string Example(const std::string& name) { return std::string(SCAFFOLD_SOURCE_DIR) + "/examples/" + name; }

ProcessOptions Env(const FakeUpstream& up) {
  ProcessOptions o;
  o.env = {{"ANTHROPIC_BASE_URL", up.url()}, {"ANTHROPIC_API_KEY", "sk-test-key"}};
  return o;
}

// Nothing listens here: a replay that tried the network would fail.
ProcessOptions Offline() {
  ProcessOptions o;
  o.env = {{"ANTHROPIC_BASE_URL", "http://127.0.0.1:1"}};
  return o;
}

FakeUpstream::Response Triage(const FakeUpstream::Request& req) {
  std::string system = req.json().value("system", "");
  if (system.find("You label") != std::string::npos) {
    return FakeUpstream::AnthropicToolUse("toolu_1", "respond", {{"category", "billing"}, {"urgency", "high"}});
  }
  return FakeUpstream::AnthropicText({"Hello! ", "We refunded ", "the charge."}, 120, 40);
}

// Runs and returns the session id (from the first NDJSON event).
std::string Record(const std::vector<std::string>& args, const ProcessOptions& o, ProcessResult* result = nullptr) {
  std::vector<std::string> full = args;
  full.push_back("--json");
  auto r = RunScaffold(full, o);
  INFO(r.err);
  if (result) *result = r;
  REQUIRE(!r.out.empty());
  return Json::parse(r.out.substr(0, r.out.find('\n')))["payload"]["sessionId"];
}

std::string Contents(const std::string& dir) {
  std::string all;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.is_regular_file()) all += scaffold::testing::ReadFile(f.path().string());
  }
  return all;
}

// A copy of an example with `from` replaced by `to`.
std::string Changed(const TempDir& dir, const std::string& example, const std::string& from, const std::string& to) {
  std::string text = scaffold::testing::ReadFile(Example(example));
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  std::string path = dir.path() + "/changed-" + example;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("a recorded session replays identically with the upstream gone, from the database and from a file",
          "[replay]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  std::string id;
  {
    FakeUpstream up;
    up.Push(FakeUpstream::Error(429, {{"error", {{"message", "slow down"}}}}, {{"retry-after", "0"}}));
    up.SetDefault(Triage);
    id = Record({"run", Example("ticket-triage.json"), "--input", "charged twice", "--answer", "review=yes", "--db", db},
                Env(up));
    CHECK(up.requests().size() == 3);
  }  // the upstream is gone
  auto replay = RunScaffold({"replay", id, "--db", db, "--quiet"}, Offline());
  INFO(replay.out << replay.err);
  CHECK(replay.exit_code == 0);
  std::regex verdict(R"(identical: \d+ events, 3 exchanges)");
  CHECK(std::regex_search(replay.out, verdict));

  std::string file = dir.path() + "/run.jsonl";
  REQUIRE(RunScaffold({"sessions", "export", id, "-o", file, "--db", db}).exit_code == 0);
  auto from_file = RunScaffold({"replay", file}, Offline());
  CHECK(from_file.exit_code == 0);
  CHECK_THAT(from_file.out, Catch::Contains("writer › Hello! We refunded the charge."));  // rendered as it replays
  CHECK(std::regex_search(from_file.out, verdict));

  ProcessOptions elsewhere = Offline();
  elsewhere.env["TZ"] = "Asia/Kolkata";
  elsewhere.env["LC_ALL"] = "C";
  elsewhere.env["LANG"] = "C";
  auto portable = RunScaffold({"replay", file, "--quiet"}, elsewhere);
  CHECK(portable.exit_code == 0);
  CHECK(std::regex_search(portable.out, verdict));

  auto json = RunScaffold({"replay", file, "--json"}, Offline());
  CHECK(json.exit_code == 0);
  Json report = Json::parse(json.out);
  CHECK(report["result"] == "identical");
  CHECK(report["exchanges"] == 3);
  CHECK(report["sessionId"] == id);
}

TEST_CASE("every recording shipped in examples/ replays identically", "[replay]") {
  int checked = 0;
  for (const auto& f : std::filesystem::directory_iterator(std::string(SCAFFOLD_SOURCE_DIR) + "/examples/recordings")) {
    if (f.path().extension() != ".jsonl") continue;
    auto r = RunScaffold({"replay", f.path().string(), "--quiet"}, Offline());
    INFO(f.path() << "\n" << r.out << r.err << "\n(re-record with scripts/record-examples if the change is intended)");
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("identical:"));
    ++checked;
  }
  CHECK(checked == 3);
}

TEST_CASE("a run on another provider and model replays on them", "[replay]") {

  TempDir dir;
  std::string db = dir.path() + "/s.db";
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request& req) {
    if (req.json().contains("response_format")) {
      return FakeUpstream::OpenAiText({"{\"category\": \"bug\", \"urgency\": \"low\"}"});
    }
    return FakeUpstream::OpenAiText({"Thanks!"});
  });
  ProcessOptions o;
  o.env = {{"OPENAI_BASE_URL", up.url() + "/v1"}, {"OPENAI_API_KEY", "k"}};
  std::string id = Record({"run", Example("ticket-triage.json"), "--input", "crash", "--answer", "review=yes",
                           "--provider", "openai", "--model", "gpt-4o-mini", "--db", db},
                          o);
  auto r = RunScaffold({"replay", id, "--db", db, "--quiet"}, Offline());
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("identical:"));
}

TEST_CASE("playback mode answers from recordings and never opens a connection", "[replay]") {

  TempDir dir;
  std::string db = dir.path() + "/s.db";
  FakeUpstream up;
  up.SetDefault(Triage);
  Record({"run", Example("ticket-triage.json"), "--input", "charged twice", "--answer", "review=yes", "--db", db}, Env(up));
  size_t before = up.requests().size();

  ProcessOptions no_key;
  no_key.env = {{"ANTHROPIC_BASE_URL", up.url()}};
  auto again = RunScaffold({"run", Example("ticket-triage.json"), "--input", "charged twice", "--answer", "review=yes",
                            "--mode", "playback", "--db", db},
                           no_key);
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("writer › Hello! We refunded the charge."));
  CHECK(up.requests().size() == before);
  CHECK(up.open_connections() == 0);

  auto other = RunScaffold({"run", Example("ticket-triage.json"), "--input", "lost my password", "--answer",
                            "review=yes", "--mode", "playback", "--db", db},
                           no_key);
  CHECK(other.exit_code == 4);
  CHECK_THAT(other.out, Catch::Contains("no recorded exchange for this request"));
  CHECK_THAT(other.out, Catch::Contains("/messages/0/content/0/text"));
  CHECK(up.requests().size() == before);

  auto auto_mode = RunScaffold({"run", Example("ticket-triage.json"), "--input", "lost my password", "--answer",
                                "review=yes", "--mode", "auto", "--db", db},
                               Env(up));
  CHECK(auto_mode.exit_code == 0);
  CHECK(up.requests().size() == before + 2);
}

TEST_CASE("a changed prompt replays as a missing exchange with a field diff", "[replay]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  FakeUpstream up;
  up.SetDefault(Triage);
  std::string id =
      Record({"run", Example("ticket-triage.json"), "--input", "charged twice", "--answer", "review=yes", "--db", db},
             Env(up));
  std::string changed = Changed(dir, "ticket-triage.json", "Write a reply to this", "Please write a reply to this");
  auto r = RunScaffold({"replay", id, "--workflow", changed, "--db", db, "--quiet"}, Offline());
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.out, Catch::Contains("missing exchange: agent \"writer\": no recorded exchange for this request"));
  CHECK_THAT(r.out, Catch::Contains(R"(/messages/0/content/0/text: "Write a reply to this high-urgency billing)"));
  CHECK_THAT(r.out, Catch::Contains(R"(→ "Please write a reply to this high-urgency billing)"));

  auto json = RunScaffold({"replay", id, "--workflow", changed, "--db", db, "--json"}, Offline());
  CHECK(json.exit_code == 4);
  Json report = Json::parse(json.out);
  CHECK(report["result"] == "missing_exchange");
  CHECK(report["missing"]["agent"] == "writer");
  CHECK(report["missing"]["diff"][0]["path"] == "/messages/0/content/0/text");

  // From a recording file (its exchanges looked up in the file's text): the same report.
  std::string file = dir.path() + "/run.jsonl";
  REQUIRE(RunScaffold({"sessions", "export", id, "-o", file, "--db", db}).exit_code == 0);
  auto from_file = RunScaffold({"replay", file, "--workflow", changed, "--json"}, Offline());
  CHECK(from_file.exit_code == 4);
  CHECK(Json::parse(from_file.out) == report);
}

TEST_CASE("changed update or branching logic replays as a divergence", "[replay]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  FakeUpstream up;
  up.SetDefault(Triage);
  std::string id =
      Record({"run", Example("ticket-triage.json"), "--input", "charged twice", "--answer", "review=yes", "--db", db},
             Env(up));

  std::string update = Changed(dir, "ticket-triage.json", R"("/rounds": {"+": [{"var": "state.rounds"}, 1]})",
                               R"("/rounds": {"+": [{"var": "state.rounds"}, 2]})");
  auto r = RunScaffold({"replay", id, "--workflow", update, "--db", db, "--quiet"}, Offline());
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.out, Catch::Contains("diverged at recorded event"));
  CHECK_THAT(r.out, Catch::Contains("(state:intent, phase \"draft\")"));
  CHECK_THAT(r.out, Catch::Contains("/payload/patches/1/value: 1 → 2"));
  CHECK_THAT(r.out, Catch::Contains("before it, in the recording:"));
  auto json = RunScaffold({"replay", id, "--workflow", update, "--db", db, "--json"}, Offline());
  Json report = Json::parse(json.out);
  CHECK(report["result"] == "diverged");
  CHECK(report["divergence"]["path"] == "/payload/patches/1/value");
  CHECK(report["divergence"]["event"] == "state:intent");
  // From a recording file (events compared from its text, parsed only where they differ): the
  // same report.
  std::string file = dir.path() + "/run.jsonl";
  REQUIRE(RunScaffold({"sessions", "export", id, "-o", file, "--db", db}).exit_code == 0);
  auto from_file = RunScaffold({"replay", file, "--workflow", update, "--json"}, Offline());
  CHECK(from_file.exit_code == 3);
  CHECK(Json::parse(from_file.out) == report);

  std::string branch = Changed(dir, "ticket-triage.json", R"("classify": {"run": "classifier", "next": "draft"})",
                               R"("classify": {"run": "classifier", "next": {"if": [{"==": [{"var": "state.category"},
                                  "billing"]}, "done", "draft"]}})");
  auto b = RunScaffold({"replay", id, "--workflow", branch, "--db", db, "--quiet"}, Offline());
  CHECK(b.exit_code == 3);
  CHECK_THAT(b.out, Catch::Contains("/payload/next: \"draft\" → \"done\""));
}

TEST_CASE("parallel branches that finish in another order on replay still match", "[replay]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request& req) {
    std::string system = req.json().value("system", "");
    if (system.find("FOR a position") != std::string::npos) {
      auto r = FakeUpstream::AnthropicText({"pro one. ", "pro two."});
      for (auto& w : r.writes) w.delay_ms = 40;  // the advocate is slow
      return r;
    }
    if (system.find("AGAINST") != std::string::npos) return FakeUpstream::AnthropicText({"con one. ", "con two."});
    return FakeUpstream::AnthropicText({"Brief: do it carefully."});
  });
  ProcessResult run;
  std::string id = Record({"run", Example("research-brief.json"), "--input", "Should we?", "--db", db}, Env(up), &run);
  // The skeptic finished first when recorded.
  size_t skeptic = run.out.find(R"("name":"agent:completed","payload":{"agent":"skeptic")");
  size_t advocate = run.out.find(R"("name":"agent:completed","payload":{"agent":"advocate")");
  REQUIRE(skeptic != std::string::npos);
  REQUIRE(advocate != std::string::npos);
  CHECK(skeptic < advocate);
  // The replay plays both back at once, the advocate's first: another order, the same events.
  auto r = RunScaffold({"replay", id, "--db", db, "--json"}, Offline());
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(Json::parse(r.out)["result"] == "identical");
}

TEST_CASE("a session interrupted and resumed replays like one that ran straight through", "[replay][slow]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  FakeUpstream up;
  std::atomic<bool> stall{true};
  up.SetDefault([&](const FakeUpstream::Request& req) {
    std::string system = req.json().value("system", "");
    if (system.find("write short") != std::string::npos && stall) {
      auto r = FakeUpstream::AnthropicText({"Hel", "lo"});
      r.writes.resize(4);
      r.stall_ms = 30000;
      return r;
    }
    return Triage(req);
  });
  std::string id;
  {
    BackgroundProcess p({"run", Example("ticket-triage.json"), "--input", "charged twice", "--answer", "review=yes",
                         "--json", "--db", db},
                        Env(up));
    std::string line;
    while (p.ReadLine(&line, 10000)) {
      Json e = Json::parse(line);
      id = e["payload"].value("sessionId", id);
      if (e["name"] == "text:delta") break;
    }
    p.Signal(SIGINT);
    CHECK(p.Wait() == 130);
  }
  stall = false;
  auto resumed = RunScaffold({"resume", id, "--answer", "review=yes", "--db", db}, Env(up));
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  auto r = RunScaffold({"replay", id, "--db", db, "--quiet"}, Offline());
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("identical:"));
}

TEST_CASE("redacted secrets appear nowhere in the database or the export, and the replay still matches",
          "[replay]") {
  const std::string secret = "sk-live-9f8e7d6c5b4a";
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  FakeUpstream up;
  up.SetDefault([&](const FakeUpstream::Request& req) {
    std::string system = req.json().value("system", "");
    if (system.find("You label") != std::string::npos) {
      return FakeUpstream::AnthropicToolUse("toolu_1", "respond", {{"category", "account"}, {"urgency", "high"}});
    }
    return FakeUpstream::AnthropicText({"Please rotate the key " + secret + " today."});
  });
  std::string id = Record({"run", Example("ticket-triage.json"), "--input", "my key " + secret + " leaked",
                           "--answer", "review=yes", "--redact", "sk-live-[0-9a-f]+", "--db", db},
                          Env(up));
  // The provider saw the real value: the run used it.
  CHECK(up.requests().at(0).body.find(secret) != std::string::npos);
  std::string file = dir.path() + "/run.jsonl";
  REQUIRE(RunScaffold({"sessions", "export", id, "-o", file, "--db", db}).exit_code == 0);
  std::string stored = Contents(dir.path());
  CHECK(stored.find(secret) == std::string::npos);
  CHECK(stored.find("[REDACTED]") != std::string::npos);
  auto r = RunScaffold({"replay", file, "--quiet"}, Offline());
  INFO(r.out);
  CHECK(r.exit_code == 0);
}

TEST_CASE("export, import, export gives the same bytes", "[replay]") {
  TempDir dir;
  FakeUpstream up;
  up.SetDefault(Triage);
  std::string id = Record({"run", Example("ticket-triage.json"), "--input", "charged twice", "--answer", "review=yes",
                           "--db", dir.path() + "/a.db"},
                          Env(up));
  std::string first = dir.path() + "/first.jsonl", second = dir.path() + "/second.jsonl";
  REQUIRE(RunScaffold({"sessions", "export", id, "-o", first, "--db", dir.path() + "/a.db"}).exit_code == 0);
  auto imported = RunScaffold({"sessions", "import", first, "--db", dir.path() + "/b.db"});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  CHECK_THAT(imported.out, Catch::Contains("imported session " + id));
  REQUIRE(RunScaffold({"sessions", "export", id, "-o", second, "--db", dir.path() + "/b.db"}).exit_code == 0);
  CHECK(scaffold::testing::ReadFile(first) == scaffold::testing::ReadFile(second));
  auto again = RunScaffold({"sessions", "import", first, "--db", dir.path() + "/b.db"});
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Catch::Contains("is already in"));
}

TEST_CASE("truncated and corrupted recording files are refused with the line and import nothing", "[replay]") {
  TempDir dir;
  FakeUpstream up;
  up.SetDefault(Triage);
  std::string id = Record({"run", Example("ticket-triage.json"), "--input", "charged twice", "--answer", "review=yes",
                           "--db", dir.path() + "/a.db"},
                          Env(up));
  std::string good = dir.path() + "/good.jsonl";
  REQUIRE(RunScaffold({"sessions", "export", id, "-o", good, "--db", dir.path() + "/a.db"}).exit_code == 0);
  std::vector<std::string> lines;
  {
    std::ifstream in(good);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  auto write = [&](const std::string& name, const std::vector<std::string>& content) {
    std::string path = dir.path() + "/" + name;
    std::ofstream out(path);
    for (const auto& l : content) out << l << "\n";
    return path;
  };
  std::string db = dir.path() + "/target.db";
  auto check_refused = [&](const std::string& path, const std::string& message) {
    auto r = RunScaffold({"sessions", "import", path, "--db", db});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(message));
    CHECK_THAT(r.err, Catch::Contains("nothing was imported"));
    auto replay = RunScaffold({"replay", path, "--quiet"}, Offline());
    CHECK(replay.exit_code == 2);
  };

  std::vector<std::string> truncated(lines.begin(), lines.end() - 5);
  check_refused(write("truncated.jsonl", truncated),
                "line " + std::to_string(truncated.size()) + ": the file ends without its end line");

  std::vector<std::string> edited = lines;
  size_t at = edited[10].find("\"payload\"");
  REQUIRE(at != std::string::npos);
  edited[10].insert(at, "\"x\":1,");
  check_refused(write("edited.jsonl", edited), "line " + std::to_string(edited.size()) + ": checksum mismatch");

  std::vector<std::string> broken = lines;
  broken[7] = broken[7].substr(0, broken[7].size() / 2);
  check_refused(write("broken.jsonl", broken), "line 8: not valid JSON");

  check_refused(write("foreign.jsonl", {"{\"hello\": 1}"}), "line 1: not a scaffold recording");
  auto list = RunScaffold({"sessions", "list", "--json", "--db", db});
  CHECK(list.out.empty());
}
