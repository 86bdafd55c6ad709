// Several `scaffold serve` nodes on one PostgreSQL, as real processes on loopback: any node
// serves any session, a killed node's sessions finish elsewhere with every client seeing each
// position once, a stalled node cannot write after its lease is gone, SIGTERM hands sessions
// over, full nodes queue. Client tools across nodes: cluster_tools_test.cc. The tests' PostgreSQL
// server is ctest's "postgres" fixture; nginx is Debian's.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

#include "engine/json.h"
#include "tests/support/cluster_nodes.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/http_client.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"
#include "tests/support/serve_process.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using namespace scaffold::testing;

namespace {

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Debian's nginx with examples/cluster/nginx.conf in front of `nodes`.
class Nginx {
 public:
  explicit Nginx(const std::vector<uint16_t>& nodes) {
    REQUIRE(std::filesystem::exists("/usr/sbin/nginx"));  // apt-get install nginx
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::all);
    std::string conf = ReadAll(std::string(SCAFFOLD_SOURCE_DIR) + "/examples/cluster/nginx.conf");
    std::string servers;
    for (uint16_t p : nodes) servers += "    server 127.0.0.1:" + std::to_string(p) + ";\n";
    port_ = FreePort();
    Replace(&conf, "@NODES@\n", servers);
    Replace(&conf, "@LISTEN@", "127.0.0.1:" + std::to_string(port_));
    Replace(&conf, "@PREFIX@", dir_.path());
    std::ofstream(dir_.path() + "/nginx.conf") << conf;
    ProcessOptions o;
    o.program = "/usr/sbin/nginx";
    process_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"-p", dir_.path(), "-c", dir_.path() + "/nginx.conf", "-g",
                                 "daemon off;"},
        o);
    for (int i = 0; i < 200; ++i) {
      if (Http("GET", url() + "/healthz", "", {}, 1000).status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    FAIL("nginx did not start: " << ReadAll(dir_.path() + "/error.log"));
  }
  ~Nginx() {
    // A fast shutdown (SIGTERM) takes the workers with the master; SIGKILL would leave them.
    process_->Signal(SIGTERM);
    process_->Wait(10000);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void Replace(std::string* s, const std::string& from, const std::string& to) {
    for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size()))
      s->replace(at, from.size(), to);
  }
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace

TEST_CASE("three nodes behind nginx: any node serves any session, its input, pause, resume and fork",
          "[postgres][cluster]") {
  TempDatabase db;
  auto a = StartNode(db, "a"), b = StartNode(db, "b"), c = StartNode(db, "c");
  Nginx lb({a->port(), b->port(), c->port()});
  CHECK(Http("GET", lb.url() + "/readyz").status == 200);

  // Sessions created through the balancer land on all three nodes.
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i)
    ids.push_back(CreateSession(lb.url(), "release-checklist", "2.1.0"));
  // Each waits for its sign-off, driven by the node that created it.
  for (const auto& id : ids) REQUIRE(WaitStatus(lb.url(), id, "waiting"));
  std::set<std::string> listed;
  Json all = Http("GET", c->url() + "/sessions").json();
  for (const auto& s : all["sessions"]) listed.insert(s.value("sessionId", ""));
  for (const auto& id : ids) CHECK(listed.count(id) == 1);

  // A client on every node follows a session; the answer comes through yet another node.
  const std::string& id = ids[0];
  std::vector<std::unique_ptr<SseClient>> followers;
  for (auto* node : {a.get(), b.get(), c.get()})
    followers.push_back(
        std::make_unique<SseClient>(node->url() + "/sessions/" + id + "/events?history=true"));
  auto answered = Http("POST", b->url() + "/sessions/" + id + "/input",
                       Json{{"id", "signoff"}, {"value", "yes"}}.dump(), {kJsonContent});
  INFO(answered.body);
  REQUIRE(answered.status == 200);
  REQUIRE(WaitStatus(c->url(), id, "completed"));
  int64_t n = SessionSummary(a->url(), id)["eventCount"];
  for (auto& f : followers) {
    REQUIRE(f->WaitFor([&](const auto& events) {
      return static_cast<int64_t>(Positions(events).size()) >= n;
    }));
    CheckExactlyOnce(Positions(f->events()), n);
  }
  // An answer to a finished session gets what one node answers.
  auto late = Http("POST", a->url() + "/sessions/" + id + "/input",
                   Json{{"id", "signoff"}, {"value", "yes"}}.dump(), {kJsonContent});
  CHECK(late.status == 409);

  // Pause and resume through nodes that do not drive the session.
  std::string counter = CreateSession(a->url(), "counter", 200000);
  REQUIRE(WaitStatus(a->url(), counter, "running"));
  auto paused = Http("POST", b->url() + "/sessions/" + counter + "/pause");
  CHECK(paused.json()["wasPaused"] == true);
  REQUIRE(WaitStatus(c->url(), counter, "paused"));
  auto resumed = Http("POST", c->url() + "/sessions/" + counter + "/resume");
  CHECK(resumed.json()["wasResumed"] == true);
  REQUIRE(WaitStatus(b->url(), counter, "running"));
  CHECK(Http("POST", a->url() + "/sessions/" + counter + "/resume").json()["wasResumed"] == false);

  // Fork anywhere, run it elsewhere; delete through a node that does not drive it.
  auto fork = Http("POST", c->url() + "/sessions/" + counter + "/fork",
                   Json{{"position", 5}}.dump(), {kJsonContent});
  REQUIRE(fork.status == 201);
  std::string forked = fork.json()["sessionId"];
  CHECK(Http("POST", a->url() + "/sessions/" + forked + "/resume").json()["wasResumed"] == true);
  CHECK(Http("DELETE", b->url() + "/sessions/" + counter).status == 200);
  CHECK(Http("GET", a->url() + "/sessions/" + counter).status == 404);
  CHECK(Http("DELETE", c->url() + "/sessions/" + forked).status == 200);
  CHECK(Http("GET", b->url() + "/sessions/" + forked).status == 404);
}

TEST_CASE("kill -9 of the driving node: every session finishes elsewhere, every client sees each position once",
          "[postgres][cluster]") {
  TempDatabase db;
  auto a = StartNode(db, "a"), b = StartNode(db, "b"), c = StartNode(db, "c");
  constexpr int kSessions = 4;
  constexpr int kTarget = 4000;
  std::vector<std::string> ids;
  for (int i = 0; i < kSessions; ++i) ids.push_back(CreateSession(a->url(), "counter", kTarget));
  // Followers on the two other nodes, from the start.
  std::vector<std::unique_ptr<SseClient>> followers;
  for (const auto& id : ids) {
    for (auto* node : {b.get(), c.get()})
      followers.push_back(
          std::make_unique<SseClient>(node->url() + "/sessions/" + id + "/events?history=true"));
  }
  for (auto& f : followers) {
    // Node a is killed as soon as every follower has seen its sessions move: followers lag
    // behind it on a loaded machine, and waiting for 200 events once let all four finish first.
    REQUIRE(f->WaitFor([](const auto& events) { return events.size() > 20; }, 30000));
  }
  a->process().Signal(SIGKILL);
  a->process().Wait();
  auto killed_at = std::chrono::steady_clock::now();

  for (const auto& id : ids) {
    INFO("b: " << b->process().Stderr() << "\nc: " << c->process().Stderr());
    REQUIRE(WaitStatus(b->url(), id, "completed", 240000));
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed_at);
  INFO("all sessions completed " << took.count() << " ms after the kill");
  int64_t takeovers = 0;
  for (auto* node : {b.get(), c.get()}) {
    std::string metrics = Http("GET", node->url() + "/metrics").body;
    auto at = metrics.find("\nscaffold_takeovers_total ");
    REQUIRE(at != std::string::npos);
    takeovers += std::stoll(metrics.substr(at + 26));
  }
  // Each at least once (under heavy load a lease may expire again and move a session twice).
  CHECK(takeovers >= kSessions);

  for (size_t i = 0; i < followers.size(); ++i) {
    const std::string& id = ids[i / 2];
    int64_t n = SessionSummary(c->url(), id)["eventCount"];
    REQUIRE(followers[i]->WaitFor(
        [&](const auto& events) { return static_cast<int64_t>(Positions(events).size()) >= n; },
        30000));
    CheckExactlyOnce(Positions(followers[i]->events()), n);
    // A client that reconnects by position after the takeover misses nothing either.
    SseClient again(b->url() + "/sessions/" + id + "/events?closeAtEnd=true",
                    {"Last-Event-ID: 100"});
    REQUIRE(again.WaitForEnd(30000));
    auto rest = Positions(again.events());
    REQUIRE(static_cast<int64_t>(rest.size()) == n - 100);
    CHECK(rest.front() == 101);
    CHECK(rest.back() == n);
  }
  // The final states are those of an uninterrupted run.
  for (const auto& id : ids) {
    auto state = Http("GET", c->url() + "/sessions/" + id + "/state").json()["state"];
    CHECK(state == Json{{"count", kTarget}, {"target", kTarget}});
  }
}

TEST_CASE("a stalled node whose lease was taken over cannot append", "[postgres][cluster]") {
  TempDatabase db;
  auto a = StartNode(db, "a"), b = StartNode(db, "b");
  std::string id = CreateSession(a->url(), "counter", 10000);
  REQUIRE(WaitStatus(a->url(), id, "running"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  a->process().Signal(SIGSTOP);
  // Past the lease: b takes the session over and drives it on.
  bool taken = false;
  for (int i = 0; i < 200 && !taken; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    taken = SessionSummary(b->url(), id).value("running", false);
  }
  if (!taken) {
    WARN("the database's connections (state | wait | statement):\n"
         << db.Sql("SELECT string_agg(concat_ws(' | ', state, wait_event, left(query, 60)), "
                   "E'\\n') FROM pg_stat_activity WHERE datname = current_database()"));
  }
  REQUIRE(taken);
  a->process().Signal(SIGCONT);
  REQUIRE(WaitStatus(b->url(), id, "completed", 240000));
  // a noticed, wrote nothing more, and says so.
  bool noticed = false;
  for (int i = 0; i < 100 && !noticed; ++i) {
    std::string metrics = Http("GET", a->url() + "/metrics").body;
    noticed = metrics.find("\nscaffold_leases_lost_total 1\n") != std::string::npos;
    if (!noticed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(noticed);
  CHECK_THAT(a->process().Stderr(), Catch::Contains("is now driven by another node"));
  auto state = Http("GET", b->url() + "/sessions/" + id + "/state").json()["state"];
  CHECK(state == Json{{"count", 10000}, {"target", 10000}});
  SseClient all(a->url() + "/sessions/" + id + "/events?history=true&closeAtEnd=true");
  REQUIRE(all.WaitForEnd(30000));
  CheckExactlyOnce(Positions(all.events()), SessionSummary(a->url(), id)["eventCount"]);
}

TEST_CASE("kill -9 mid-stream: agent sessions finish on another node, no completed model call paid twice",
          "[postgres][cluster]") {
  FakeUpstream upstream;
  upstream.SetDefault([](const FakeUpstream::Request&) {
    auto r = FakeUpstream::AnthropicText({"Once ", "upon ", "a ", "time ", "a ", "node ", "fell. "});
    for (auto& w : r.writes) w.delay_ms = 25;
    return r;
  });
  TempDatabase db;
  ProcessOptions env;
  env.env = {{"ANTHROPIC_BASE_URL", upstream.url()}, {"ANTHROPIC_API_KEY", "test-key"}};
  std::vector<std::string> chapters = {"--workflow", TestDataFile("chapters.json")};
  auto a = StartNode(db, "a", chapters, env), b = StartNode(db, "b", chapters, env);
  constexpr int kSessions = 3;
  constexpr int kCalls = 5;  // per session
  std::vector<std::string> ids;
  for (int i = 0; i < kSessions; ++i)
    ids.push_back(CreateSession(a->url(), "chapters", "topic " + std::to_string(i)));
  std::vector<std::unique_ptr<SseClient>> followers;
  for (const auto& id : ids)
    followers.push_back(
        std::make_unique<SseClient>(b->url() + "/sessions/" + id + "/events?history=true"));
  // Killed mid-stream: after a couple of chapters, with text deltas flowing.
  for (auto& f : followers) {
    REQUIRE(f->WaitFor(
        [](const auto& events) {
          int done = 0;
          for (const auto& e : events) done += e.type == "agent:completed";
          return done >= 2;
        },
        30000));
  }
  a->process().Signal(SIGKILL);
  a->process().Wait();

  for (const auto& id : ids) {
    INFO("b: " << b->process().Stderr());
    REQUIRE(WaitStatus(b->url(), id, "completed", 240000));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    int64_t n = SessionSummary(b->url(), ids[i])["eventCount"];
    REQUIRE(followers[i]->WaitFor(
        [&](const auto& events) { return static_cast<int64_t>(Positions(events).size()) >= n; },
        30000));
    CheckExactlyOnce(Positions(followers[i]->events()), n);
    auto state = Http("GET", b->url() + "/sessions/" + ids[i] + "/state").json()["state"];
    CHECK(state["n"] == kCalls);
  }
  // Every completed call was recorded once and reused after the takeover: only a call cut off
  // by the kill (at most one per session) was made again.
  CHECK(db.Sql("SELECT count(*) FROM exchanges") == std::to_string(kSessions * kCalls));
  auto requests = upstream.requests();
  std::set<std::string> distinct;
  for (const auto& r : requests) distinct.insert(r.body);
  CHECK(distinct.size() == static_cast<size_t>(kSessions * kCalls));
  CHECK(requests.size() <= static_cast<size_t>(kSessions * kCalls + kSessions));
}

TEST_CASE("SIGTERM hands a node's sessions over at once, long before its lease would expire",
          "[postgres][cluster]") {
  TempDatabase db;
  // A minute's lease: a takeover within the test's time can only be the hand-over.
  auto a = StartNode(db, "a", {"--lease-ms", "60000"}), b = StartNode(db, "b", {"--lease-ms", "60000"});
  std::string id = CreateSession(a->url(), "counter", 5000);
  REQUIRE(WaitStatus(a->url(), id, "running"));
  a->process().Signal(SIGTERM);
  CHECK(a->process().Wait() == 0);
  bool driven = false;
  for (int i = 0; i < 400 && !driven; ++i) {
    driven = SessionSummary(b->url(), id).value("running", false);
    if (!driven) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(driven);
  REQUIRE(WaitStatus(b->url(), id, "completed", 240000));
  CHECK(Http("GET", b->url() + "/sessions/" + id + "/state").json()["state"]["count"] == 5000);
}

TEST_CASE("with --max-running, sessions over a node's capacity wait for a node with room",
          "[postgres][cluster]") {
  TempDatabase db;
  auto a = StartNode(db, "a", {"--max-running", "1"});
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(CreateSession(a->url(), "counter", 3000));
  // One runs on a; the others wait, stored, until a has room again or another node comes.
  auto b = StartNode(db, "b", {"--max-running", "1"});
  for (const auto& id : ids) REQUIRE(WaitStatus(b->url(), id, "completed", 240000));
  for (const auto& id : ids) {
    CHECK(Http("GET", a->url() + "/sessions/" + id + "/state").json()["state"]["count"] == 3000);
  }
}

TEST_CASE("/readyz answers 503 while the database is gone, and the node stays up",
          "[postgres][cluster]") {
  TempDatabase db;
  auto a = StartNode(db, "a");
  std::string id = CreateSession(a->url(), "counter", 1000000);
  CHECK(Http("GET", a->url() + "/readyz").status == 200);
  db.Drop();
  auto ready = Http("GET", a->url() + "/readyz");
  CHECK(ready.status == 503);
  CHECK(ready.json()["error"]["code"] == "not_ready");
  // Everything that needs the database fails cleanly; the process lives on.
  CHECK(Http("GET", a->url() + "/sessions/" + id).status >= 500);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK(Http("GET", a->url() + "/healthz").status == 200);
  CHECK(Http("GET", a->url() + "/readyz").status == 503);
}
