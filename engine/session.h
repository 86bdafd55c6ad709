// Session: one run of a workflow, driven by the engine and recorded as events.
//
// A Session runs on one Executor (see executor.h); its state is touched only there. Create()
// starts a new session, Open() continues a stored one from its log (after a crash, Ctrl-C, a
// pause or a fork): the phase that was interrupted runs again, reusing the agent results,
// answers and tool results it had already recorded, so nothing is paid for twice.
//
// Thread-safety: SubmitInput, Pause and Cancel may be called from any thread. Destroy a
// Session on its executor's thread, after `done` ran or after Cancel().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/event_store.h"
#include "engine/executor.h"
#include "engine/guarded_executor.h"
#include "engine/provider.h"
#include "engine/resume_point.h"
#include "engine/session_log.h"
#include "engine/tool_host.h"
#include "engine/workflow.h"

namespace scaffold::engine {

// What a session needs from the outside. All borrowed; they must outlive the Session.
struct SessionDeps {
  EventStore* store = nullptr;
  Provider* provider = nullptr;
  ToolHost* tools = nullptr;
  Executor* executor = nullptr;
  const Clock* clock = nullptr;
};

inline constexpr int64_t kMinCheckpointBytes = 64 * 1024;

struct RunOptions {
  std::string provider_override;  // --provider: used for every agent
  std::string model_override;     // --model: used for every agent
  int64_t retry_base_ms = 500;    // first retry delay; doubles per attempt, with jitter
  int64_t retry_max_ms = 8000;
  int64_t retry_after_cap_ms = 60000;  // a longer retry-after is not waited for
  // When a state:checkpoint (the whole state) is recorded: after `checkpoint_every` intents
  // since the last one, or once those intents' events add up to `checkpoint_bytes` (0: the
  // size of the last checkpoint, and at least kMinCheckpointBytes), whichever comes first. So
  // checkpoints cost at most about as much as the changes they stand in for, and the state at
  // any position is a checkpoint plus at most that many patches. Never at phase boundaries as
  // such: resume reads the whole log, and the final state is in workflow:completed.
  int checkpoint_every = 1000;
  int64_t checkpoint_bytes = 0;
  std::vector<std::string> redact;     // new sessions: patterns masked in everything stored
};

enum class SessionOutcome { kCompleted, kFailed, kPaused, kCancelled };

struct SessionEnd {
  SessionOutcome outcome = SessionOutcome::kCompleted;
  // kFailed: the error recorded in workflow:error, or the storage error that stopped the
  // session before it could record anything.
  Status error;
  Json result;  // kCompleted: the terminal phase's result, if any

  std::string failure_code;  // kFailed: the workflow:error code ("provider_error",
                             // "missing_recording", ...)

  static SessionEnd Completed(Json result) {
    return {SessionOutcome::kCompleted, Status::Ok(), std::move(result), ""};
  }
  static SessionEnd Failed(Status error, std::string code = "") {
    return {SessionOutcome::kFailed, std::move(error), nullptr, std::move(code)};
  }
  static SessionEnd Paused() { return {SessionOutcome::kPaused, Status::Ok(), nullptr, ""}; }
  static SessionEnd Cancelled() { return {SessionOutcome::kCancelled, Status::Ok(), nullptr, ""}; }
};

struct InputAnswer {
  std::string id;  // the input:requested id ("review", "review#2")
  Json value;
  std::optional<bool> approved;
};

class Runner;

class Session {
 public:
  ~Session();

  // Creates a new session: validates `input` against the workflow's input schema
  // (kInvalidArgument with the violations) and stores the session. Nothing runs before Start().
  static Result<std::unique_ptr<Session>> Create(const SessionDeps& deps,
                                                 std::shared_ptr<const Workflow> workflow,
                                                 Json input, const RunOptions& options,
                                                 std::string owner = "", std::string id = "");

  // Opens a stored session to continue it. kFailedPrecondition when it already finished.
  static Result<std::unique_ptr<Session>> Open(const SessionDeps& deps,
                                               std::shared_ptr<const Workflow> workflow,
                                               const std::string& id, const RunOptions& options);

  const std::string& id() const { return info_.id; }
  const SessionInfo& info() const { return info_; }
  // Position of the last event stored before this Session object began.
  int64_t start_position() const;

  // Sinks see every event this Session commits (not earlier ones). Borrowed; add before Start.
  void AddSink(EventSink* sink);
  void RemoveSink(EventSink* sink);

  // Called on the executor each time an ask starts waiting: after its input:requested is
  // committed, and again when a resumed session is still waiting on a request made before.
  // Receives the input:requested payload. Set before Start.
  void SetInputListener(std::function<void(const Json& request)> listener);

  // Runs the session. `done` runs once, on the executor, when it completes, fails, is paused
  // or is cancelled; every event is committed by then.
  void Start(std::function<void(const SessionEnd&)> done);

  // Answers the pending ask. `reply` runs on the executor: ok, kNotFound (no such pending id),
  // kFailedPrecondition (already answered / nothing pending) or kInvalidArgument (an answer
  // that does not fit the ask's type or schema; the ask keeps waiting).
  void SubmitInput(InputAnswer answer, std::function<void(const Status&)> reply);

  // Runs a client tool for the session's owner outside any phase (the web app asking the
  // desktop app, DESIGN §9), recorded as tool:called / tool:result with "via": "api" so resume
  // and replay pass over them. `reply` runs on the executor with the tool's result, or
  // kInvalidArgument when the workflow declares `name` as another type of tool, or
  // kFailedPrecondition when the session stops before the tool answers.
  void CallTool(std::string name, Json input, std::function<void(Result<ToolCallOutcome>)> reply);

  // Stops in-flight work and records session:paused. Resume later with Open().
  void Pause(std::string reason);

  // Stops in-flight work (aborting provider calls) without recording anything.
  void Cancel();

 private:
  Session() = default;
  // The runner's work runs on a GuardedExecutor in front of deps.executor: an exception in
  // any of it fails this session (workflow:error, code "internal"), nothing else.
  static std::unique_ptr<Session> Make(const SessionDeps& deps, SessionInfo info,
                                       std::shared_ptr<const Workflow> workflow,
                                       RunOptions options, std::optional<ResumePoint> resume);

  SessionInfo info_;
  std::unique_ptr<GuardedExecutor> guard_;
  Executor* executor_ = nullptr;  // guard_
  std::shared_ptr<Runner> runner_;
  ToolHost* tools_ = nullptr;  // told when the session ends or is cancelled (EndSession)
};

// Records a failure for a session nothing is running (one that cannot be resumed): a
// workflow:error event {code, message} after its last event, which marks it failed.
Status RecordSessionFailure(EventStore* store, const Clock* clock, const std::string& id,
                            const std::string& code, const std::string& message);

// Checks `input` against the workflow's input schema; kInvalidArgument lists the violations.
Status ValidateInput(const Workflow& workflow, const Json& input);

struct ForkResult {
  std::string session_id;
  int64_t events_copied = 0;
};

// Copies events 1..`position` (default: all) of session `id` into a new session owned by the
// same user, followed by session:forked. The fork starts paused; Open() and Start() run it.
Result<ForkResult> ForkSession(EventStore* store, const Clock* clock, const std::string& id,
                               std::optional<int64_t> position);

}  // namespace scaffold::engine
