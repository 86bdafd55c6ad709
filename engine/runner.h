// Runner: the phase state machine behind a Session. Internal to the engine. runner.cc runs
// the phases; runner_state.cc evaluates expressions, applies updates and ends phases.
//
// Everything here runs on the session's executor. The Runner emits events through its
// SessionLog and keeps only what it can rebuild from them (see resume_point.h): a crashed or
// paused session continues by building a new Runner from the log.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/agent_run.h"
#include "engine/json_patch.h"
#include "engine/resume_point.h"
#include "engine/session.h"
#include "engine/session_log.h"

namespace scaffold::engine {

// How deep a session's state may nest (updates past it fail the session). Twice the limit on
// parsed input, so any parsed value fits under any reasonable pointer.
inline constexpr int kMaxStateDepth = 2 * kMaxJsonDepth;

class Runner : public std::enable_shared_from_this<Runner> {
 public:
  // `resume` is null for a new session.
  Runner(const SessionDeps& deps, std::shared_ptr<const Workflow> workflow, SessionInfo info,
         RunOptions options, std::optional<ResumePoint> resume);
  ~Runner();

  SessionLog& log() { return log_; }
  int64_t start_position() const { return start_position_; }

  void SetInputListener(std::function<void(const Json&)> listener) {
    input_listener_ = std::move(listener);
  }
  void Start(std::function<void(const SessionEnd&)> done);
  void SubmitInput(InputAnswer answer, std::function<void(const Status&)> reply);
  void CallExternalTool(std::string name, Json input,
                        std::function<void(Result<ToolCallOutcome>)> reply);
  void Pause(std::string reason);
  void Cancel();
  // A task of this session threw (a bug): fails the session with code "internal".
  void FailUnexpected(const std::string& what);

 private:
  // One agent invocation of a run/parallel/each phase.
  struct Branch {
    std::string agent;
    std::optional<int> index;  // each
    Json item;                 // each
    std::optional<Json> output;
    std::unique_ptr<AgentRun> run;
  };
  struct PendingAsk {
    std::string id;
    int64_t requested_at = 0;
  };

  class LentContext;
  // Evaluates a JSON Logic rule against {input, state, session} and the `extra` keys (output,
  // item, index), without copying the state.
  Result<Json> Evaluate(const Json& rule, const Json* extra);
  // {input, state, session}: a copy, for what keeps it (an agent's prompt context, templates).
  Json Context(const Json& state) const;
  void Begin();
  // The log could not commit: the session ends failed, with nothing more emitted.
  void OnLogFailed(const Status& error);
  void ApplyStart();
  void EnterPhase(const std::string& name, const std::string& from);
  void RunPhase();
  void RunAgents();
  void StartBranches();
  void OnBranchDone(size_t slot, std::optional<Failure> failure, AgentOutcome outcome);
  void RunAsk();
  void OnAskTimeout();
  void RunTool();
  void OnToolDone(const std::string& call_id, ToolResult result);
  void OnExternalToolDone(const std::string& call_id, ToolResult result);
  // Applies the phase's updates, emits its intents (and a checkpoint when due) and its exit,
  // and moves on.
  void CompletePhase(const Json& output);
  void ExitTerminal();
  // Evaluates `updates` against the state (and `extra` keys: output, item, index) and applies
  // them to it, all or none, adding their intent to `intents`; or says why it cannot (`path`
  // names where the updates are in the workflow). The caller fails the session.
  std::optional<Failure> ApplyUpdates(const std::vector<Update>& updates, const Json* extra,
                                      const std::function<std::string()>& path,
                                      std::vector<StatePatch>* intents);
  void EmitIntents(std::vector<StatePatch> intents);
  void EmitCheckpoint();
  void Fail(Failure failure);
  void Finish(SessionEnd end);
  void StopActivities();
  std::string PhasePath(const char* field = nullptr) const;

  // Constant after construction.
  SessionDeps deps_;
  std::shared_ptr<const Workflow> workflow_;
  SessionInfo info_;
  RunOptions options_;
  int64_t start_position_;

  Redactor redactor_;
  SessionLog log_;
  std::optional<ResumePoint> resume_;  // consumed by Begin(); its visit data by the first phase
  std::function<void(const SessionEnd&)> done_;
  std::function<void(const Json&)> input_listener_;
  bool finished_ = false;

  Json state_;
  Json expression_context_;  // input and session, built once; see LentContext
  std::map<std::string, int> visits_;
  const Phase* phase_ = nullptr;
  int intents_since_checkpoint_ = 0;
  int64_t intent_bytes_since_checkpoint_ = 0;
  int64_t last_checkpoint_bytes_ = 0;

  // In-flight work of the current phase.
  std::vector<Branch> branches_;
  size_t next_branch_ = 0;
  size_t running_ = 0;
  std::optional<PendingAsk> pending_ask_;
  std::unique_ptr<TimerHandle> ask_timer_;
  std::unique_ptr<ToolCall> tool_call_;
  std::string tool_call_id_;

  // Client tools called through the server's tool route, by call id; not part of any phase.
  struct ExternalCall {
    std::string tool_name;
    std::unique_ptr<ToolCall> call;
    std::function<void(Result<ToolCallOutcome>)> reply;
  };
  std::map<std::string, ExternalCall> external_calls_;
};

}  // namespace scaffold::engine
