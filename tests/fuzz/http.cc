// Fuzz target: HTTP requests to `scaffold serve`, bytes in: through Beast's request parser,
// the server's dispatch (CORS, authentication, route kind) and the API routes, against a real
// session hub (sessions run on an in-memory log; model calls fail at once). No sockets: the
// session tasks a request starts run before the next input.

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include "engine/memory_store.h"
#include "engine/tool_host.h"
#include "engine/workflow.h"
#include "net/server/beast_request.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace scaffold;

class FailingCall : public engine::ModelCall {
 public:
  void Cancel() override {}
};

// Every model call fails at once, without retries: the fuzzed requests drive sessions, not
// models (the stream decoders have targets of their own).
class FailingProvider : public engine::Provider {
 public:
  std::unique_ptr<engine::ModelCall> Start(const engine::ModelRequest&, engine::Executor* executor,
                                           engine::ModelStreamHandler* handler) override {
    executor->Post([handler] {
      handler->OnError(
          {engine::ProviderErrorKind::kInvalidRequest, "no model here", 400, std::nullopt, false});
    });
    return std::make_unique<FailingCall>();
  }
};

class FixedClock : public engine::Clock {
 public:
  int64_t NowMillis() const override { return 1800000000000; }
};

constexpr const char* kAskFlow = R"({
  "scaffold": 1, "name": "approve",
  "input": {"type": "object", "properties": {"text": {"type": "string", "pattern": "^[a-z ]*$",
            "maxLength": 200}}, "required": ["text"]},
  "state": {"text": "", "ok": false, "choice": "", "data": null},
  "start": {"/text": {"var": "input.text"}},
  "phases": {
    "review": {"ask": {"prompt": "Ship {{state.text}}?", "type": "approval"},
               "update": {"/ok": {"var": "output.approved"}}, "next": "pick"},
    "pick": {"ask": {"prompt": "Which?", "type": "choice", "options": ["a", "b"]},
             "update": {"/choice": {"var": "output"}}, "next": "data"},
    "data": {"ask": {"prompt": "Data?", "type": "json",
                     "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}},
             "update": {"/data": {"var": "output"}}, "next": "done"},
    "done": {"terminal": true, "result": {"var": "state"}}
  }
})";

constexpr const char* kAgentFlow = R"({
  "scaffold": 1, "name": "chat",
  "state": {"reply": ""},
  "agents": {"writer": {"provider": "anthropic", "model": "m", "prompt": "Hi {{input}}",
                        "update": {"/reply": {"var": "output"}}}},
  "phases": {"write": {"run": "writer", "next": "done"}, "done": {"terminal": true}}
})";

struct World {
  World() {
    for (const char* text : {kAskFlow, kAgentFlow}) {
      auto loaded = engine::LoadWorkflow(text);
      net::ServedWorkflow w;
      w.name = loaded.workflow->name;
      w.workflow = loaded.workflow;
      w.sha256 = "0";
      workflows[w.name] = w;
    }
    hub = std::make_unique<net::SessionHub>(
        net::SessionHub::Deps{&io, &store, &provider, &tools, &clock, &metrics}, workflows,
        engine::RunOptions{});
    api = std::make_unique<net::Api>(hub.get(), &metrics);
    ctx = std::make_shared<net::ServerContext>();
    ctx->options.access_log = false;
    ctx->options.cors_origins = {"https://app.example"};
    ctx->api = api.get();
    ctx->hub = hub.get();
    ctx->metrics = &metrics;
  }
  ~World() {
    hub->Shutdown();
    Drain();
  }
  void Drain() {
    for (int i = 0; i < 100; ++i) {
      io.restart();
      if (io.poll() == 0) break;
    }
  }

  asio::io_context io;
  engine::MemoryEventStore store;
  FailingProvider provider;
  engine::NoToolHost tools;
  FixedClock clock;
  net::Metrics metrics;
  std::map<std::string, net::ServedWorkflow> workflows;
  std::unique_ptr<net::SessionHub> hub;
  std::unique_ptr<net::Api> api;
  std::shared_ptr<net::ServerContext> ctx;
};

// Sessions a fuzzer creates pile up: a new world every so many inputs bounds the memory.
World& TheWorld() {
  static std::unique_ptr<World> world;
  static int uses = 0;
  if (!world || ++uses % 500 == 0) {
    world.reset();
    world = std::make_unique<World>();
  }
  return *world;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (!ec && !parser.is_done() && used < size) {
    size_t n = parser.put(asio::buffer(data + used, size - used), ec);
    if (ec == http::error::need_more) break;
    if (n == 0) break;
    used += n;
  }
  if (ec || !parser.is_done()) return 0;
  World& world = TheWorld();
  auto request = parser.release();
  net::Dispatch d = net::DispatchRequest(world.ctx.get(), net::FromBeast(request, "127.0.0.1"));
  if (d.kind == net::Dispatch::Kind::kApi) {
    // A reply may come after this input (a tool call waiting on its timeout): it owns its sink.
    auto answered = std::make_shared<size_t>(0);
    world.api->Handle(d.request,
                      [answered](net::ApiResponse r) { *answered += r.body.size() + 1; });
    world.Drain();
  }
  return 0;
}
