// `scaffold serve` over real sockets on 127.0.0.1: HTTP routes and their errors, SSE streams
// read back with the project's SSE parser, WebSocket frames, limits and restarts.

#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "net/server/event_frames.h"
#include "tests/support/http_client.h"
#include "tests/support/jwt_signer.h"
#include "tests/support/test_server.h"

using scaffold::Json;
using scaffold::net::SseEvent;
using namespace scaffold::testing;

namespace {

std::vector<int64_t> Positions(const std::vector<SseEvent>& events) {
  std::vector<int64_t> out;
  for (const auto& e : events) out.push_back(std::stoll(e.last_event_id));
  return out;
}

// Positions first, first+1, ... with nothing missing or repeated.
bool Contiguous(const std::vector<int64_t>& positions, int64_t first) {
  for (size_t i = 0; i < positions.size(); ++i) {
    if (positions[i] != first + static_cast<int64_t>(i)) return false;
  }
  return true;
}

bool Has(const std::vector<SseEvent>& events, const std::string& name) {
  for (const auto& e : events) {
    if (e.type == name) return true;
  }
  return false;
}

auto Seen(const std::string& name) {
  return [name](const std::vector<SseEvent>& events) { return Has(events, name); };
}

// Streams in these tests end after a finished session's last event (?closeAtEnd=true), as
// attach asks; without it they stay open (see the test of that).
std::string Events(const TestServer& s, const std::string& id, const std::string& query = "") {
  return s.Url("/sessions/" + id + "/events" + (query.empty() ? "?" : query + "&") +
               "closeAtEnd=true");
}

Json Post(const TestServer& s, const std::string& path, const Json& body = Json::object(),
          int want = 200, const std::vector<std::string>& headers = {}) {
  auto r = Http("POST", s.Url(path), body.dump(), headers);
  INFO("POST " << path << " -> " << r.status << " " << r.body);
  CHECK(r.status == want);
  return r.json();
}

}  // namespace

TEST_CASE("sessions are created, listed, read and inspected over HTTP", "[server]") {
  TestServer server;
  auto health = Http("GET", server.Url("/healthz"));
  CHECK(health.status == 200);
  CHECK(health.json() == Json{{"ok", true}});

  auto workflows = Http("GET", server.Url("/workflows")).json()["workflows"];
  REQUIRE(workflows.size() == 2);
  CHECK(workflows[0]["name"] == "chat");
  CHECK(workflows[1]["name"] == "counter");
  CHECK(workflows[1]["inputSchema"] == Json{{"type", "integer"}, {"minimum", 0}});

  std::string id = server.Create("counter", 5);
  CHECK(std::regex_match(
      id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  REQUIRE(server.WaitForStatus(id, "completed"));

  auto one = Http("GET", server.Url("/sessions/" + id));
  CHECK(one.status == 200);
  CHECK(one.headers["content-type"] == "application/json");
  Json s = one.json();
  CHECK(s["sessionId"] == id);
  CHECK(s["workflow"] == "counter");
  CHECK(s["running"] == false);
  CHECK(s["status"] == "completed");
  CHECK(s["input"] == 5);
  int64_t count = s["eventCount"];
  CHECK(count > 5);
  CHECK(s["lastEventAt"].is_number());

  Json list = Http("GET", server.Url("/sessions")).json()["sessions"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["sessionId"] == id);
  CHECK(list[0]["eventCount"] == count);
  CHECK(list[0].contains("running"));

  Json state = Http("GET", server.Url("/sessions/" + id + "/state")).json();
  CHECK(state["state"]["count"] == 5);
  CHECK(state["position"] == count);
  CHECK_FALSE(state.contains("eventsReplayed"));

  Json early = Http("GET", server.Url("/sessions/" + id + "/state?position=3")).json();
  CHECK(early["position"] == 3);
  CHECK(early["eventsReplayed"] == 3);
  CHECK(early["state"]["count"] != 5);
}

TEST_CASE("bad requests get the right status and a JSON error", "[server]") {
  TestServer::Config config;
  config.options.max_body_bytes = 4096;
  TestServer server(config);
  std::string done = server.Create("counter", 1);
  REQUIRE(server.WaitForStatus(done, "completed"));
  std::string s = "/sessions/" + done;

  struct Case {
    const char* method;
    std::string path;
    std::string body;
    int status;
    const char* code;
  };
  const std::vector<Case> cases = {
      {"POST", "/sessions", "not json", 400, "bad_request"},
      {"POST", "/sessions", "[1]", 400, "bad_request"},
      {"POST", "/sessions", R"({"workflow": "nope", "input": 1})", 400, "bad_request"},
      {"POST", "/sessions", R"({"workflow": 7, "input": 1})", 400, "bad_request"},
      {"POST", "/sessions", R"({"input": 1})", 400, "bad_request"},  // two workflows: name one
      {"POST", "/sessions", R"({"workflow": "counter", "input": "x"})", 400, "bad_request"},
      {"POST", "/sessions", R"({"workflow": "counter", "input": 1, "workflowSha256": "0000"})", 409,
       "conflict"},
      {"POST", "/sessions", "{\"input\": \"" + std::string(5000, 'x') + "\"}", 413,
       "payload_too_large"},
      {"PUT", "/sessions", "", 405, "method_not_allowed"},
      {"GET", "/nope", "", 404, "not_found"},
      {"GET", "/console/no-such-file.js", "", 404, "not_found"},
      {"GET", "/sessions/%zz", "", 400, "bad_request"},
      {"GET", "/sessions/0000", "", 404, "not_found"},
      {"GET", "/sessions/0000/state", "", 404, "not_found"},
      {"GET", "/sessions/0000/events", "", 404, "not_found"},
      {"POST", "/sessions/0000/input", R"({"input": "x"})", 404, "not_found"},
      {"POST", "/sessions/0000/pause", "", 404, "not_found"},
      {"POST", "/sessions/0000/fork", "", 404, "not_found"},
      {"DELETE", "/sessions/0000", "", 404, "not_found"},
      {"GET", s + "/nope", "", 404, "not_found"},
      {"GET", s + "/state/extra", "", 404, "not_found"},
      {"POST", s, "{}", 405, "method_not_allowed"},
      {"GET", s + "/pause", "", 405, "method_not_allowed"},
      {"POST", s + "/state", "{}", 405, "method_not_allowed"},
      {"POST", s + "/events", "{}", 405, "method_not_allowed"},
      {"GET", s + "/state?position=abc", "", 400, "bad_request"},
      {"GET", s + "/events?fromPosition=first", "", 400, "bad_request"},
      {"GET", s + "/events?fromPosition=x", "", 400, "bad_request"},
      {"POST", s + "/input", "{}", 400, "bad_request"},
      {"POST", s + "/input", "[]", 400, "bad_request"},
      {"POST", s + "/input", R"({"input": "x"})", 409, "conflict"},  // nothing is waiting
      {"POST", s + "/fork", R"({"position": "x"})", 400, "bad_request"},
      {"POST", s + "/tools/search", R"({"input": {}})", 409, "conflict"},  // finished session
      {"POST", s + "/tools", R"({"input": {}})", 404, "not_found"},
  };
  for (const auto& c : cases) {
    auto r = Http(c.method, server.Url(c.path), c.body);
    INFO(c.method << " " << c.path.substr(0, 80) << " -> " << r.status << " " << r.body);
    CHECK(r.status == c.status);
    Json e = r.json();
    REQUIRE(e.is_object());
    CHECK(e["error"]["code"] == c.code);
    CHECK_FALSE(e["error"]["message"].get<std::string>().empty());
  }
  // The finished session is untouched by all of it.
  CHECK(Http("GET", server.Url(s)).json()["status"] == "completed");
}

TEST_CASE("an ask is answered over HTTP, exactly once", "[server]") {
  TestServer server;
  std::string id = server.Create("chat", "write a haiku");
  SseClient sse(Events(server, id, "?history=true"));
  REQUIRE(sse.WaitFor(Seen("input:requested")));
  CHECK(Http("GET", server.Url("/sessions/" + id)).json()["status"] == "waiting");

  Json ok = Post(server, "/sessions/" + id + "/input", {{"input", "shorter"}});
  CHECK(ok == Json{{"ok", true}});
  auto again = Http("POST", server.Url("/sessions/" + id + "/input"), R"({"input": "longer"})");
  CHECK(again.status == 409);
  CHECK(again.json()["error"]["code"] == "conflict");

  REQUIRE(sse.WaitForEnd());
  auto events = sse.events();
  CHECK(events.back().type == "workflow:completed");
  CHECK(Json::parse(events.back().data)["payload"]["result"] == "shorter");
  CHECK(Contiguous(Positions(events), 1));
  int received = 0;
  for (const auto& e : events) received += e.type == "input:received";
  CHECK(received == 1);
}

TEST_CASE("pause, resume, fork and delete act on running sessions", "[server]") {
  TestServer server;
  server.provider().hang = true;
  std::string id = server.Create("chat", "hello");
  SseClient sse(Events(server, id, "?history=true"));
  REQUIRE(sse.WaitFor(Seen("agent:started")));

  CHECK(Post(server, "/sessions/" + id + "/pause") == Json{{"ok", true}, {"wasPaused", true}});
  REQUIRE(server.WaitForStatus(id, "paused"));
  CHECK(server.provider().cancelled == 1);  // the call in flight was aborted
  CHECK(Post(server, "/sessions/" + id + "/pause") == Json{{"ok", true}, {"wasPaused", false}});
  // The log reads paused once session:paused is committed; the session has ended a moment later.
  bool ended = false;
  for (int i = 0; i < 500 && !ended; ++i) {
    ended = Http("GET", server.Url("/sessions/" + id)).json()["running"] == false;
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(ended);

  server.provider().hang = false;
  CHECK(Post(server, "/sessions/" + id + "/resume") == Json{{"ok", true}, {"wasResumed", true}});
  REQUIRE(sse.WaitFor(Seen("input:requested")));
  CHECK(Post(server, "/sessions/" + id + "/resume") == Json{{"ok", true}, {"wasResumed", false}});
  CHECK(Http("GET", server.Url("/sessions/" + id)).json()["running"] == true);
  CHECK(Has(sse.events(), "session:paused"));
  CHECK(Has(sse.events(), "session:resumed"));
  CHECK(Contiguous(Positions(sse.events()), 1));

  SECTION("fork: a paused copy that runs on its own") {
    int64_t count = Http("GET", server.Url("/sessions/" + id)).json()["eventCount"];
    Json fork = Post(server, "/sessions/" + id + "/fork", Json::object(), 201);
    CHECK(fork["originalSessionId"] == id);
    CHECK(fork["eventsCopied"] == count);
    std::string copy = fork["sessionId"];
    Json info = Http("GET", server.Url("/sessions/" + copy)).json();
    CHECK(info["status"] == "paused");
    CHECK(info["parentSessionId"] == id);
    CHECK(Post(server, "/sessions/" + copy + "/resume")["wasResumed"] == true);
    INFO(Http("GET", server.Url("/sessions/" + copy)).body);
    REQUIRE(server.WaitForStatus(copy, "waiting"));

    Post(server, "/sessions/" + copy + "/input", {{"input", "fork answer"}});
    REQUIRE(server.WaitForStatus(copy, "completed"));
    CHECK(Http("GET", server.Url("/sessions/" + id)).json()["status"] ==
          "waiting");  // the original waits on

    Json early = Post(server, "/sessions/" + id + "/fork", {{"position", 2}}, 201);
    CHECK(early["eventsCopied"] == 2);
  }

  SECTION("delete cancels the call in flight and ends the streams") {
    server.provider().hang = true;
    std::string busy = server.Create("chat", "again");
    SseClient watcher(Events(server, busy, "?history=true"));
    REQUIRE(watcher.WaitFor(Seen("agent:started")));
    int cancelled = server.provider().cancelled;
    CHECK(Http("DELETE", server.Url("/sessions/" + busy)).json() == Json{{"ok", true}});
    CHECK(server.provider().cancelled == cancelled + 1);
    CHECK(watcher.WaitForEnd());
    CHECK(Http("GET", server.Url("/sessions/" + busy)).status == 404);
    CHECK(Http("DELETE", server.Url("/sessions/" + busy)).status == 404);
    auto left = server.store().ReadEvents(busy, 0, 10);
    CHECK((!left.ok() || left->empty()));
  }
}

TEST_CASE("SSE streams are framed as the protocol says and read back by the SSE parser",
          "[server][sse]") {
  TestServer server;
  std::string id = server.Create("counter", 20);
  REQUIRE(server.WaitForStatus(id, "completed"));
  auto stored = server.store().ReadEvents(id, 0, 10000).value();

  SseClient sse(Events(server, id, "?history=true"));
  REQUIRE(sse.WaitForEnd());  // the stream closes after workflow:completed
  CHECK(sse.status() == 200);
  auto headers = sse.headers();
  CHECK(headers["content-type"] == "text/event-stream");
  CHECK(headers["cache-control"] == "no-cache");
  CHECK(headers["x-accel-buffering"] == "no");
  auto events = sse.events();
  REQUIRE(events.size() == stored.size());
  for (size_t i = 0; i < events.size(); ++i) {
    INFO(i);
    CHECK(events[i].last_event_id == std::to_string(stored[i]->position));
    CHECK(events[i].type == stored[i]->name);
    CHECK(events[i].data == stored[i]->wire);  // the stored bytes, unchanged
  }
  CHECK(events.back().type == "workflow:completed");

  SseClient from(Events(server, id, "?fromPosition=5"));
  REQUIRE(from.WaitForEnd());
  CHECK(Positions(from.events()).front() == 5);
  CHECK(Contiguous(Positions(from.events()), 5));

  SseClient after(Events(server, id), {"Last-Event-ID: 5"});
  REQUIRE(after.WaitForEnd());
  CHECK(Contiguous(Positions(after.events()), 6));
  CHECK(after.events().size() == stored.size() - 5);

  SseClient live(Events(server, id));  // live only: a finished session has nothing more to send
  REQUIRE(live.WaitForEnd());
  CHECK(live.status() == 200);
  CHECK(live.events().empty());

  SseClient past_end(Events(server, id, "?fromPosition=100000"));
  REQUIRE(past_end.WaitForEnd());
  CHECK(past_end.events().empty());
}

TEST_CASE("SSE sends a comment heartbeat while a session is quiet", "[server][sse]") {
  TestServer::Config config;
  config.options.heartbeat_ms = 50;
  TestServer server(config);
  server.provider().hang = true;
  std::string id = server.Create("chat", "hello");
  SseClient sse(Events(server, id, "?history=true"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (sse.comments_seen().find(": heartbeat") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK_THAT(sse.comments_seen(), Catch::Contains(": heartbeat"));
  CHECK(Has(sse.events(), "agent:started"));  // heartbeats do not disturb the events
}

namespace {

// Waits for the session to complete, then checks that each stream holds every position from
// first[i] (from the first one it received when negative) to the session's last event; returns
// how many events the session has. With `late_live_may_be_empty`, a live-only stream (first[i]
// negative) may have no event at all: it joined after the session's end, which a fast run on a
// loaded machine can reach before the last client connects.
int64_t CheckStreamsToTheEnd(TestServer& server, const std::string& id,
                             const std::vector<std::unique_ptr<SseClient>>& clients,
                             const std::vector<int64_t>& first,
                             bool late_live_may_be_empty = false) {
  REQUIRE(server.WaitForStatus(id, "completed", {}, 60000));
  int64_t total = Http("GET", server.Url("/sessions/" + id)).json()["eventCount"];
  for (size_t i = 0; i < clients.size(); ++i) {
    INFO("client " << i);
    REQUIRE(clients[i]->WaitForEnd(30000));
    auto positions = Positions(clients[i]->events());
    if (positions.empty() && first[i] < 0 && late_live_may_be_empty) {
      CHECK(clients[i]->status() == 200);
      continue;
    }
    REQUIRE_FALSE(positions.empty());
    CHECK(Contiguous(positions, first[i] < 0 ? positions.front() : first[i]));
    CHECK(positions.back() == total);
    CHECK(clients[i]->events().back().type == "workflow:completed");
  }
  return total;
}

}  // namespace

TEST_CASE("history plus live has no gap and no duplicate while events are appended",
          "[server][sse]") {
  TestServer server;
  std::string id = server.Create("counter", 1500);
  // Clients join at different moments of the run, from different starting points.
  std::vector<std::unique_ptr<SseClient>> clients;
  std::vector<int64_t> first;
  for (int i = 0; i < 12; ++i) {
    switch (i % 4) {
      case 0:
        clients.push_back(std::make_unique<SseClient>(Events(server, id, "?history=true")));
        first.push_back(1);
        break;
      case 1:
        clients.push_back(std::make_unique<SseClient>(
            Events(server, id, "?fromPosition=" + std::to_string(i * 10))));
        first.push_back(i * 10);
        break;
      case 2:
        clients.push_back(std::make_unique<SseClient>(
            Events(server, id),
            std::vector<std::string>{"Last-Event-ID: " + std::to_string(i * 7)}));
        first.push_back(i * 7 + 1);
        break;
      default:
        clients.push_back(std::make_unique<SseClient>(Events(server, id)));
        first.push_back(-1);
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  WsClient ws(server.port(), "/ws");
  REQUIRE(ws.connected());
  ws.Send(Json{{"type", "subscribe"}, {"sessionId", id}, {"fromPosition", 1}});

  int64_t total = CheckStreamsToTheEnd(server, id, clients, first, true);
  int64_t next = 1;
  while (next <= total) {
    auto m = ws.Receive(10000);
    REQUIRE(m);
    REQUIRE((*m)["type"] == "event");
    REQUIRE((*m)["event"]["position"] == next);
    ++next;
  }
}

TEST_CASE("live-only streams that join while events are committed miss none after their first",
          "[server][sse]") {
  // From the first event each receives, none is missing: commits reach a stream through its
  // connection loop's share of the fan-out, and those that reach it while its response header
  // is on its way are queued behind the header.
  TestServer server;
  std::string id = server.Create("counter", 3000);
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < 40; ++i) {
    clients.push_back(std::make_unique<SseClient>(Events(server, id)));
    if (i % 8 == 7) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CheckStreamsToTheEnd(server, id, clients, std::vector<int64_t>(clients.size(), -1));
}

TEST_CASE("a stream resumed with Last-Event-ID after forced disconnects misses nothing",
          "[server][sse][slow]") {
  TestServer server;
  std::string id = server.Create("counter", 3000);
  std::mt19937 rng(20261121);
  // Follows the session from its start to its end, dropping the connection at random points;
  // once it has ended, starts over from a random position. Every stream must continue exactly
  // after the last event its predecessor delivered.
  int64_t last = 0;
  int64_t total = 0;  // known once the final event was seen
  int reconnects = 0, runs = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (reconnects < 300 && std::chrono::steady_clock::now() < deadline) {
    std::vector<std::string> headers;
    if (last > 0) headers.push_back("Last-Event-ID: " + std::to_string(last));
    SseClient sse(Events(server, id, last == 0 ? "?history=true" : ""), headers);
    size_t want = std::uniform_int_distribution<size_t>(1, 40)(rng);
    sse.WaitFor([&](const std::vector<SseEvent>& events) { return events.size() >= want; });
    sse.Close();  // at a random point, possibly in the middle of a frame
    auto events = sse.events();
    INFO("reconnect " << reconnects << " after position " << last);
    REQUIRE(Contiguous(Positions(events), last + 1));
    if (!events.empty()) last = std::stoll(events.back().last_event_id);
    if (!events.empty() && events.back().type == "workflow:completed") {
      total = last;
      ++runs;
      last = std::uniform_int_distribution<int64_t>(0, total - 1)(rng);
    }
    ++reconnects;
  }
  CHECK(reconnects == 300);
  CHECK(runs >= 1);
  CHECK(total == Http("GET", server.Url("/sessions/" + id)).json()["eventCount"]);
}

TEST_CASE("WebSocket: subscriptions to several sessions, input, ping and error frames",
          "[server][ws]") {
  TestServer server;
  std::string counted = server.Create("counter", 10);
  REQUIRE(server.WaitForStatus(counted, "completed"));
  std::string chat = server.Create("chat", "hi");
  REQUIRE(server.WaitForStatus(chat, "waiting"));

  WsClient ws(server.port(), "/ws?client=web");
  REQUIRE(ws.connected());
  auto is = [](const char* type) { return [type](const Json& m) { return m["type"] == type; }; };

  ws.Send(Json{{"type", "ping"}});
  CHECK(ws.ReceiveUntil(is("pong")));

  SECTION("errors") {
    struct Case {
      std::string text;
      const char* code;
    };
    for (const Case& c : std::vector<Case>{
             {"{not json", "bad_json"},
             {"[1, 2]", "bad_json"},
             {R"({"kind": "ping"})", "bad_request"},
             {R"({"type": "dance"})", "unknown_type"},
             {R"({"type": "subscribe"})", "bad_request"},
             {R"({"type": "subscribe", "sessionId": "x", "fromPosition": -1})", "bad_request"},
             {R"({"type": "subscribe", "sessionId": "nope"})", "not_found"},
             {R"({"type": "input", "sessionId": "nope", "value": 1})", "not_found"},
             {R"({"type": "input", "value": 1})", "bad_request"}}) {
      INFO(c.text);
      ws.Send(c.text);
      auto m = ws.Receive();
      REQUIRE(m);
      CHECK((*m)["type"] == "error");
      CHECK((*m)["code"] == c.code);
      CHECK_FALSE((*m)["message"].get<std::string>().empty());
    }
    ws.Send(Json{{"type", "ping"}});  // still connected
    CHECK(ws.ReceiveUntil(is("pong")));
  }

  SECTION("two sessions on one connection, then input") {
    ws.Send(Json{{"type", "subscribe"}, {"sessionId", counted}, {"fromPosition", 1}});
    ws.Send(Json{{"type", "subscribe"}, {"sessionId", chat}, {"fromPosition", 1}});
    std::map<std::string, std::vector<int64_t>> positions;
    auto want_counted = server.store().ReadEvents(counted, 0, 1000).value().size();
    auto want_chat = server.store().ReadEvents(chat, 0, 1000).value().size();
    while (positions[counted].size() < want_counted || positions[chat].size() < want_chat) {
      auto m = ws.Receive();
      REQUIRE(m);
      REQUIRE((*m)["type"] == "event");
      positions[(*m)["sessionId"]].push_back((*m)["event"]["position"]);
    }
    CHECK(Contiguous(positions[counted], 1));
    CHECK(Contiguous(positions[chat], 1));

    ws.Send(Json{{"type", "input"}, {"sessionId", chat}, {"value", "lovely"}});
    auto done = ws.ReceiveUntil([&](const Json& m) {
      return m["type"] == "event" && m["sessionId"] == chat &&
             m["event"]["name"] == "workflow:completed";
    });
    REQUIRE(done);
    CHECK((*done)["event"]["payload"]["result"] == "lovely");
    ws.Send(Json{{"type", "input"}, {"sessionId", chat}, {"value", "again"}});
    auto refused = ws.ReceiveUntil(is("error"));
    REQUIRE(refused);
    CHECK((*refused)["code"] == "conflict");
    CHECK((*refused)["sessionId"] == chat);
  }

  SECTION("unsubscribe stops a session's events") {
    ws.Send(Json{{"type", "subscribe"}, {"sessionId", chat}});  // live only
    ws.Send(Json{{"type", "unsubscribe"}, {"sessionId", chat}});
    ws.Send(Json{{"type", "ping"}});
    REQUIRE(ws.ReceiveUntil(is("pong")));
    Post(server, "/sessions/" + chat + "/input", {{"input", "fine"}});
    REQUIRE(server.WaitForStatus(chat, "completed"));
    ws.Send(Json{{"type", "ping"}});
    auto next = ws.Receive();
    REQUIRE(next);
    CHECK((*next)["type"] == "pong");  // no event came in between
  }
}

TEST_CASE("WebSocket text frames carry 7-bit, 16-bit and 64-bit lengths", "[server][ws]") {
  // RFC 6455 §5.2, decoded by hand: FIN + text, no mask, then the length.
  for (size_t size :
       {size_t{0}, size_t{125}, size_t{126}, size_t{65535}, size_t{65536}, size_t{70001}}) {
    INFO(size);
    std::string frame = scaffold::net::WsTextFrame(std::string(size, 'x'));
    REQUIRE(frame.size() >= 2);
    CHECK(static_cast<unsigned char>(frame[0]) == 0x81);
    auto byte = [&](size_t i) {
      return static_cast<uint64_t>(static_cast<unsigned char>(frame[i]));
    };
    size_t header = 2;
    uint64_t length = byte(1);
    CHECK((length & 0x80) == 0);
    if (length == 126) {
      header = 4;
      length = byte(2) << 8 | byte(3);
      CHECK(length >= 126);
    } else if (length == 127) {
      header = 10;
      length = 0;
      for (size_t i = 2; i < 10; ++i) length = length << 8 | byte(i);
      CHECK(length > 65535);
    }
    CHECK(length == size);
    CHECK(frame.size() == header + size);
  }
}

TEST_CASE("WebSocket: a message over 64 KiB reaches the client whole, between small ones",
          "[server][ws]") {
  TestServer server;
  std::string chat = server.Create("chat", "hi");
  REQUIRE(server.WaitForStatus(chat, "waiting"));
  WsClient ws(server.port(), "/ws");
  REQUIRE(ws.connected());
  ws.Send(Json{{"type", "subscribe"}, {"sessionId", chat}});
  ws.Send(Json{{"type", "ping"}});
  REQUIRE(ws.ReceiveUntil([](const Json& m) { return m["type"] == "pong"; }));

  std::string big(70000, 'b');
  ws.Send(Json{{"type", "input"}, {"sessionId", chat}, {"value", big}});
  ws.Send(Json{{"type", "ping"}});
  auto done = ws.ReceiveUntil([&](const Json& m) {
    return m["type"] == "event" && m["event"]["name"] == "workflow:completed";
  });
  REQUIRE(done);
  CHECK((*done)["event"]["payload"]["result"] == big);
  ws.Send(Json{{"type", "ping"}});
  CHECK(ws.ReceiveUntil([](const Json& m) { return m["type"] == "pong"; }));
}

TEST_CASE("WebSocket limits: oversized messages close with 1009, silent peers are dropped",
          "[server][ws]") {
  TestServer::Config config;
  config.options.max_ws_message_bytes = 1024;
  config.options.idle_timeout_ms = 300;
  TestServer server(config);

  WsClient big(server.port(), "/ws");
  REQUIRE(big.connected());
  big.Send(Json{{"type", "ping"}, {"padding", std::string(2000, 'x')}});
  CHECK(big.close_code() == 1009);

  // A client that answers pings stays connected past the idle timeout.
  WsClient alive(server.port(), "/ws");
  REQUIRE(alive.connected());
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  alive.Send(Json{{"type", "ping"}});
  CHECK(alive.Receive(5000).value_or(Json())["type"] == "pong");

  // One that completes the handshake and then never reads or answers is closed.
  RawSocket dead(server.port());
  REQUIRE(dead.Send(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
  CHECK_THAT(dead.Read(5000, "\r\n\r\n"), Catch::StartsWith("HTTP/1.1 101"));
  CHECK(dead.WaitClosed(5000));
}

namespace {

const std::string kSecret = "server-test-secret-0123456789abcdef0123";

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Json Claims(const std::string& sub, Json extra = Json::object()) {
  Json c = {{"sub", sub}, {"exp", Now() + 600}, {"iat", Now()}};
  c.update(extra);
  return c;
}

std::string Bearer(const std::string& token) {
  return "Authorization: Bearer " + token;
}

scaffold::net::JwtVerifier HsVerifier() {
  return std::move(scaffold::net::JwtVerifier::FromSecret(kSecret, {}).value());
}

}  // namespace

TEST_CASE("with --auth jwt every route but /healthz needs a valid token", "[server][auth]") {
  auto hs = HsVerifier();
  TestServer::Config config;
  config.verifier = &hs;
  TestServer server(config);
  std::string ada = SignHs256(kSecret, Claims("ada"));

  CHECK(Http("GET", server.Url("/healthz")).status == 200);
  for (const char* path :
       {"/sessions", "/workflows", "/metrics", "/sessions/x", "/sessions/x/events", "/nope"}) {
    INFO(path);
    auto r = Http("GET", server.Url(path));
    CHECK(r.status == 401);
    CHECK(r.json()["error"]["code"] == "unauthorized");
  }
  CHECK(Http("GET", server.Url("/sessions"), "", {Bearer(ada)}).status == 200);
  CHECK(Http("GET", server.Url("/sessions?token=" + ada)).status == 200);
  WsClient anonymous(server.port(), "/ws");
  CHECK_FALSE(anonymous.connected());
  const std::vector<std::string> upgrade = {
      "Upgrade: websocket", "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"};
  CHECK(Http("GET", server.Url("/ws"), "", upgrade).status == 401);

  WsClient with_token(server.port(), "/ws?token=" + ada);
  CHECK(with_token.connected());

  std::string id = server.Create("counter", 3, {Bearer(ada)});
  REQUIRE(server.WaitForStatus(id, "completed", {Bearer(ada)}));
  SseClient sse(
      Events(server, id, "?history=true&token=" + ada));  // as a browser's EventSource would
  REQUIRE(sse.WaitForEnd());
  CHECK(sse.events().back().type == "workflow:completed");

  SECTION("attacks are refused with 401 on HTTP, SSE and WebSocket") {
    TestKey rsa("RSA");
    auto unsigned_token = [](const std::string& alg) {
      return JwtSigningInput({{"alg", alg}}, Claims("ada")) + ".";
    };
    std::string good = SignHs256(kSecret, Claims("ada"));
    size_t a = good.find('.'), b = good.rfind('.');
    std::vector<std::pair<std::string, std::string>> attacks = {
        {"alg none", unsigned_token("none")},
        {"alg None", unsigned_token("None")},
        {"alg NONE", unsigned_token("NONE")},
        {"RS256 to an HS256 server", SignWith(rsa, "RS256", Claims("ada"))},
        {"wrong secret", SignHs256(kSecret + "x", Claims("ada"))},
        {"expired", SignHs256(kSecret, Claims("ada", {{"exp", Now() - 3600}}))},
        {"not valid yet", SignHs256(kSecret, Claims("ada", {{"nbf", Now() + 3600}}))},
        {"tampered payload", good.substr(0, a + 1) +
                                 scaffold::net::Base64UrlEncode(Claims("root").dump()) +
                                 good.substr(b)},
        {"two segments", good.substr(0, b)},
        {"four segments", good + ".x"},
        {"unknown crit",
         SignHs256(kSecret, Claims("ada"), {{"alg", "HS256"}, {"crit", {"exp"}}, {"exp", 1}})},
        {"no sub", SignHs256(kSecret, {{"exp", Now() + 600}})},
    };
    for (const auto& [what, token] : attacks) {
      INFO(what);
      CHECK(Http("GET", server.Url("/sessions"), "", {Bearer(token)}).status == 401);
      CHECK(Http("GET", server.Url("/sessions/" + id + "/events?history=true&token=" + token))
                .status == 401);
      CHECK(Http("GET", server.Url("/ws?token=" + token), "", upgrade).status == 401);
    }
  }
}

TEST_CASE("RS256 servers refuse key confusion and kid tricks", "[server][auth]") {
  TestKey rsa("RSA");
  TestKey other("RSA");
  auto jwks =
      std::move(scaffold::net::JwtVerifier::FromJwks({{"keys", {rsa.Jwk("k1")}}}, {}).value());
  TestServer::Config config;
  config.verifier = &jwks;
  TestServer server(config);
  auto status = [&](const std::string& token) {
    return Http("GET", server.Url("/sessions"), "", {Bearer(token)}).status;
  };
  CHECK(status(SignWith(rsa, "RS256", Claims("ada"), {{"alg", "RS256"}, {"kid", "k1"}})) == 200);
  CHECK(status(SignHs256(rsa.PublicPem(), Claims("ada"), {{"alg", "HS256"}, {"kid", "k1"}})) ==
        401);
  for (const char* kid :
       {"../../../../etc/passwd", "k1' OR '1'='1", "", "http://evil.example/key.json"}) {
    INFO(kid);
    CHECK(status(SignWith(other, "RS256", Claims("ada"), {{"alg", "RS256"}, {"kid", kid}})) == 401);
  }
  CHECK(status(SignWith(other, "RS256", Claims("ada"), {{"alg", "RS256"}, {"kid", "k1"}})) == 401);
}

TEST_CASE("a user's sessions are invisible to every other user, on every route", "[server][auth]") {
  auto hs = HsVerifier();
  TestServer::Config config;
  config.verifier = &hs;
  TestServer server(config);
  std::string ada = SignHs256(kSecret, Claims("ada"));
  std::string bob = SignHs256(kSecret, Claims("bob"));
  std::string id = server.Create("chat", "private", {Bearer(ada)});
  REQUIRE(server.WaitForStatus(id, "waiting", {Bearer(ada)}));
  int64_t events =
      Http("GET", server.Url("/sessions/" + id), "", {Bearer(ada)}).json()["eventCount"];

  struct Route {
    const char* method;
    std::string path;
    std::string body;
  };
  std::string s = "/sessions/" + id;
  const std::vector<Route> routes = {
      {"GET", s, ""},
      {"GET", s + "/state", ""},
      {"GET", s + "/state?position=1", ""},
      {"GET", s + "/events?history=true", ""},
      {"POST", s + "/input", R"({"input": "hijack"})"},
      {"POST", s + "/input", R"({"id": "review", "value": "hijack"})"},
      {"POST", s + "/pause", ""},
      {"POST", s + "/resume", ""},
      {"POST", s + "/fork", ""},
      {"POST", s + "/tools/search", R"({"input": {}})"},
      {"DELETE", s, ""},
  };
  auto missing =
      Http("GET", server.Url("/sessions/00000000-0000-4000-8000-000000000000"), "", {Bearer(bob)});
  for (const auto& r : routes) {
    for (bool in_query : {false, true}) {
      INFO(r.method << " " << r.path << (in_query ? " (?token=)" : " (Bearer)"));
      std::string url = server.Url(r.path);
      std::vector<std::string> headers;
      if (in_query) {
        url += (r.path.find('?') == std::string::npos ? "?token=" : "&token=") + bob;
      } else {
        headers.push_back(Bearer(bob));
      }
      auto res = Http(r.method, url, r.body, headers);
      CHECK(res.status == 404);
      // Exactly what a session that does not exist looks like.
      CHECK(res.json()["error"]["code"] == "not_found");
    }
  }
  CHECK(missing.status == 404);
  CHECK(Http("GET", server.Url("/sessions"), "", {Bearer(bob)}).json()["sessions"].empty());

  WsClient ws(server.port(), "/ws?token=" + bob);
  REQUIRE(ws.connected());
  for (const Json& m : {Json{{"type", "subscribe"}, {"sessionId", id}, {"fromPosition", 1}},
                        Json{{"type", "input"}, {"sessionId", id}, {"value", "hijack"}}}) {
    ws.Send(m);
    auto reply = ws.Receive();
    REQUIRE(reply);
    CHECK((*reply)["type"] == "error");
    CHECK((*reply)["code"] == "not_found");
  }

  // Ada's session went on untouched.
  Json info = Http("GET", server.Url(s), "", {Bearer(ada)}).json();
  CHECK(info["status"] == "waiting");
  CHECK(info["eventCount"] == events);
  CHECK(Http("GET", server.Url("/sessions"), "", {Bearer(ada)}).json()["sessions"].size() == 1);
}

TEST_CASE("connection limits, slowloris timeouts and CORS", "[server][limits]") {
  TestServer::Config config;
  config.options.max_connections = 3;
  config.options.header_timeout_ms = 300;
  config.options.idle_timeout_ms = 300;
  config.options.cors_origins = {"https://app.example"};
  TestServer server(config);

  SECTION("over --max-connections is 503") {
    std::vector<std::unique_ptr<RawSocket>> held;
    for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawSocket>(server.port()));
    RawSocket extra(server.port());
    REQUIRE(extra.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string reply = extra.Read(5000, "}}");
    CHECK_THAT(reply, Catch::StartsWith("HTTP/1.1 503"));
    CHECK_THAT(reply, Catch::Contains("\"code\":\"unavailable\""));
    CHECK(server.metrics().connections_refused >= 1);
    held.clear();  // slots come back once their connections are gone
    int status = 0;
    for (int i = 0; i < 200 && status != 200; ++i) {
      status = Http("GET", server.Url("/healthz")).status;
      if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(status == 200);
  }

  SECTION(
      "half a request is dropped after the header timeout, an idle keep-alive after the idle "
      "timeout") {
    RawSocket slow(server.port());
    REQUIRE(slow.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));  // and never the rest
    CHECK(slow.WaitClosed(5000));
    RawSocket idle(server.port());
    REQUIRE(idle.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK_THAT(idle.Read(5000, "}"), Catch::StartsWith("HTTP/1.1 200"));
    CHECK(idle.WaitClosed(5000));
  }

  SECTION("CORS headers only for the configured origins") {
    auto allowed = Http("GET", server.Url("/healthz"), "", {"Origin: https://app.example"});
    CHECK(allowed.headers["access-control-allow-origin"] == "https://app.example");
    auto other = Http("GET", server.Url("/healthz"), "", {"Origin: https://evil.example"});
    CHECK(other.headers.count("access-control-allow-origin") == 0);
    auto preflight = Http("OPTIONS", server.Url("/sessions"), "",
                          {"Origin: https://app.example", "Access-Control-Request-Method: POST"});
    CHECK(preflight.status == 204);
    CHECK(preflight.headers["access-control-allow-origin"] == "https://app.example");
    CHECK_THAT(preflight.headers["access-control-allow-methods"], Catch::Contains("POST"));
    CHECK_THAT(preflight.headers["access-control-allow-headers"], Catch::Contains("Authorization"));
  }
}

TEST_CASE("without --cors-origin no CORS header is ever sent", "[server][limits]") {
  TestServer server;
  auto r = Http("GET", server.Url("/healthz"), "", {"Origin: https://app.example"});
  CHECK(r.status == 200);
  CHECK(r.headers.count("access-control-allow-origin") == 0);
}

TEST_CASE("a consumer that stops reading is disconnected and server memory stays bounded",
          "[server][limits]") {
  TestServer::Config config;
  config.options.max_send_queue_bytes = 64 * 1024;
  TestServer server(config);
  server.provider().hang = true;
  std::string quiet = server.Create("chat", "x");  // keeps nothing busy; a second session for WS
  std::string id = server.Create("counter", 40000);

  // Both never read a byte, with the smallest receive buffers the kernel allows.
  RawSocket sse(server.port(), 1024);
  REQUIRE(sse.Send("GET /sessions/" + id + "/events HTTP/1.1\r\nHost: x\r\n\r\n"));
  RawSocket ws(server.port(), 1024);
  REQUIRE(
      ws.Send("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
  // An unmasked client frame is a protocol error, so send a properly masked subscribe.
  std::string text = Json{{"type", "subscribe"}, {"sessionId", id}}.dump();
  std::string frame = {static_cast<char>(0x81), static_cast<char>(0x80 | text.size()), 1, 2, 3, 4};
  for (size_t i = 0; i < text.size(); ++i)
    frame += static_cast<char>(text[i] ^ "\x01\x02\x03\x04"[i % 4]);
  REQUIRE(text.size() < 126);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(ws.Send(frame));

  REQUIRE(server.WaitForStatus(id, "completed", {}, 120000));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.metrics().slow_consumers_dropped < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(server.metrics().slow_consumers_dropped == 2);
  CHECK(sse.WaitClosed(10000));
  CHECK(ws.WaitClosed(10000));
  CHECK(server.metrics().sse_open == 0);
  CHECK(server.metrics().ws_open == 0);

  // A client that keeps up gets every event, and one dropped can resume where it was.
  SseClient resumed(Events(server, id), {"Last-Event-ID: 100"});
  REQUIRE(resumed.WaitForEnd(60000));
  CHECK(Contiguous(Positions(resumed.events()), 101));
  (void)quiet;
}

TEST_CASE("a burst of connections is followed by one trim of the heap", "[server]") {
  TestServer server;
  CHECK(server.metrics().heap_trims == 0);
  for (int i = 0; i < 300; ++i) REQUIRE(Http("GET", server.Url("/healthz")).status == 200);
  // 256 connections done, then 100 ms without another: trimmed, once.
  for (int i = 0; i < 500 && server.metrics().heap_trims == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(server.metrics().heap_trims == 1);
  CHECK_THAT(Http("GET", server.Url("/metrics")).body,
             Catch::Contains("\nscaffold_heap_trims_total 1\n"));
}

TEST_CASE("GET /metrics reports sessions, events, connections and provider use", "[server]") {
  TestServer server;
  std::string chat = server.Create("chat", "hi");
  REQUIRE(server.WaitForStatus(chat, "waiting"));
  std::string counted = server.Create("counter", 4);
  REQUIRE(server.WaitForStatus(counted, "completed"));
  SseClient open(Events(server, chat));
  WsClient ws(server.port(), "/ws");
  REQUIRE(ws.connected());
  ws.Send(Json{{"type", "ping"}});
  REQUIRE(ws.Receive());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  auto r = Http("GET", server.Url("/metrics"));
  CHECK(r.status == 200);
  CHECK_THAT(r.headers["content-type"], Catch::StartsWith("text/plain; version=0.0.4"));
  auto has = [&](const std::string& line) {
    INFO(r.body);
    CHECK_THAT(r.body, Catch::Contains("\n" + line + "\n"));
  };
  has(R"(scaffold_sessions{status="waiting"} 1)");
  has(R"(scaffold_sessions{status="completed"} 1)");
  has("scaffold_sse_connections 1");
  has("scaffold_ws_connections 1");
  has("scaffold_provider_requests_total 1");
  has("scaffold_input_tokens_total 12");
  has("scaffold_output_tokens_total 3");
  has("# TYPE scaffold_events_appended_total counter");
  int64_t appended = server.store().ReadEvents(chat, 0, 1000).value().size() +
                     server.store().ReadEvents(counted, 0, 1000).value().size();
  has("scaffold_events_appended_total " + std::to_string(appended));
}

TEST_CASE("after a crash, running sessions resume from the log and paused ones stay paused",
          "[server]") {
  TempDir dir;
  TestServer::Config config;
  config.db_path = dir.path() + "/sessions.db";
  std::string running, paused, waiting;
  {
    TestServer before(config);
    paused = before.Create("chat", "to pause");
    REQUIRE(before.WaitForStatus(paused, "waiting"));
    Post(before, "/sessions/" + paused + "/pause");
    REQUIRE(before.WaitForStatus(paused, "paused"));
    waiting = before.Create("chat", "waits for input");
    REQUIRE(before.WaitForStatus(waiting, "waiting"));
    before.provider().hang = true;
    running = before.Create("chat", "in flight");
    SseClient sse(Events(before, running, "?history=true"));
    REQUIRE(sse.WaitFor(Seen("agent:started")));
    before.Kill();  // like kill -9: nothing more is written
  }
  TestServer after(config);
  REQUIRE(after.WaitForStatus(running, "waiting"));  // the agent call ran again, then the ask
  Json r = Http("GET", after.Url("/sessions/" + running)).json();
  CHECK(r["running"] == true);
  Post(after, "/sessions/" + waiting + "/input", {{"input", "still here"}});
  REQUIRE(after.WaitForStatus(waiting, "completed"));
  Json p = Http("GET", after.Url("/sessions/" + paused)).json();
  CHECK(p["status"] == "paused");
  CHECK(p["running"] == false);
  auto events = after.store().ReadEvents(running, 0, 1000).value();
  for (size_t i = 0; i < events.size(); ++i)
    CHECK(events[i]->position == static_cast<int64_t>(i + 1));
}

TEST_CASE("many sessions run at once on two threads", "[server]") {
  TestServer server;
  server.provider().gap_ms = 2;
  std::vector<std::string> ids(120);
  std::vector<std::thread> creators;
  for (int t = 0; t < 4; ++t) {
    creators.emplace_back([&, t] {
      for (size_t i = t; i < ids.size(); i += 4) {
        auto r = Http("POST", server.Url("/sessions"),
                      i % 2 ? Json{{"workflow", "counter"}, {"input", 30}}.dump()
                            : Json{{"workflow", "chat"}, {"input", "hi"}}.dump());
        if (r.status == 201) ids[i] = r.json()["sessionId"];
      }
    });
  }
  for (auto& t : creators) t.join();
  for (size_t i = 0; i < ids.size(); ++i) {
    INFO(i);
    REQUIRE_FALSE(ids[i].empty());
    CHECK(server.WaitForStatus(ids[i], i % 2 ? "completed" : "waiting", {}, 30000));
  }
  CHECK(Http("GET", server.Url("/sessions")).json()["sessions"].size() == ids.size());
}
