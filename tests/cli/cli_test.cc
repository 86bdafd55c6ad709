// End-to-end tests: the real scaffold binary, a real database file, real signals.

#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "recordings/sqlite/sqlite_store.h"
#include "tests/support/conformance.h"
#include "tests/support/json_lines.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using scaffold::testing::BackgroundProcess;
using scaffold::testing::ProcessOptions;
using scaffold::testing::RunScaffold;
using scaffold::testing::TempDir;

namespace {

std::string DataFile(const std::string& name) {
  return std::string(SCAFFOLD_SOURCE_DIR) + "/tests/cli/data/" + name;
}
std::string Example(const std::string& name) {
  return std::string(SCAFFOLD_SOURCE_DIR) + "/examples/" + name;
}

std::vector<Json> ParseLines(const std::string& text) {
  return scaffold::testing::ParseJsonLines(text);
}

std::vector<scaffold::engine::EventPtr> StoredEvents(const std::string& db, const std::string& id) {
  auto store = scaffold::recordings::SqliteStore::Open(db);
  REQUIRE(store.ok());
  auto events = (*store)->ReadEvents(id, 0, 10000000);
  REQUIRE(events.ok());
  return *events;
}

void CheckContiguous(const std::vector<scaffold::engine::EventPtr>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    INFO("event " << i);
    REQUIRE(events[i]->position == static_cast<int64_t>(i + 1));
  }
}

}  // namespace

TEST_CASE("scaffold --version prints the version", "[cli]") {
  auto r = RunScaffold({"--version"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("scaffold 0."));

  // Answered before the parser is built, it still reports a version it could not write.
  scaffold::testing::ProcessOptions full;
  full.program = "/bin/sh";
  auto unwritten = RunScaffold(
      {"-c", "exec \"$0\" --version >/dev/full", scaffold::testing::ScaffoldBinary()}, full);
  CHECK(unwritten.exit_code == 1);
  CHECK_THAT(unwritten.err, Catch::Contains("cannot write to stdout"));
}

TEST_CASE("libcrypto is opened only by a command that hashes", "[cli]") {
  // LD_DEBUG=files has the dynamic loader name every library it opens, on stderr.
  scaffold::testing::ProcessOptions debug;
  debug.env["LD_DEBUG"] = "files";
  auto version = RunScaffold({"--version"}, debug);
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.err, !Catch::Contains("libcrypto") && !Catch::Contains("libcurl"));
  auto validate = RunScaffold({"validate", Example("ticket-triage.json")}, debug);
  CHECK(validate.exit_code == 0);
  CHECK_THAT(validate.err, !Catch::Contains("libcrypto"));
  // A recording file's checksum is checked with libcrypto, opened then.
  auto replay = RunScaffold({"replay", Example("recordings/ticket-triage.jsonl")}, debug);
  CHECK(replay.exit_code == 0);
  CHECK_THAT(replay.err, Catch::Contains("libcrypto.so.3"));
}

TEST_CASE("--help lists every command, and each command's --help its own options", "[cli]") {
  // Only the command being run is built in full: the others must still be listed and usable.
  auto top = RunScaffold({"--help"});
  CHECK(top.exit_code == 0);
  for (const char* name : {"run", "validate", "replay", "serve", "attach", "client", "resume",
                           "fork", "sessions", "events", "state"}) {
    CHECK_THAT(top.out, Catch::Contains(std::string("\n  ") + name + " "));
  }
  CHECK_THAT(RunScaffold({"serve", "--help"}).out, Catch::Contains("--max-running"));
  CHECK_THAT(RunScaffold({"sessions", "export", "--help"}).out, Catch::Contains("--output"));
  CHECK_THAT(RunScaffold({"replay", "--help"}).out, Catch::Contains("SESSION_OR_FILE"));
  auto unknown = RunScaffold({"bogus"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown command \"bogus\"; see scaffold --help"));
  auto typo = RunScaffold({"valdate", "x.json"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Catch::Contains("unknown command \"valdate\" (did you mean \"validate\"?)"));
  auto missing = RunScaffold({"validate"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("FILE is required"));
}

TEST_CASE("every example workflow validates", "[cli]") {
  int checked = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(SCAFFOLD_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".json") continue;
    auto r = RunScaffold({"validate", entry.path().string()});
    INFO(entry.path() << "\n" << r.err);
    CHECK(r.exit_code == 0);
    ++checked;
  }
  CHECK(checked >= 1);
}

TEST_CASE("run --json prints NDJSON events and nothing else", "[cli]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  auto r = RunScaffold({"run", Example("release-checklist.json"), "--input", "1.4.0", "--answer",
                        "signoff=yes", "--json", "--db", db});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto lines = ParseLines(r.out);
  REQUIRE(lines.size() > 10);
  for (size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i]["position"] == static_cast<int64_t>(i + 1));
    CHECK(lines[i]["id"].get<std::string>().size() == 36);
    CHECK(lines[i].contains("timestamp"));
  }
  CHECK(lines.front()["name"] == "workflow:started");
  CHECK(lines.back()["name"] == "workflow:completed");
  CHECK(lines.back()["payload"]["result"] == "Go: minor release 1.4.0 with 4 steps.");
  // What was printed is exactly what was stored.
  auto stored = StoredEvents(db, lines.front()["payload"]["sessionId"]);
  REQUIRE(stored.size() == lines.size());
  for (size_t i = 0; i < stored.size(); ++i) CHECK(Json::parse(stored[i]->wire) == lines[i]);
}

TEST_CASE("run renders phases, state changes, the ask and a summary", "[cli]") {
  TempDir dir;
  auto r = RunScaffold({"run", Example("release-checklist.json"), "--input", "2.0.0", "--answer",
                        "signoff=no", "--db", dir.path() + "/s.db"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("▸ classify"));
  CHECK_THAT(r.out, Catch::Contains("state /kind = \"major\""));
  CHECK_THAT(r.out, Catch::Contains("? signoff (approval)"));
  CHECK_THAT(r.out, Catch::Contains("- Write the migration guide"));
  CHECK_THAT(r.out, Catch::Contains("✓ completed"));
  CHECK_THAT(r.out, Catch::Contains("Held: 2.0.0 was not signed off."));
  CHECK(r.out.find("\x1b[") == std::string::npos);  // no colour without a terminal
}

TEST_CASE("an ask with no terminal and no answer stops with exit 2 and says how to answer",
          "[cli]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  auto r = RunScaffold({"run", Example("release-checklist.json"), "--input", "2.0.1", "--db", db});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("is waiting for input \"signoff\""));
  CHECK_THAT(r.err, Catch::Contains("--answer 'signoff=...'"));
  auto list = RunScaffold({"sessions", "list", "--json", "--db", db});
  auto sessions = ParseLines(list.out);
  REQUIRE(sessions.size() == 1);
  CHECK(sessions[0]["status"] == "waiting");
  std::string id = sessions[0]["sessionId"];

  auto resumed = RunScaffold({"resume", id.substr(0, 8), "--answer", "signoff=yes", "--db", db});
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK_THAT(resumed.out, Catch::Contains("Go: patch release 2.0.1"));

  auto again = RunScaffold({"resume", id, "--db", db});
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Catch::Contains("has already completed"));
}

TEST_CASE("a bad --answer is refused with exit 2", "[cli]") {
  TempDir dir;
  auto r = RunScaffold({"run", Example("release-checklist.json"), "--input", "2.0.1", "--answer",
                        "signoff=maybe", "--db", dir.path() + "/s.db"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--answer signoff=maybe: an approval needs yes or no"));
}

TEST_CASE("validate lists problems by path and exits 2, or prints a summary", "[cli]") {
  TempDir dir;
  auto ok = RunScaffold({"validate", Example("release-checklist.json")});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::StartsWith("ok: release-checklist — 7 phases, 0 agents"));

  std::string bad = dir.path() + "/bad.json";
  std::ofstream(bad)
      << R"({"scaffold": 1, "name": "x", "phases": {"a": {"set": {}, "next": "b"}}})";
  auto r = RunScaffold({"validate", bad});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(bad + ": /phases/a/next: unknown phase \"b\""));

  std::string broken = dir.path() + "/broken.json";
  std::ofstream(broken) << "{\n  \"scaffold\": 1,\n  \"name\": \n}";
  auto s = RunScaffold({"validate", broken});
  CHECK(s.exit_code == 2);
  CHECK_THAT(s.err, Catch::Contains(broken + ":4:1: invalid JSON"));

  auto json = RunScaffold({"validate", "--json", bad});
  CHECK(json.exit_code == 2);
  Json report = Json::parse(json.out);
  CHECK(report["valid"] == false);
  CHECK(report["problems"][0]["path"] == "/phases/a/next");
}

TEST_CASE("bad input is refused before any session starts", "[cli]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  SECTION("an input that fails the input schema") {
    auto r = RunScaffold({"run", Example("release-checklist.json"), "--input", "v2", "--db", db});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("does not match the workflow's input schema"));
  }
  SECTION("input that is not UTF-8") {
    auto r =
        RunScaffold({"run", Example("release-checklist.json"), "--input", "2.0.\xff", "--db", db});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("not valid UTF-8"));
  }
  SECTION("a missing workflow file") {
    auto r = RunScaffold({"run", dir.path() + "/nope.json", "--db", db});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("cannot read workflow file"));
  }
  SECTION("an unknown format version") {
    std::string f = dir.path() + "/v2.json";
    std::ofstream(f) << R"({"scaffold": 2, "name": "x", "phases": {}})";
    auto r = RunScaffold({"run", f, "--db", db});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("/scaffold: unsupported format version 2"));
  }
  SECTION("a file over the size cap") {
    std::string f = dir.path() + "/big.json";
    std::ofstream(f) << std::string(5 * 1024 * 1024, ' ');
    auto r = RunScaffold({"validate", f});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("the limit is 4194304 bytes"));
  }
  SECTION("a stream without end is read only to one byte past the cap") {
    auto r = RunScaffold({"validate", "/dev/zero"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("/dev/zero is over the limit of 4194304 bytes"));
  }
  SECTION("a directory") {
    auto r = RunScaffold({"validate", dir.path()});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(dir.path() + " is a directory"));
  }
  SECTION("a database file that is not scaffold's, left untouched") {
    std::string f = dir.path() + "/notes.db";
    std::ofstream(f) << "my notes";
    auto r = RunScaffold({"run", Example("release-checklist.json"), "--input", "1.0.0", "--db", f});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("is not a scaffold database"));
    CHECK(scaffold::testing::ReadFile(f) == "my notes");
  }
  CHECK_FALSE(std::filesystem::exists(db));
}

TEST_CASE("events, state and sessions read a stored session", "[cli]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  auto run = RunScaffold({"run", DataFile("counter.json"), "--input", "3", "--json", "--db", db});
  REQUIRE(run.exit_code == 0);
  auto lines = ParseLines(run.out);
  std::string id = lines.front()["payload"]["sessionId"];

  auto events = RunScaffold({"events", id, "--json", "--from", "3", "--db", db});
  auto listed = ParseLines(events.out);
  REQUIRE(listed.size() == lines.size() - 2);
  CHECK(listed.front() == lines[2]);

  auto state = RunScaffold({"state", id, "--db", db});
  CHECK(Json::parse(state.out) == Json::parse(R"({"count": 3, "target": 3})"));
  auto early = RunScaffold({"state", id, "--at", "2", "--db", db});
  CHECK(Json::parse(early.out) == Json::parse(R"({"count": 0, "target": 3})"));
  auto outside = RunScaffold({"state", id, "--at", "9999", "--db", db});
  CHECK(outside.exit_code == 2);

  auto show = RunScaffold({"sessions", "show", id, "--db", db});
  CHECK_THAT(show.out, Catch::Contains("status    completed"));
  CHECK_THAT(show.out, Catch::Contains("result    3"));

  auto missing = RunScaffold({"events", "0000", "--db", db});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("no session 0000"));

  // A recording on standard output is the same file -o writes; one that cannot be written fails.
  auto exported = RunScaffold({"sessions", "export", id, "--db", db});
  REQUIRE(exported.exit_code == 0);
  std::string file = dir.path() + "/s.jsonl";
  REQUIRE(RunScaffold({"sessions", "export", id, "-o", file, "--db", db}).exit_code == 0);
  std::ifstream in(file, std::ios::binary);
  CHECK(exported.out == std::string(std::istreambuf_iterator<char>(in), {}));
  CHECK(ParseLines(exported.out).size() == lines.size() + 2);
  scaffold::testing::ProcessOptions shell;
  shell.program = "/bin/sh";
  auto full = RunScaffold({"-c", "exec \"$0\" sessions export \"$1\" --db \"$2\" >/dev/full",
                           scaffold::testing::ScaffoldBinary(), id, db},
                          shell);
  CHECK(full.exit_code == 1);
  CHECK_THAT(full.err, Catch::Contains("could not write the recording"));

  auto rm = RunScaffold({"sessions", "rm", id, "--db", db});
  CHECK(rm.exit_code == 0);
  CHECK(RunScaffold({"sessions", "list", "--json", "--db", db}).out.empty());

  // A database that is not there is named, and not created.
  std::string none = dir.path() + "/none.db";
  CHECK(RunScaffold({"sessions", "list", "--db", none}).out == "no sessions in " + none + "\n");
  CHECK_FALSE(std::filesystem::exists(none));
}

TEST_CASE("events --follow prints events another process is writing until the session ends",
          "[cli][slow]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  BackgroundProcess writer(
      {"run", DataFile("counter.json"), "--input", "20000", "--quiet", "--db", db});
  std::vector<Json> sessions;
  for (int i = 0; i < 500 && sessions.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    sessions = ParseLines(RunScaffold({"sessions", "list", "--json", "--db", db}).out);
  }
  REQUIRE(sessions.size() == 1);
  auto follow = RunScaffold({"events", sessions[0]["sessionId"], "--follow", "--json", "--db", db});
  CHECK(follow.exit_code == 0);
  CHECK(writer.Wait() == 0);
  auto lines = ParseLines(follow.out);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back()["name"] == "workflow:completed");
  for (size_t i = 0; i < lines.size(); ++i)
    CHECK(lines[i]["position"] == static_cast<int64_t>(i + 1));
}

TEST_CASE("fork --at N copies the first N events and runs on", "[cli]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  auto run = RunScaffold({"run", Example("release-checklist.json"), "--input", "1.2.0", "--answer",
                          "signoff=no", "--json", "--db", db});
  REQUIRE(run.exit_code == 0);
  auto lines = ParseLines(run.out);
  std::string id = lines.front()["payload"]["sessionId"];
  int64_t asked = 0;
  for (const auto& l : lines) {
    if (l["name"] == "input:requested") asked = l["position"];
  }
  auto fork = RunScaffold(
      {"fork", id, "--at", std::to_string(asked), "--answer", "signoff=yes", "--json", "--db", db});
  INFO(fork.err);
  REQUIRE(fork.exit_code == 0);
  auto forked = ParseLines(fork.out);
  CHECK(forked.front()["name"] == "session:resumed");
  CHECK(forked.back()["payload"]["result"] == "Go: minor release 1.2.0 with 4 steps.");
}

TEST_CASE("kill -9 at any point, then resume, keeps every committed event and duplicates none",
          "[cli][slow]") {
  for (int kill_after : {1, 40, 400, 4000}) {
    DYNAMIC_SECTION("killed after " << kill_after << " events") {
      TempDir dir;
      std::string db = dir.path() + "/s.db";
      constexpr int kTarget = 3000;
      std::vector<std::string> seen;
      {
        BackgroundProcess p({"run", DataFile("counter.json"), "--input", std::to_string(kTarget),
                             "--json", "--db", db});
        std::string line;
        while (static_cast<int>(seen.size()) < kill_after && p.ReadLine(&line))
          seen.push_back(line);
        p.Signal(SIGKILL);
        CHECK(p.Wait() == 128 + SIGKILL);
      }
      REQUIRE(static_cast<int>(seen.size()) == kill_after);
      std::string id = Json::parse(seen[0])["payload"]["sessionId"];
      auto resumed = RunScaffold({"resume", id, "--json", "--db", db});
      INFO(resumed.err);
      REQUIRE(resumed.exit_code == 0);
      auto events = StoredEvents(db, id);
      CheckContiguous(events);
      // Everything the killed process printed had been committed, byte for byte.
      for (const auto& line : seen) {
        Json e = Json::parse(line);
        CHECK(events[e["position"].get<size_t>() - 1]->wire == line);
      }
      auto resumed_lines = ParseLines(resumed.out);
      REQUIRE_FALSE(resumed_lines.empty());
      CHECK(resumed_lines.front()["name"] == "session:resumed");
      CHECK(resumed_lines.back()["payload"]["result"] == kTarget);
      // No update was applied twice: exactly one intent per step.
      int step_intents = 0;
      for (const auto& e : events) {
        if (e->name == "state:intent" && e->payload.value("phase", "") == "step") ++step_intents;
      }
      CHECK(step_intents == kTarget);
    }
  }
}

TEST_CASE("Ctrl-C pauses the session, exits 130 and resume finishes it", "[cli][slow]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  BackgroundProcess p({"run", DataFile("counter.json"), "--input", "200000", "--json", "--db", db});
  std::string line;
  REQUIRE(p.ReadLine(&line));
  std::string id = Json::parse(line)["payload"]["sessionId"];
  for (int i = 0; i < 100; ++i) REQUIRE(p.ReadLine(&line));
  p.Signal(SIGINT);
  CHECK(p.Wait() == 130);
  CHECK_THAT(p.Stderr(), Catch::Contains("scaffold resume " + id));
  auto events = StoredEvents(db, id);
  CheckContiguous(events);
  CHECK(events.back()->name == "session:paused");
  CHECK(events.back()->payload["reason"] == "interrupted");
}

TEST_CASE("two processes writing one database at once both finish intact", "[cli][slow]") {
  TempDir dir;
  std::string db = dir.path() + "/shared.db";
  BackgroundProcess a({"run", DataFile("counter.json"), "--input", "2000", "--quiet", "--db", db});
  BackgroundProcess b({"run", DataFile("counter.json"), "--input", "2000", "--quiet", "--db", db});
  CHECK(a.Wait(120000) == 0);
  CHECK(b.Wait(120000) == 0);
  INFO(a.Stderr() << b.Stderr());
  auto list = RunScaffold({"sessions", "list", "--json", "--db", db});
  auto sessions = ParseLines(list.out);
  REQUIRE(sessions.size() == 2);
  for (const auto& s : sessions) {
    CHECK(s["status"] == "completed");
    auto events = StoredEvents(db, s["sessionId"]);
    CheckContiguous(events);
    CHECK(events.back()->payload["result"] == 2000);
  }
}
