// `scaffold serve` as a process, and the terminal clients of it: `attach` and `run --server`.

#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include "recordings/sqlite/sqlite_store.h"
#include "tests/support/cutting_proxy.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/serve_process.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using namespace scaffold::testing;

namespace {

std::string DataFile(const std::string& name) { return TestDataFile(name); }
std::string Example(const std::string& name) { return ExampleFile(name); }

const std::string kTicket =
    "Hi, I was charged twice for my Pro subscription this month (invoices #4471 and #4472). Can "
    "you refund one of "
    "them?";

class Server : public ServeProcess {
 public:
  explicit Server(std::vector<std::string> args) : ServeProcess(std::move(args)) {}
};

std::string FirstLineId(const std::string& out) {
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex("session ([0-9a-f-]{36})")));
  return m[1];
}

// The example recording imported into a fresh database, for playback.
std::string DatabaseWithRecording(const TempDir& dir) {
  std::string db = dir.path() + "/s.db";
  auto r =
      RunScaffold({"sessions", "import", Example("recordings/ticket-triage.jsonl"), "--db", db});
  REQUIRE(r.exit_code == 0);
  return db;
}

bool WaitForStatus(const std::string& url, const std::string& id, const std::string& status,
                   int timeout_ms = 20000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Http("GET", url + "/sessions/" + id).json().value("status", "") == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

TEST_CASE("attach renders a session exactly as the local run that made it", "[cli][remote]") {
  TempDir dir;
  std::string db = DatabaseWithRecording(dir);
  auto local = RunScaffold({"run", Example("ticket-triage.json"), "--mode", "playback", "--db", db,
                            "--input", kTicket, "--answer", "review=yes"});
  REQUIRE(local.exit_code == 0);
  std::string id = FirstLineId(local.out);

  Server server({"--workflow", Example("ticket-triage.json"), "--db", db, "--mode", "playback"});
  auto attached = RunScaffold({"attach", server.url(), id});
  CHECK(attached.exit_code == 0);
  CHECK(attached.out == local.out);  // byte for byte, summary line included
  CHECK_THAT(attached.err, Catch::Contains("events: curl -N '" + server.url() + "/sessions/" + id));

  auto json_local = RunScaffold({"events", id, "--json", "--db", db});
  auto json_remote = RunScaffold({"attach", server.url(), id, "--json"});
  CHECK(json_remote.exit_code == 0);
  CHECK(json_remote.out == json_local.out);  // the stored event bytes, one per line
}

TEST_CASE("run --server renders like a local run, and an ask nobody can answer leaves it waiting",
          "[cli][remote]") {
  TempDir dir;
  std::string db = DatabaseWithRecording(dir);
  Server server({"--workflow", Example("ticket-triage.json"), "--db", db, "--mode", "playback"});
  auto normalize = [](std::string text) {
    text = std::regex_replace(text, std::regex("[0-9a-f]{8}-[0-9a-f-]{27}"), "ID");
    return std::regex_replace(text, std::regex("[0-9]+ms"), "Nms");
  };
  auto local = RunScaffold({"run", Example("ticket-triage.json"), "--mode", "playback", "--db", db,
                            "--input", kTicket, "--answer", "review=yes"});
  auto remote = RunScaffold({"run", "--server", server.url(), Example("ticket-triage.json"),
                             "--input", kTicket, "--answer", "review=yes"});
  INFO(remote.err);
  CHECK(remote.exit_code == 0);
  CHECK(normalize(remote.out) == normalize(local.out));

  auto waiting = RunScaffold({"run", "--server", server.url(), Example("ticket-triage.json"),
                              "--input", kTicket, "--quiet"});
  CHECK(waiting.exit_code == 2);
  std::string id = FirstLineId(waiting.err);
  CHECK_THAT(waiting.err, Catch::Contains("scaffold attach " + server.url() + " " + id +
                                          " --answer 'review=...'"));
  CHECK(Http("GET", server.url() + "/sessions/" + id).json()["status"] == "waiting");

  auto answered = RunScaffold({"attach", server.url(), id, "--answer", "review=yes"});
  CHECK(answered.exit_code == 0);
  // The terminal names the session's page in the server's web console.
  CHECK_THAT(answered.err,
             Catch::Contains("watch it in a browser: " + server.url() + "/#/sessions/" + id));
  CHECK_THAT(answered.out, Catch::Contains("✓ review: approved"));
  CHECK_THAT(answered.out, Catch::Contains("✓ completed"));

  SECTION("errors name the server and what went wrong") {
    auto missing = RunScaffold({"attach", server.url(), "00000000-0000-4000-8000-000000000000"});
    CHECK(missing.exit_code == 2);
    CHECK_THAT(missing.err,
               Catch::Contains(server.url() +
                               ": session 00000000-0000-4000-8000-000000000000: no session"));
    auto other =
        RunScaffold({"run", "--server", server.url(), DataFile("counter.json"), "--input", "3"});
    CHECK(other.exit_code == 2);
    CHECK_THAT(other.err, Catch::Contains("no workflow named \"counter\" is served here"));
    auto local_flag = RunScaffold({"run", "--server", server.url(), Example("ticket-triage.json"),
                                   "--input", kTicket, "--db", db});
    CHECK(local_flag.exit_code == 2);
    CHECK_THAT(local_flag.err, Catch::Contains("--db applies to local runs"));
    auto bad_url = RunScaffold({"attach", "127.0.0.1:80", id});
    CHECK(bad_url.exit_code == 2);
    CHECK_THAT(bad_url.err, Catch::Contains("expected http://HOST:PORT"));
  }
}

TEST_CASE("a different workflow file under the same name is refused by its sha256",
          "[cli][remote]") {
  TempDir dir;
  std::string db = DatabaseWithRecording(dir);
  Server server({"--workflow", Example("ticket-triage.json"), "--db", db, "--mode", "playback"});
  std::string changed = dir.path() + "/ticket-triage.json";
  {
    auto text =
        RunScaffold({"validate", Example("ticket-triage.json"), "--json"});  // the file is valid
    REQUIRE(text.exit_code == 0);
    std::ifstream in(Example("ticket-triage.json"));
    std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(changed) << source << "\n";
  }
  auto r = RunScaffold({"run", "--server", server.url(), changed, "--input", kTicket});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("is not the same file as yours"));
}

TEST_CASE("attach reconnects after dropped connections and renders every event once",
          "[cli][remote][slow]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  Server server({"--workflow", DataFile("counter.json"), "--db", db});
  auto created = Http("POST", server.url() + "/sessions", R"({"input": 400})");
  REQUIRE(created.status == 201);
  std::string id = created.json()["sessionId"];
  REQUIRE(WaitForStatus(server.url(), id, "completed"));

  auto direct = RunScaffold({"attach", server.url(), id});
  REQUIRE(direct.exit_code == 0);

  std::mt19937 rng(7);
  CuttingProxy proxy(server.port(),
                     [&] { return std::uniform_int_distribution<size_t>(400, 6000)(rng); });
  auto cut = RunScaffold({"attach", "http://127.0.0.1:" + std::to_string(proxy.port()), id});
  CHECK(cut.exit_code == 0);
  CHECK(proxy.cuts() >= 5);
  CHECK_THAT(cut.err, Catch::Contains("reconnecting after position"));
  CHECK(cut.out == direct.out);
}

TEST_CASE(
    "Ctrl-C pauses a session run with --server; attach --resume goes on, Ctrl-C there detaches",
    "[cli][remote][slow]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  Server server({"--workflow", DataFile("counter.json"), "--db", db});
  BackgroundProcess run(
      {"run", "--server", server.url(), DataFile("counter.json"), "--input", "5000000"});
  std::string line;
  REQUIRE(run.ReadLine(&line));
  std::string id = FirstLineId(line);
  for (int i = 0; i < 50; ++i) REQUIRE(run.ReadLine(&line));
  run.Signal(SIGINT);
  CHECK(run.Wait() == 130);
  CHECK_THAT(run.Stderr(),
             Catch::Contains("resume: scaffold attach " + server.url() + " " + id + " --resume"));
  REQUIRE(WaitForStatus(server.url(), id, "paused"));

  BackgroundProcess attach({"attach", server.url(), id, "--resume"});
  REQUIRE(WaitForStatus(server.url(), id, "running"));
  for (int i = 0; i < 50; ++i) REQUIRE(attach.ReadLine(&line));
  attach.Signal(SIGINT);
  CHECK(attach.Wait() == 130);
  CHECK_THAT(attach.Stderr(),
             Catch::Contains("reattach: scaffold attach " + server.url() + " " + id));
  // Detached, not paused: the session runs on without the terminal.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(Http("GET", server.url() + "/sessions/" + id).json()["status"] == "running");
  CHECK(Http("DELETE", server.url() + "/sessions/" + id).status == 200);
}

TEST_CASE("serve refuses to listen beyond loopback without authentication", "[cli][remote]") {
  TempDir dir;
  auto r = RunScaffold({"serve", "--workflow", DataFile("counter.json"), "--db",
                        dir.path() + "/s.db", "--listen", "0.0.0.0:0"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("refusing to serve 0.0.0.0 without authentication"));
  CHECK_THAT(r.err, Catch::Contains("--insecure-no-auth"));
  auto jwt = RunScaffold({"serve", "--workflow", DataFile("counter.json"), "--db",
                          dir.path() + "/s.db", "--auth", "jwt"});
  CHECK(jwt.exit_code == 2);
  CHECK_THAT(jwt.err, Catch::Contains("--auth jwt needs exactly one of"));
  auto none =
      RunScaffold({"serve", "--workflows", dir.path() + "/empty", "--db", dir.path() + "/s.db"});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("no workflow to serve"));
}

TEST_CASE("after kill -9 the server resumes running sessions and leaves paused ones paused",
          "[cli][remote][slow]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  std::string running, paused;
  {
    Server first({"--workflow", DataFile("counter.json"), "--db", db});
    paused = Http("POST", first.url() + "/sessions", R"({"input": 100000000})").json()["sessionId"];
    REQUIRE(Http("POST", first.url() + "/sessions/" + paused + "/pause").status == 200);
    REQUIRE(WaitForStatus(first.url(), paused, "paused"));
    running = Http("POST", first.url() + "/sessions", R"({"input": 30000})").json()["sessionId"];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (Http("GET", first.url() + "/sessions/" + running).json().value("eventCount", 0) < 2000 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // ~Server: SIGKILL, in the middle of the run.
  }
  int64_t before = 0;
  {
    auto store = scaffold::recordings::SqliteStore::Open(db);
    REQUIRE(store.ok());
    auto info = (*store)->GetSession(running);
    REQUIRE(info.ok());
    before = info->event_count;
    CHECK(info->status == scaffold::engine::SessionStatus::kRunning);
  }
  Server second({"--workflow", DataFile("counter.json"), "--db", db});
  // The server says so right after it starts listening, which is when Server returns.
  for (int i = 0; i < 500 && second.process().Stderr().find("resumed") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_THAT(second.process().Stderr(), Catch::Contains("resumed 1 session"));

  REQUIRE(WaitForStatus(second.url(), running, "completed", 120000));
  auto state = Http("GET", second.url() + "/sessions/" + running + "/state").json();
  CHECK(state["state"]["count"] == 30000);
  CHECK(state["position"].get<int64_t>() > before);
  auto p = Http("GET", second.url() + "/sessions/" + paused).json();
  CHECK(p["status"] == "paused");
  CHECK(p["running"] == false);
  // The log is whole: one run of positions, the restart marked by session:resumed.
  auto store = scaffold::recordings::SqliteStore::Open(db);
  auto events = (*store)->ReadEvents(running, 0, 100000000).value();
  int resumed = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    REQUIRE(events[i]->position == static_cast<int64_t>(i + 1));
    resumed += events[i]->name == "session:resumed";
  }
  CHECK(resumed == 1);
}

TEST_CASE("serve: --default-workflow, --allowed-host, and /metrics only on --metrics-listen with auth",
          "[cli][server][origin]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  auto unknown = RunScaffold({"serve", "--workflow", DataFile("counter.json"), "--workflow",
                              Example("release-checklist.json"), "--default-workflow", "nope",
                              "--db", db, "--listen", "127.0.0.1:0"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("--default-workflow nope"));

  {
    Server server({"--workflow", DataFile("counter.json"), "--workflow",
                   Example("release-checklist.json"), "--default-workflow", "counter", "--db", db,
                   "--allowed-host", "scaffold.internal"});
    auto created = Http("POST", server.url() + "/sessions", Json{{"input", 2}}.dump());
    CHECK(created.status == 201);  // two workflows served, none named: the default
    CHECK(Http("GET", server.url() + "/metrics").status == 200);  // no auth: served here
    auto foreign = Http("GET", server.url() + "/sessions", "", {"Host: evil.example"});
    CHECK(foreign.status == 403);
    CHECK(Http("GET", server.url() + "/sessions", "", {"Host: scaffold.internal"}).status == 200);
  }

  std::string secret_file = dir.path() + "/secret";
  std::ofstream(secret_file) << "a-secret-of-at-least-thirty-two-bytes-long";
  Server server({"--workflow", DataFile("counter.json"), "--db", db, "--auth", "jwt",
                 "--jwt-secret-file", secret_file, "--metrics-listen", "127.0.0.1:0"});
  std::smatch m;
  std::string err = server.process().Stderr();
  REQUIRE(std::regex_search(err, m, std::regex("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics")));
  std::string metrics_url = "http://127.0.0.1:" + std::string(m[1]);
  auto hidden = Http("GET", server.url() + "/metrics?token=anything");
  CHECK(hidden.status == 404);
  auto served = Http("GET", metrics_url + "/metrics");
  CHECK(served.status == 200);
  CHECK_THAT(served.body, Catch::Contains("scaffold_"));
  CHECK(Http("GET", metrics_url + "/sessions").status == 404);
}

TEST_CASE("attach ends with the server's problem when it sends an event no client can use",
          "[cli][remote][hostile]") {
  const std::string id = "00000000-0000-4000-8000-0000000000bb";
  const std::string started = Json{
      {"id", "e1"},
      {"position", 1},
      {"name", "workflow:started"},
      {"payload", {{"sessionId", id}, {"workflow", "w"}}},
      {"timestamp", 1}}.dump();
  for (const std::string& bad : {std::string(R"({"position": "two"})"),
                                "event: message\ndata: " + std::string(17 << 20, 'x')}) {
    FakeUpstream server;
    server.SetDefault([&](const FakeUpstream::Request& r) {
      FakeUpstream::Response response;
      if (r.path == "/sessions/" + id) {
        response.headers = {{"content-type", "application/json"}};
        response.writes = {{Json{{"id", id}, {"status", "running"}, {"eventCount", 1}}.dump(), 0}};
      } else {
        response.headers = {{"content-type", "text/event-stream"}};
        response.writes = {{"id: 1\ndata: " + started + "\n\n", 0},
                           {bad.rfind("event:", 0) == 0 ? bad : "id: 2\ndata: " + bad + "\n\n", 0}};
        response.stall_ms = 60000;  // and the connection stays open
      }
      return response;
    });
    ProcessOptions options;
    options.timeout_ms = 20000;
    auto attached = RunScaffold({"attach", server.url(), id}, options);
    INFO(attached.err);
    CHECK(attached.exit_code == 1);
    CHECK_THAT(attached.err,
               Catch::Contains(bad.size() < 100 ? "cannot be used" : "larger than 16777216 bytes"));
    CHECK_THAT(attached.err, !Catch::Contains("reconnecting"));
  }
}

TEST_CASE("attach ends with an error when the server's answer is larger than the bound",
          "[cli][remote][hostile]") {
  FakeUpstream server;
  server.SetDefault([](const FakeUpstream::Request&) {
    FakeUpstream::Response response;
    response.headers = {{"content-type", "application/json"}};
    response.writes.resize(65);  // 65 MiB of a string that never closes
    response.writes[0].data = "{\"id\": \"";
    for (size_t i = 1; i < response.writes.size(); ++i)
      response.writes[i].data.assign(1 << 20, 'x');
    response.stall_ms = 60000;
    return response;
  });
  ProcessOptions options;
  options.timeout_ms = 20000;
  auto attached =
      RunScaffold({"attach", server.url(), "00000000-0000-4000-8000-0000000000cc"}, options);
  INFO(attached.err);
  CHECK(attached.exit_code == 1);
  CHECK_THAT(attached.err, Catch::Contains("larger than 67108864 bytes"));
}
