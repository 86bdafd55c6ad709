// The command line on PostgreSQL: every subcommand that takes --db accepts a libpq URL, sessions
// move between SQLite and PostgreSQL, and a URL that does not connect is a clear error that never
// shows the password. Runs on the tests' PostgreSQL server (ctest fixture "postgres").

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "engine/json.h"
#include "tests/support/conformance.h"
#include "tests/support/postgres.h"
#include "tests/support/json_lines.h"
#include "tests/support/process.h"
#include "tests/support/serve_process.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using namespace scaffold::testing;

namespace {

ProcessResult Scaffold(const std::vector<std::string>& args) {
  auto r = RunScaffold(args);
  UNSCOPED_INFO("scaffold " << args[0] << " " << (args.size() > 1 ? args[1] : "") << " -> "
                            << r.exit_code << "\n" << r.err);
  return r;
}

}  // namespace

TEST_CASE("run, events, state, sessions, fork and replay work on a PostgreSQL URL",
          "[cli][postgres]") {
  TempDatabase db;
  auto run = Scaffold({"run", TestDataFile("counter.json"), "--input", "3", "--json", "--db", db.url()});
  REQUIRE(run.exit_code == 0);
  auto lines = ParseJsonLines(run.out);
  std::string id = lines.front()["payload"]["sessionId"];

  auto events = ParseJsonLines(Scaffold({"events", id, "--json", "--db", db.url()}).out);
  REQUIRE(events.size() == lines.size());
  CHECK(events.back() == lines.back());
  CHECK(Json::parse(Scaffold({"state", id, "--db", db.url()}).out) ==
        Json::parse(R"({"count": 3, "target": 3})"));
  CHECK_THAT(Scaffold({"sessions", "show", id, "--db", db.url()}).out,
             Catch::Contains("status    completed"));
  CHECK(ParseJsonLines(Scaffold({"sessions", "list", "--json", "--db", db.url()}).out).size() == 1);

  auto checklist = Scaffold({"run", ExampleFile("release-checklist.json"), "--input", "1.2.0",
                             "--answer", "signoff=no", "--json", "--db", db.url()});
  REQUIRE(checklist.exit_code == 0);
  auto asked_lines = ParseJsonLines(checklist.out);
  std::string checklist_id = asked_lines.front()["payload"]["sessionId"];
  int64_t asked = 0;
  for (const auto& l : asked_lines) {
    if (l["name"] == "input:requested") asked = l["position"];
  }
  auto fork = Scaffold({"fork", checklist_id, "--at", std::to_string(asked), "--answer",
                        "signoff=yes", "--json", "--db", db.url()});
  REQUIRE(fork.exit_code == 0);
  CHECK(ParseJsonLines(fork.out).back()["payload"]["result"] == "Go: minor release 1.2.0 with 4 steps.");

  auto replay = Scaffold({"replay", id, "--db", db.url()});
  CHECK(replay.exit_code == 0);

  CHECK(Scaffold({"sessions", "rm", id, "--db", db.url()}).exit_code == 0);
  CHECK(Scaffold({"events", id, "--db", db.url()}).exit_code == 2);
}

TEST_CASE("sessions move between SQLite and PostgreSQL unchanged, and replay from PostgreSQL",
          "[cli][postgres]") {
  TempDatabase db;
  TempDir dir;
  std::string sqlite = dir.path() + "/s.db";
  // A shipped recording (with its provider exchanges) into PostgreSQL, out again, into SQLite.
  std::string recording = ExampleFile("recordings/ticket-triage.jsonl");
  auto imported = Scaffold({"sessions", "import", recording, "--db", db.url()});
  REQUIRE(imported.exit_code == 0);
  std::string id = imported.out.substr(17, 36);
  CHECK(Scaffold({"replay", id, "--db", db.url()}).exit_code == 0);

  std::string from_pg = dir.path() + "/from-pg.jsonl";
  REQUIRE(Scaffold({"sessions", "export", id, "-o", from_pg, "--db", db.url()}).exit_code == 0);
  REQUIRE(Scaffold({"sessions", "import", from_pg, "--db", sqlite}).exit_code == 0);
  std::string from_sqlite = dir.path() + "/from-sqlite.jsonl";
  REQUIRE(Scaffold({"sessions", "export", id, "-o", from_sqlite, "--db", sqlite}).exit_code == 0);
  CHECK(ReadFile(from_pg) == ReadFile(from_sqlite));
  CHECK(Scaffold({"replay", id, "--db", sqlite}).exit_code == 0);

  // Importing it again is refused and changes nothing.
  auto again = Scaffold({"sessions", "import", from_sqlite, "--db", db.url()});
  CHECK(again.exit_code != 0);
  CHECK_THAT(again.err, Catch::Contains("nothing was imported"));
}

TEST_CASE("resume on PostgreSQL waits out a killed run's lease and finishes the session",
          "[cli][postgres]") {
  TempDatabase db;
  ProcessOptions fast;
  fast.env = {{"SCAFFOLD_LEASE_MS", "1500"}};
  BackgroundProcess writer(
      {"run", TestDataFile("counter.json"), "--input", "5000", "--json", "--db", db.url()}, fast);
  std::string line;
  std::string id;
  for (int i = 0; i < 200 && writer.ReadLine(&line); ++i) {
    if (id.empty()) id = Json::parse(line)["payload"]["sessionId"];
  }
  REQUIRE_FALSE(id.empty());
  writer.Signal(SIGKILL);
  writer.Wait();

  auto start = std::chrono::steady_clock::now();
  auto resumed = RunScaffold({"resume", id, "--quiet", "--db", db.url()}, fast);
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
  CHECK(Json::parse(RunScaffold({"state", id, "--db", db.url()}).out)["count"] == 5000);
  auto events = ParseJsonLines(RunScaffold({"events", id, "--json", "--db", db.url()}).out);
  for (size_t i = 0; i < events.size(); ++i)
    CHECK(events[i]["position"] == static_cast<int64_t>(i + 1));
}

TEST_CASE("a PostgreSQL URL that does not connect names host and database, never the password",
          "[cli][postgres]") {
  std::string url = "postgresql://ada:s3cret-pw@127.0.0.1:1/scaffold_prod?connect_timeout=3";
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {"run", TestDataFile("counter.json"), "--input", "1", "--db", url},
           {"sessions", "list", "--db", url},
           {"serve", "--workflow", TestDataFile("counter.json"), "--listen", "127.0.0.1:0", "--db", url}}) {
    auto r = RunScaffold(cmd);
    INFO(cmd[0] << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("127.0.0.1") && Catch::Contains("scaffold_prod"));
    CHECK_THAT(r.err + r.out, !Catch::Contains("s3cret"));
  }
  // A database of another application is refused, and nothing is written to it.
  TempDatabase other;
  other.Sql("CREATE TABLE invoices (id int)");
  auto r = RunScaffold({"run", TestDataFile("counter.json"), "--input", "1", "--db", other.url()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("is not a scaffold database"));
  CHECK(other.Sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "1");
}
