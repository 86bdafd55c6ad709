// The database under conditions scaffold does not control: two processes creating it at once,
// a full disk (a small tmpfs), a read-only mount. The mounts are made in a private mount
// namespace (`unshare`), so nothing outside the test sees them; as another user than root, a
// user namespace maps that user to root inside it.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <thread>

#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/serve_process.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using namespace scaffold::testing;

namespace {

// Runs `script` with sh in a private mount namespace, with $SCAFFOLD, $DIR and $COUNTER set.
ProcessResult InMountNamespace(const TempDir& dir, const std::string& script) {
  ProcessOptions o;
  o.program = "/usr/bin/unshare";
  o.env = {{"SCAFFOLD", ScaffoldBinary()},
           {"DIR", dir.path()},
           {"COUNTER", TestDataFile("counter.json")}};
  o.timeout_ms = 120000;
  std::vector<std::string> args;
  if (getuid() != 0) args.push_back("--map-root-user");
  args.insert(args.end(), {"--mount", "--", "/bin/sh", "-c", "set -u\n" + script});
  return RunScaffold(args, o);
}

}  // namespace

TEST_CASE("two processes creating the same new database at the same moment both succeed",
          "[cli][storage][slow]") {
  TempDir dir;
  std::string workflow = TestDataFile("counter.json");
  int failures = 0;
  for (int i = 0; i < 150; ++i) {
    std::string db = dir.path() + "/race" + std::to_string(i) + ".db";
    BackgroundProcess a({"run", workflow, "--input", "2", "--db", db, "--quiet"});
    BackgroundProcess b({"run", workflow, "--input", "2", "--db", db, "--quiet"});
    int ra = a.Wait(), rb = b.Wait();
    if (ra != 0 || rb != 0) {
      ++failures;
      UNSCOPED_INFO("pair " << i << ": " << ra << " " << a.Stderr() << " / " << rb << " "
                            << b.Stderr());
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("a full disk stops a run without losing anything, and resume continues it",
          "[cli][storage]") {
  TempDir dir;
  auto r = InMountNamespace(dir, R"sh(
mkdir "$DIR/small" && mount -t tmpfs -o size=16m tmpfs "$DIR/small" || exit 90
head -c 15800k /dev/zero > "$DIR/small/filler"
"$SCAFFOLD" run "$COUNTER" --input 3000 --db "$DIR/small/s.db" --quiet --no-color
echo "RUN_EXIT=$?"
id=$("$SCAFFOLD" sessions list --json --db "$DIR/small/s.db" | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p' | head -1)
before=$("$SCAFFOLD" sessions show "$id" --json --db "$DIR/small/s.db" | sed -n 's/.*"eventCount":\([0-9]*\).*/\1/p')
echo "EVENTS_BEFORE=$before"
rm "$DIR/small/filler"
"$SCAFFOLD" resume "$id" --db "$DIR/small/s.db" --quiet --no-color
echo "RESUME_EXIT=$?"
"$SCAFFOLD" state "$id" --db "$DIR/small/s.db"
)sh");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code != 90);
  CHECK_THAT(r.out, Catch::Contains("RUN_EXIT=1"));
  CHECK_THAT(r.out, Catch::Contains("stopped: the session could not be recorded"));
  CHECK_THAT(r.err, Catch::Contains("the disk is full"));
  CHECK_THAT(r.err, Catch::Contains("continue it once that is fixed:") &&
                        Catch::Contains("scaffold resume"));
  CHECK_THAT(r.err, !Catch::Contains("fork"));
  CHECK_THAT(r.out, !Catch::Contains("EVENTS_BEFORE=\n"));
  CHECK_THAT(r.out, Catch::Contains("RESUME_EXIT=0"));
  CHECK_THAT(r.out, Catch::Contains("\"count\": 3000"));

  // A disk too small for the database itself: said as such, not as an I/O or schema error.
  auto tiny = InMountNamespace(dir, R"sh(
mkdir "$DIR/tiny" && mount -t tmpfs -o size=8k tmpfs "$DIR/tiny" || exit 90
head -c 8k /dev/zero > "$DIR/tiny/filler" 2>/dev/null
"$SCAFFOLD" run "$COUNTER" --input 1 --db "$DIR/tiny/s.db" --quiet
)sh");
  INFO(tiny.err);
  CHECK(tiny.exit_code != 0);
  CHECK(tiny.exit_code != 90);
  CHECK_THAT(tiny.err, Catch::Contains("the disk is full"));
  CHECK_THAT(tiny.err, !Catch::Contains("disk I/O error"));
}

TEST_CASE("a database on a read-only mount can be read, and writing commands say why they cannot",
          "[cli][storage]") {
  TempDir dir;
  auto r = InMountNamespace(dir, R"sh(
mkdir "$DIR/ro" && mount -t tmpfs -o size=16m tmpfs "$DIR/ro" || exit 90
"$SCAFFOLD" run "$COUNTER" --input 3 --db "$DIR/ro/s.db" --quiet
mount -o remount,ro "$DIR/ro"
echo "== list"; "$SCAFFOLD" sessions list --db "$DIR/ro/s.db"; echo "LIST_EXIT=$?"
id=$("$SCAFFOLD" sessions list --json --db "$DIR/ro/s.db" | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p' | head -1)
echo "== events"; "$SCAFFOLD" events "$id" --json --db "$DIR/ro/s.db" | tail -1; echo "EVENTS_EXIT=$?"
echo "== state"; "$SCAFFOLD" state "$id" --db "$DIR/ro/s.db"; echo "STATE_EXIT=$?"
echo "== replay"; "$SCAFFOLD" replay "$id" --db "$DIR/ro/s.db"; echo "REPLAY_EXIT=$?"
echo "== export"; "$SCAFFOLD" sessions export "$id" --db "$DIR/ro/s.db" | head -1 | grep -o '"scaffold_recording":1'; echo "EXPORT_EXIT=$?"
echo "== run"; "$SCAFFOLD" run "$COUNTER" --input 3 --db "$DIR/ro/s.db" --quiet; echo "RUN_EXIT=$?"
)sh");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code != 90);
  CHECK_THAT(r.out, Catch::Contains("LIST_EXIT=0") && Catch::Contains("counter"));
  CHECK_THAT(r.out, Catch::Contains("workflow:completed") && Catch::Contains("EVENTS_EXIT=0"));
  CHECK_THAT(r.out, Catch::Contains("\"count\": 3") && Catch::Contains("STATE_EXIT=0"));
  CHECK_THAT(r.out, Catch::Contains("REPLAY_EXIT=0"));
  CHECK_THAT(r.out, Catch::Contains("\"scaffold_recording\":1") && Catch::Contains("EXPORT_EXIT=0"));
  CHECK_THAT(r.out, Catch::Contains("RUN_EXIT=2"));
  CHECK_THAT(r.err, Catch::Contains("cannot be written") && Catch::Contains("read-only mount"));
  CHECK_THAT(r.err, !Catch::Contains("not a scaffold database"));
}

TEST_CASE("a full disk under serve: the session shows why it stopped, and resumes", "[cli][storage]") {
  TempDir dir;
  ProcessOptions o;
  o.program = "/usr/bin/unshare";
  o.env = {{"SCAFFOLD", ScaffoldBinary()}, {"DIR", dir.path()}};
  std::vector<std::string> args;
  if (getuid() != 0) args.push_back("--map-root-user");
  args.insert(args.end(),
              {"--mount", "--", "/bin/sh", "-c",
               "mkdir \"$DIR/small\" && mount -t tmpfs -o size=16m tmpfs \"$DIR/small\" && "
               "head -c 15800k /dev/zero > \"$DIR/small/filler\" && exec \"$SCAFFOLD\" \"$@\"",
               "sh", "serve", "--workflow", TestDataFile("counter.json"), "--db",
               dir.path() + "/small/s.db", "--listen", "127.0.0.1:0", "--no-access-log"});
  ServeProcess server(ServeProcess::Raw(args), false, o);
  auto created = Http("POST", server.url() + "/sessions", Json{{"input", 3000}}.dump());
  REQUIRE(created.status == 201);
  std::string id = created.json()["sessionId"];
  Json info;
  for (int i = 0; i < 1500; ++i) {
    info = Http("GET", server.url() + "/sessions/" + id).json();
    if (info.contains("error")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  INFO(info.dump() << "\n" << server.process().Stderr());
  CHECK(info["status"] == "paused");
  CHECK(info["running"] == false);
  CHECK(info["error"]["code"] == "storage_full");
  CHECK_THAT(server.process().Stderr(),
             Catch::Contains("session " + id + " stopped: ") && Catch::Contains("the disk is full"));
  // The batch that failed was large (steps commit together); whatever room it left is
  // filled too (through the server's own mount namespace), so a new session cannot be stored.
  std::string filler = "/proc/" + std::to_string(server.process().pid()) + "/root" +
                       dir.path() + "/small/filler";
  {
    std::FILE* f = std::fopen(filler.c_str(), "ab");
    REQUIRE(f != nullptr);
    std::vector<char> zeros(4096, 0);
    while (std::fwrite(zeros.data(), 1, zeros.size(), f) == zeros.size() && std::fflush(f) == 0) {
    }
    std::fclose(f);
  }
  // The database may still have room inside its own files (the failed batch's pages): new
  // sessions are stored until it has none.
  auto refused = Http("POST", server.url() + "/sessions", Json{{"input", 1}}.dump());
  for (int i = 0; i < 500 && refused.status == 201; ++i) {
    refused = Http("POST", server.url() + "/sessions", Json{{"input", 1}}.dump());
  }
  CHECK(refused.status == 503);
  CHECK(refused.json()["error"]["code"] == "storage_full");
  CHECK(Http("GET", server.url() + "/healthz").status == 200);

  // Room again, then resume.
  REQUIRE(::unlink(filler.c_str()) == 0);
  auto resumed = Http("POST", server.url() + "/sessions/" + id + "/resume", "{}");
  CHECK(resumed.status == 200);
  for (int i = 0; i < 3000; ++i) {
    info = Http("GET", server.url() + "/sessions/" + id).json();
    if (info.value("status", "") == "completed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(info["status"] == "completed");
  CHECK_FALSE(info.contains("error"));
}
