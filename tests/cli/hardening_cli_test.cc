// Hostile files, model streams and logs against the real binary: each gets its surface's
// error (validate's list and exit 2, replay's line and exit 2, the agent's retries then its
// failure, an escaped log line), and a server restarted over a session that cannot continue
// marks it failed and serves on.

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "recordings/sha256.h"
#include "tests/support/conformance.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/serve_process.h"
#include "tests/support/temp_dir.h"

using scaffold::Json;
using namespace scaffold::testing;

namespace {

std::string Write(const TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A recording made of `lines` (header, exchanges, events) with a matching end line.
std::string Recording(const std::vector<std::string>& lines) {
  std::string body;
  int64_t events = 0, exchanges = 0;
  for (const auto& l : lines) {
    body += l + "\n";
    events += l.rfind("{\"event\"", 0) == 0;
    exchanges += l.rfind("{\"exchange\"", 0) == 0;
  }
  Json end = {{"end",
               {{"events", events},
                {"exchanges", exchanges},
                {"sha256", scaffold::recordings::Sha256Hex(body)}}}};
  return body + end.dump() + "\n";
}

const char* const kOneAsk = R"({"scaffold": 1, "name": "one", "state": {"n": 0},
  "phases": {"a": {"set": {"/n": 1}, "next": "b"}, "b": {"terminal": true}}})";

}  // namespace

TEST_CASE("validate reports hostile workflow files by path and exits 2", "[cli][hostile]") {
  TempDir dir;
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"scaffold": 1, "name": "x", "state": {"n": 1e999}, "phases": {"a": {"terminal": true}}})",
            "number overflow"},
           {R"({"scaffold": 1, "name": "x", "state": {"n": )" + std::string(100000, '[') + "}",
            "nested deeper than 128 levels"},
           {R"({"scaffold": 1, "name": "x", "input": {"$ref": "#"}, "phases": {"a": {"terminal": true}}})",
            "/input/$ref"},
           {R"({"scaffold": 1, "name": "x", "input": {"type": "string", "pattern": "(a)\\1"},
                "phases": {"a": {"terminal": true}}})",
            "/input/pattern: invalid schema: pattern \"(a)\\1\": backreferences are not supported"},
           {R"({"scaffold": 1, "name": "x", "input": {"definitions": {"a": {"anyOf": [{"$ref": "#/definitions/a"}]}},
                "$ref": "#/definitions/a"}, "phases": {"a": {"terminal": true}}})",
            "cycle"},
       }) {
    auto r = RunScaffold({"validate", Write(dir, "w.json", c.text)});
    INFO(c.text.substr(0, 200) << "\n" << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.message));
  }
}

TEST_CASE("sessions import reads a recording from a pipe, and refuses one cut short",
          "[cli][hostile]") {
  TempDir dir;
  std::string recording = ExampleFile("recordings/ticket-triage.jsonl");
  std::string db = dir.path() + "/piped.db";
  ProcessOptions shell;
  shell.program = "/bin/sh";
  // The pipe cannot seek: the recording is read in chunks up to the bound.
  auto piped = RunScaffold({"-c", "cat \"$1\" | \"$2\" sessions import /dev/stdin --db \"$3\"",
                            "sh", recording, ScaffoldBinary(), db},
                           shell);
  INFO(piped.err);
  CHECK(piped.exit_code == 0);
  CHECK_THAT(piped.out, Catch::Contains("imported session"));
  auto cut =
      RunScaffold({"-c", "head -c 5000 \"$1\" | \"$2\" sessions import /dev/stdin --db \"$3\"",
                   "sh", recording, ScaffoldBinary(), dir.path() + "/cut.db"},
                  shell);
  CHECK(cut.exit_code == 2);
  CHECK_THAT(cut.err, Catch::Contains("nothing was imported"));
}

TEST_CASE("a recording with a wrong type on any line is refused with its line, and nothing is imported",
          "[cli][hostile]") {
  TempDir dir;
  auto lines = Lines(ReadFile(ExampleFile("recordings/ticket-triage.jsonl")));
  lines.pop_back();  // the end line is made again for each mutation
  size_t first_exchange = 0, first_event = 0, text_delta = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!first_exchange && lines[i].rfind("{\"exchange\"", 0) == 0) first_exchange = i;
    if (!first_event && lines[i].rfind("{\"event\"", 0) == 0) first_event = i;
    if (!text_delta && lines[i].find("\"name\":\"text:delta\"") != std::string::npos) text_delta = i;
  }
  REQUIRE((first_exchange && first_event && text_delta));
  struct Case {
    size_t line;  // 0-based
    std::string pointer;
    Json value;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {0, "/session/id", 5, "/session/id: expected a string"},
           {0, "/events", "many", "/events: expected an integer"},
           {0, "/redact", Json::array({1}), "/redact/0: expected a string"},
           {0, "/session/status", "sleeping", "unknown session status"},
           {first_exchange, "/exchange/seq", "1", "/exchange/seq: expected an integer"},
           {first_exchange, "/exchange/key", nullptr, "/exchange/key: required"},
           {first_event, "/event/position", "1", "lacks id, position"},
           {text_delta, "/event/payload/delta", 5, "/payload/delta: expected a string"},
           {text_delta, "/event/payload/index", "0", "/payload/index: expected an integer"},
       }) {
    auto mutated = lines;
    Json line = Json::parse(mutated[c.line]);
    line[Json::json_pointer(c.pointer)] = c.value;
    mutated[c.line] = line.dump();
    std::string path = Write(dir, "r.jsonl", Recording(mutated));
    std::string where = "line " + std::to_string(c.line + 1) + ": ";
    auto replay = RunScaffold({"replay", path});
    INFO(c.pointer << " = " << c.value.dump() << "\n" << replay.err);
    CHECK(replay.exit_code == 2);
    CHECK_THAT(replay.err, Catch::Contains(where) && Catch::Contains(c.message));
    std::string db = dir.path() + "/import.db";
    auto import = RunScaffold({"sessions", "import", path, "--db", db});
    CHECK(import.exit_code == 2);
    CHECK_THAT(import.err, Catch::Contains(where));
    CHECK_THAT(RunScaffold({"sessions", "list", "--db", db}).out, !Catch::Contains("ticket"));
  }
  // The end line too.
  std::string text = Recording(lines);
  size_t end = text.rfind("{\"end\"");
  Json end_line = Json::parse(text.substr(end));
  end_line["end"]["events"] = "60";
  auto replay =
      RunScaffold({"replay", Write(dir, "r.jsonl", text.substr(0, end) + end_line.dump() + "\n")});
  CHECK(replay.exit_code == 2);
  CHECK_THAT(replay.err, Catch::Contains("/end/events: expected an integer"));
}

TEST_CASE("malformed stream frames from the model are retried, then fail the agent", "[cli][hostile]") {
  struct Case {
    std::string provider;
    std::vector<std::pair<std::string, std::string>> frames;
    std::string message;
  };
  std::string start = R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})";
  for (const Case& c : std::vector<Case>{
           {"anthropic",
            {{"content_block_start", start},
             {"content_block_delta",
              R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}})"}},
            "/delta/text: expected a string"},
           {"openai", {{"", R"({"choices":[{"index":"0","delta":{"content":"x"}}]})"}},
            "/choices/0/index: expected an integer"},
           {"openai", {{"", R"({"choices":[1]})"}}, "/choices/0: expected an object"},
           {"openai", {{"", R"({"choices":[],"usage":{"prompt_tokens":"11"}})"}},
            "/usage/prompt_tokens: expected an integer"},
       }) {
    FakeUpstream up;
    up.SetDefault([&](const FakeUpstream::Request&) { return FakeUpstream::Sse(c.frames); });
    TempDir dir;
    std::string workflow = Write(dir, "w.json", R"({"scaffold": 1, "name": "w",
      "agents": {"a": {"provider": ")" + c.provider + R"(", "model": "m", "prompt": "hi", "retries": 1}},
      "phases": {"p": {"run": "a", "next": "done"}, "done": {"terminal": true}}})");
    ProcessOptions env;
    env.env = {{"ANTHROPIC_BASE_URL", up.url()},
               {"ANTHROPIC_API_KEY", "k"},
               {"OPENAI_BASE_URL", up.url() + "/v1"},
               {"OPENAI_API_KEY", "k"}};
    auto r = RunScaffold({"run", workflow, "--db", dir.path() + "/s.db", "--json"}, env);
    INFO(c.provider << " " << c.frames.back().second << "\n" << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Catch::Contains("\"agent:retry\"") && Catch::Contains("server_error"));
    CHECK_THAT(r.out, Catch::Contains("\"workflow:error\"") && Catch::Contains(c.message));
    CHECK(up.requests().size() >= 2);
  }
}

TEST_CASE("a session that cannot be resumed is marked failed at start-up and the server serves on",
          "[cli][hostile][slow]") {
  TempDir dir;
  std::string db = dir.path() + "/s.db";
  std::string workflow = Write(dir, "one.json", kOneAsk);
  // A running session whose log holds a patch that cannot apply to its state.
  Json header = {{"scaffold_recording", 1},
                 {"session",
                  {{"id", "00000000-0000-4000-8000-00000000000a"},
                   {"owner", ""},
                   {"workflowName", "one"},
                   {"status", "running"},
                   {"createdAt", 1},
                   {"updatedAt", 1}}},
                 {"workflow", kOneAsk},
                 {"workflow_sha256", scaffold::recordings::Sha256Hex(kOneAsk)},
                 {"input", nullptr},
                 {"redact", Json::array()},
                 {"events", 3},
                 {"exchanges", 0}};
  auto event = [](int64_t position, const std::string& name, const Json& payload) {
    return Json{{"event",
                 {{"id", "e" + std::to_string(position)},
                  {"position", position},
                  {"name", name},
                  {"payload", payload},
                  {"timestamp", 1}}}}
        .dump();
  };
  std::string text = Recording(
      {header.dump(),
       event(1, "workflow:started",
             {{"sessionId", "00000000-0000-4000-8000-00000000000a"}, {"workflow", "one"}}),
       event(2, "phase:entered", {{"phase", "a"}}),
       event(3, "state:intent",
             {{"intentId", "i"},
              {"patches", Json::array({{{"op", "replace"}, {"path", "/missing/deep"}, {"value", 1}}})},
              {"inversePatches", Json::array()}})});
  REQUIRE(RunScaffold({"sessions", "import", Write(dir, "poison.jsonl", text), "--db", db})
              .exit_code == 0);
  for (int restart = 0; restart < 2; ++restart) {
    ServeProcess server({"--workflow", workflow, "--db", db});
    CHECK(Http("GET", server.url() + "/healthz").status == 200);
    Json info;
    for (int i = 0; i < 500; ++i) {
      info = Http("GET", server.url() + "/sessions/00000000-0000-4000-8000-00000000000a").json();
      if (info.value("status", "") == "failed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(info["status"] == "failed");
    if (restart == 0) {
      CHECK_THAT(server.process().Stderr(), Catch::Contains("cannot be resumed"));
    } else {
      CHECK_THAT(server.process().Stderr(), !Catch::Contains("cannot be resumed"));
    }
    auto created = Http("POST", server.url() + "/sessions", Json{{"input", nullptr}}.dump());
    CHECK(created.status == 201);
  }
  auto events = RunScaffold({"events", "00000000", "--db", db, "--json"});
  CHECK_THAT(events.out, Catch::Contains("resume_failed"));
}

TEST_CASE("request paths and users are written to the access log escaped", "[cli][hostile]") {
  TempDir dir;
  std::string workflow = Write(dir, "one.json", kOneAsk);
  ServeProcess server({"--workflow", workflow, "--db", dir.path() + "/s.db"}, true);
  CHECK(Http("GET", server.url() + "/sessions/%0a2026-01-01T00:00:00.000Z%201.2.3.4%20%22GET%20/admin%22%20200%1b[2J")
            .status == 404);
  CHECK(Http("GET", server.url() + "/healthz").status == 200);
  std::string log;
  for (int i = 0; i < 200 && log.find("/healthz") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = server.process().Stderr();
  }
  INFO(log);
  for (const auto& line : Lines(log)) {
    CHECK(line.rfind("2026-01-01T00:00:00.000Z", 0) != 0);  // no forged line
    CHECK(line.find('\x1b') == std::string::npos);
  }
  CHECK_THAT(log, Catch::Contains("/sessions/\\n2026-01-01") && Catch::Contains("\\x1b[2J"));
}

namespace {

int64_t RssKiB(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// The server's peak RSS while a 20,000-step counter runs, with `readers` SSE clients that
// follow it live and never read.
int64_t PeakRssWithStuckReaders(int readers) {
  TempDir dir;
  ServeProcess server({"--workflow", TestDataFile("counter.json"), "--db", dir.path() + "/s.db",
                       "--max-send-queue-bytes", std::to_string(8 << 20)});
  // A first session warms the server up (SQLite's cache, the allocator's arenas).
  auto warm = Http("POST", server.url() + "/sessions", Json{{"input", 2000}}.dump());
  REQUIRE(warm.status == 201);
  std::string warm_id = warm.json()["sessionId"];
  for (int i = 0; i < 1000; ++i) {
    if (Http("GET", server.url() + "/sessions/" + warm_id).json().value("status", "") == "completed")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto created = Http("POST", server.url() + "/sessions", Json{{"input", 20000}}.dump());
  REQUIRE(created.status == 201);
  std::string id = created.json()["sessionId"];
  std::vector<std::unique_ptr<RawSocket>> stuck;
  for (int i = 0; i < readers; ++i) {
    stuck.push_back(std::make_unique<RawSocket>(server.port(), 4096));
    REQUIRE(stuck.back()->Send("GET /sessions/" + id + "/events?history=true HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  int64_t peak = 0;
  for (int i = 0; i < 6000; ++i) {
    peak = std::max(peak, RssKiB(server.process().pid()));
    if (i % 20 == 0 &&
        Http("GET", server.url() + "/sessions/" + id).json().value("status", "") == "completed")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return peak;
}

}  // namespace

TEST_CASE("clients that never read cost the server about their send queue limit, no more",
          "[cli][hostile][slow]") {
  int64_t alone = PeakRssWithStuckReaders(0);
  int64_t stuck = PeakRssWithStuckReaders(4);
  INFO("peak RSS without readers " << alone << " KiB, with four stuck readers " << stuck
                                   << " KiB (limit 8 MiB each)");
  // Four queues of at most 8 MiB each; the kernel's socket buffers are not in RSS. Before
  // queues were charged what they hold, this was five to eight times as much.
  CHECK(stuck - alone < 4 * 8 * 1024 * 3 / 2);
}
