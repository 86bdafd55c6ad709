#include "tests/support/test_server.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "engine/workflow.h"
#include "recordings/sha256.h"

namespace scaffold::testing {
namespace {

class StreamingCall : public engine::ModelCall {
 public:
  struct State {
    bool cancelled = false;
    std::unique_ptr<engine::TimerHandle> timer;
  };
  StreamingCall(std::shared_ptr<State> state, StreamingProvider* provider)
      : state_(std::move(state)), provider_(provider) {}
  ~StreamingCall() override { Cancel(); }
  void Cancel() override {
    if (state_->cancelled) return;
    state_->cancelled = true;
    state_->timer.reset();
    ++provider_->cancelled;
  }

 private:
  std::shared_ptr<State> state_;
  StreamingProvider* provider_;
};

void Step(std::shared_ptr<StreamingCall::State> state, engine::Executor* executor,
          engine::ModelStreamHandler* handler, int i, int deltas, int gap_ms) {
  auto next = [=] {
    if (state->cancelled) return;
    if (i == deltas) {
      engine::ModelResponse r;
      for (int k = 0; k < deltas; ++k) r.text += "w" + std::to_string(k) + " ";
      r.content.push_back({{"type", "text"}, {"text", r.text}});
      r.stop_reason = "end_turn";
      r.usage = {12, static_cast<int64_t>(deltas), 0, 0};
      return handler->OnComplete(std::move(r));
    }
    handler->OnTextDelta("w" + std::to_string(i) + " ");
    Step(state, executor, handler, i + 1, deltas, gap_ms);
  };
  if (gap_ms > 0) {
    state->timer = executor->RunAfter(std::chrono::milliseconds(gap_ms), next);
  } else {
    executor->Post(next);
  }
}

}  // namespace

std::unique_ptr<engine::ModelCall> StreamingProvider::Start(const engine::ModelRequest&,
                                                            engine::Executor* executor,
                                                            engine::ModelStreamHandler* handler) {
  ++calls;
  auto state = std::make_shared<StreamingCall::State>();
  if (!hang) Step(state, executor, handler, 0, deltas, gap_ms);
  return std::make_unique<StreamingCall>(state, this);
}

const char* const kChatWorkflow = R"({
  "scaffold": 1,
  "name": "chat",
  "input": {"type": "string", "minLength": 1},
  "state": {"reply": "", "feedback": ""},
  "defaults": {"provider": "anthropic", "model": "claude-haiku-4-5"},
  "agents": {"writer": {"prompt": "{{input}}", "update": {"/reply": {"var": "output"}}}},
  "phases": {
    "write": {"run": "writer", "next": "review"},
    "review": {"ask": {"prompt": "Feedback on: {{state.reply}}", "type": "text"},
               "update": {"/feedback": {"var": "output"}}, "next": "done"},
    "done": {"terminal": true, "result": {"var": "state.feedback"}}
  }
})";

const char* const kCounterWorkflow = R"({
  "scaffold": 1,
  "name": "counter",
  "input": {"type": "integer", "minimum": 0},
  "state": {"count": 0, "target": 0},
  "start": {"/target": {"var": "input"}},
  "max_visits": 10000000,
  "phases": {
    "step": {
      "set": {"/count": {"+": [{"var": "state.count"}, 1]}},
      "next": {"if": [{"<": [{"var": "state.count"}, {"var": "state.target"}]}, "step", "done"]}
    },
    "done": {"terminal": true, "result": {"var": "state.count"}}
  }
})";

const char* const kApproveWorkflow = R"({
  "scaffold": 1,
  "name": "approve",
  "input": {"type": "string"},
  "state": {"subject": "", "approved": false, "note": ""},
  "start": {"/subject": {"var": "input"}},
  "phases": {
    "review": {"ask": {"prompt": "Ship {{state.subject}}?", "type": "approval"},
               "update": {"/approved": {"var": "output.approved"}}, "next": "note"},
    "note": {"ask": {"prompt": "Any note?", "type": "text"},
             "update": {"/note": {"var": "output"}}, "next": "done"},
    "done": {"terminal": true, "result": {"var": "state"}}
  }
})";

std::string TestServer::data_dir() const {
  size_t slash = db_path_.rfind('/');
  return slash == std::string::npos ? "." : db_path_.substr(0, slash);
}

TestServer::TestServer(Config config) {
  db_path_ = config.db_path;
  if (db_path_.empty()) {
    temp_dir_ = std::make_unique<TempDir>();
    db_path_ = temp_dir_->path() + "/sessions.db";
  }
  auto store = recordings::SqliteStore::Open(db_path_);
  REQUIRE(store.ok());
  store_ = std::move(*store);

  std::map<std::string, net::ServedWorkflow> workflows;
  for (const std::string& text : config.workflows) {
    auto loaded = engine::LoadWorkflow(text);
    REQUIRE(loaded.workflow);
    const std::string name = loaded.workflow->name;
    workflows[name] = {name, name + ".json", recordings::Sha256Hex(text), loaded.workflow};
  }
  net::ToolRouterOptions tool_options;
  tool_options.data_dir = data_dir();
  tool_options.allow_commands = config.allow_commands;
  tool_options.client_tools = &client_tools_;
  tools_ = std::make_unique<net::ToolRouter>(tool_options);
  engine::Provider* provider = config.provider ? config.provider : &provider_;
  hub_ = std::make_unique<net::SessionHub>(
      net::SessionHub::Deps{&io_, store_.get(), provider, tools_.get(), &clock_, &metrics_},
      workflows, engine::RunOptions{}, config.default_workflow);
  api_ = std::make_unique<net::Api>(hub_.get(), &metrics_);
  net::ServerOptions options = config.options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.access_log = config.access_log;

  server_ = std::make_unique<net::HttpServer>(&io_, options, api_.get(), hub_.get(), &metrics_,
                                              config.verifier, &client_tools_);
  REQUIRE(server_->Listen().ok());
  port_ = server_->port();
  hub_->RestoreRunning();
  for (int i = 0; i < config.threads; ++i) {
    threads_.emplace_back([this] {
      auto guard = boost::asio::make_work_guard(io_);
      io_.run();
    });
  }
}

void TestServer::Kill() {
  if (killed_) return;
  killed_ = true;
  server_->Stop();
  io_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  server_->Halt();
}

// Sessions still running are left as they are in the log, as after a crash.
TestServer::~TestServer() {
  Kill();
}

std::string TestServer::Create(const std::string& workflow, const Json& input,
                               const std::vector<std::string>& headers) {
  auto r = Http("POST", Url("/sessions"), Json{{"workflow", workflow}, {"input", input}}.dump(),
                headers);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json()["sessionId"].get<std::string>();
}

bool TestServer::WaitForStatus(const std::string& id, const std::string& status,
                               const std::vector<std::string>& headers, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = Http("GET", Url("/sessions/" + id), "", headers);
    if (r.status == 200 && r.json().value("status", "") == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace scaffold::testing
