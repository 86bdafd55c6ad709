// AgentRun: one invocation of a workflow agent — render its prompts, stream the model's reply
// into events, run the tools it calls and feed the results back (up to max_turns), validate
// structured output and re-ask on a mismatch, and retry transient provider failures with
// backoff. Internal to the engine; owned by the Runner, lives on the session's executor.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/provider.h"
#include "engine/session.h"
#include "engine/session_log.h"
#include "engine/tool_host.h"
#include "engine/workflow.h"

namespace scaffold::engine {

// A failure that ends a session, as recorded in workflow:error.
struct Failure {
  Failure(std::string code, std::string message, std::string path = "")
      : code(std::move(code)), message(std::move(message)), path(std::move(path)) {}

  std::string code;  // "provider_error", "invalid_output", "max_turns", ...
  std::string message;
  std::string path;  // JSON pointer into the workflow, when it points at something

  Json ToJson() const;
};

struct AgentOutcome {
  Json output;
  Usage usage;
};

// Everything an invocation needs; pointers are borrowed from the Runner.
struct AgentEnv {
  const Workflow* workflow = nullptr;
  const Agent* agent = nullptr;
  std::string phase;
  std::optional<int> index;  // set inside `each`
  Json context;              // template context: input, state, session (+ item, index)
  std::string session_id;
  std::string owner;
  SessionLog* log = nullptr;
  Provider* provider = nullptr;
  ToolHost* tools = nullptr;
  Executor* executor = nullptr;
  const Clock* clock = nullptr;
  const RunOptions* options = nullptr;
};

class AgentRun : public ModelStreamHandler {
 public:
  using Done = std::function<void(std::optional<Failure>, AgentOutcome)>;

  // `done` runs once on the executor, unless Cancel() comes first.
  AgentRun(AgentEnv env, Done done);
  ~AgentRun() override;

  void Start();
  void Cancel();

  // ModelStreamHandler.
  void OnTextDelta(std::string_view delta) override;
  void OnThinkingDelta(std::string_view delta) override;
  void OnComplete(ModelResponse response) override;
  void OnError(ProviderError error) override;

 private:
  std::string ProviderName() const;
  std::string ModelName() const;
  Json Payload(Json fields) const;  // adds agent (and index)
  void CallModel();
  void OnTimeout();
  void RetryOrFail(const char* reason, const std::string& message,
                   std::optional<int64_t> retry_after_ms, bool retryable);
  // Lists the MCP servers among the agent's tools (ToolHost::ListTools), then BuildTools().
  void ListServers();
  void OnListed(size_t i, ToolListing listing);
  // The request's tools: the agent's, with each MCP entry replaced by the tools it listed.
  void BuildTools();
  void RunTools(const ModelResponse& response);
  void OnToolDone(size_t i, ToolResult result);
  void FinishWithOutput(const ModelResponse& response);
  void Fail(std::string code, std::string message, std::string path = "");
  void Complete(Json output, const std::string& stop_reason);
  void ReleaseCall();

  AgentEnv env_;
  Done done_;
  ModelRequest request_;  // the conversation so far

  int tool_turns_ = 0;          // model turns that ended in tool calls
  int transport_attempts_ = 0;  // failed attempts of the current model call
  int invalid_attempts_ = 0;    // re-asks after output that failed the schema
  int64_t started_ms_ = 0;
  Usage usage_;
  bool finished_ = false;

  std::unique_ptr<ModelCall> call_;
  std::unique_ptr<TimerHandle> timer_;  // call timeout or retry backoff
  struct ServerTool {
    std::string entry;  // the workflow's tools entry ("fs")
    std::string name;   // the server's tool ("read_file")
  };
  std::map<std::string, ServerTool> server_tools_;  // by the name the model sees
  std::vector<std::unique_ptr<ToolCall>> list_calls_;      // by index in the agent's tools
  std::vector<std::optional<ToolListing>> listings_;
  size_t listings_left_ = 0;
  std::vector<ToolUse> pending_tools_;
  std::vector<std::unique_ptr<ToolCall>> tool_calls_;
  std::vector<std::optional<ToolResult>> tool_results_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted tasks
};

// Destroys `ptr` in a later task, so an object is never destroyed while one of its own
// callbacks is on the stack.
template <typename T>
void DeleteLater(Executor* executor, std::unique_ptr<T> ptr) {
  if (!ptr) return;
  std::shared_ptr<T> shared(std::move(ptr));
  executor->Post([shared] {});
}

}  // namespace scaffold::engine
