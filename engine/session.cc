#include "engine/session.h"

#include "engine/resume_point.h"
#include "engine/runner.h"
#include "engine/state.h"
#include "engine/uuid.h"

namespace scaffold::engine {

Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::Create(const SessionDeps& deps,
                                                 std::shared_ptr<const Workflow> workflow,
                                                 Json input, const RunOptions& options,
                                                 std::string owner, std::string id) {
  SCAFFOLD_RETURN_IF_ERROR(ValidateInput(*workflow, input));
  auto redactor = Redactor::Compile(options.redact);
  if (!redactor.ok()) return redactor.status();
  SessionInfo info;
  info.id = id.empty() ? NewUuid() : std::move(id);
  info.owner = std::move(owner);
  info.workflow_name = workflow->name;
  info.workflow_source = workflow->source;
  info.input = std::move(input);
  info.status = SessionStatus::kRunning;
  info.created_at = info.updated_at = deps.clock->NowMillis();
  info.redact = options.redact;
  // What is stored is masked; the run itself uses the real input.
  SessionInfo stored = info;
  stored.input = redactor->Apply(info.input);
  SCAFFOLD_RETURN_IF_ERROR(deps.store->CreateSession(stored));
  return Make(deps, std::move(info), std::move(workflow), options, std::nullopt);
}

std::unique_ptr<Session> Session::Make(const SessionDeps& deps, SessionInfo info,
                                       std::shared_ptr<const Workflow> workflow,
                                       RunOptions options, std::optional<ResumePoint> resume) {
  std::unique_ptr<Session> s(new Session());
  s->info_ = info;
  s->tools_ = deps.tools;
  s->guard_ = std::make_unique<GuardedExecutor>(deps.executor, nullptr);
  s->executor_ = s->guard_.get();
  SessionDeps guarded = deps;
  guarded.executor = s->guard_.get();
  s->runner_ = std::make_shared<Runner>(guarded, std::move(workflow), std::move(info),
                                        std::move(options), std::move(resume));
  std::weak_ptr<Runner> weak = s->runner_;
  s->guard_->SetFailureHandler([weak](const std::string& what) {
    if (auto runner = weak.lock()) runner->FailUnexpected(what);
  });
  return s;
}

Result<std::unique_ptr<Session>> Session::Open(const SessionDeps& deps,
                                               std::shared_ptr<const Workflow> workflow,
                                               const std::string& id, const RunOptions& options) {
  auto info = deps.store->GetSession(id);
  if (!info.ok()) return info.status();
  if (auto redactor = Redactor::Compile(info->redact); !redactor.ok())
    return Status(ErrorCode::kDataLoss, "the session's stored --redact patterns do not compile: " +
                                            redactor.status().message());
  if (info->event_count == 0) {
    // Stored but never started (a process stopped right after creating it, or a session
    // queued for a node with room): it starts from the beginning, with its stored input.
    RunOptions fresh = options;
    fresh.redact = info->redact;
    return Make(deps, std::move(*info), std::move(workflow), std::move(fresh), std::nullopt);
  }
  auto rp = ReadResumePoint(deps.store, id);
  if (!rp.ok()) return rp.status();
  if (rp->where == ResumePoint::Where::kFinished) {
    std::string how = rp->final_event == events::kWorkflowCompleted ? "completed" : "failed";
    return FailedPrecondition("session " + id + " has already " + how +
                              "; fork it to run part of it again (scaffold fork " + id +
                              " --at N)");
  }
  // A resumed session keeps the provider and model it was started with, unless told otherwise.
  RunOptions effective = options;
  if (effective.provider_override.empty())
    effective.provider_override = rp->overrides.value("provider", "");
  if (effective.model_override.empty()) effective.model_override = rp->overrides.value("model", "");
  return Make(deps, std::move(*info), std::move(workflow), std::move(effective), std::move(*rp));
}

Status RecordSessionFailure(EventStore* store, const Clock* clock, const std::string& id,
                            const std::string& code, const std::string& message) {
  auto info = store->GetSession(id);
  if (!info.ok()) return info.status();
  auto e = std::make_shared<Event>();
  e->id = NewUuid();
  e->position = info->event_count + 1;
  e->name = events::kWorkflowError;
  e->payload = {{"sessionId", id}, {"error", {{"code", code}, {"message", message}}}};
  e->timestamp = clock->NowMillis();
  e->Serialize();
  std::vector<EventPtr> batch = {std::move(e)};
  return store->Append(id, batch);
}

Status ValidateInput(const Workflow& workflow, const Json& input) {
  if (!workflow.input_schema) return Status::Ok();
  auto violations = workflow.input_schema->Validate(input);
  if (violations.empty()) return Status::Ok();
  return InvalidArgument("the input does not match the workflow's input schema: " +
                         DescribeViolations(violations));
}

int64_t Session::start_position() const {
  return runner_->start_position();
}

void Session::AddSink(EventSink* sink) {
  runner_->log().AddSink(sink);
}
void Session::RemoveSink(EventSink* sink) {
  runner_->log().RemoveSink(sink);
}

void Session::SetInputListener(std::function<void(const Json& request)> listener) {
  runner_->SetInputListener(std::move(listener));
}

void Session::Start(std::function<void(const SessionEnd&)> done) {
  // What the session started for its tools (MCP servers) stops when it ends; a resumed session
  // starts them again. Not at destruction: the tool host may be gone by then (serve's shutdown).
  runner_->Start([tools = tools_, id = info_.id, done = std::move(done)](const SessionEnd& end) {
    if (tools) tools->EndSession(id);
    done(end);
  });
}

void Session::SubmitInput(InputAnswer answer, std::function<void(const Status&)> reply) {
  std::weak_ptr<Runner> weak = runner_;
  executor_->Post([weak, answer = std::move(answer), reply = std::move(reply)]() mutable {
    auto runner = weak.lock();
    if (!runner) return reply(FailedPrecondition("the session is not running"));
    runner->SubmitInput(std::move(answer), std::move(reply));
  });
}

void Session::CallTool(std::string name, Json input,
                       std::function<void(Result<ToolCallOutcome>)> reply) {
  std::weak_ptr<Runner> weak = runner_;
  executor_->Post(
      [weak, name = std::move(name), input = std::move(input), reply = std::move(reply)]() mutable {
        auto runner = weak.lock();
        if (!runner) return reply(FailedPrecondition("the session is not running"));
        runner->CallExternalTool(std::move(name), std::move(input), std::move(reply));
      });
}

void Session::Pause(std::string reason) {
  std::weak_ptr<Runner> weak = runner_;
  executor_->Post([weak, reason = std::move(reason)]() mutable {
    if (auto runner = weak.lock()) runner->Pause(std::move(reason));
  });
}

void Session::Cancel() {
  std::weak_ptr<Runner> weak = runner_;
  executor_->Post([weak, tools = tools_, id = info_.id] {
    if (auto runner = weak.lock()) runner->Cancel();
    if (tools) tools->EndSession(id);
  });
}

Result<ForkResult> ForkSession(EventStore* store, const Clock* clock, const std::string& id,
                               std::optional<int64_t> position) {
  auto parent = store->GetSession(id);
  if (!parent.ok()) return parent.status();
  int64_t at = position.value_or(parent->event_count);
  if (at < 1 || at > parent->event_count) {
    return InvalidArgument("cannot fork at position " + std::to_string(at) + ": session " + id +
                           " has events 1.." + std::to_string(parent->event_count));
  }
  auto state = StateAt(store, id, at);
  if (!state.ok()) return state.status();

  SessionInfo info = *parent;
  info.id = NewUuid();
  info.parent_id = id;
  info.fork_position = at;
  info.status = SessionStatus::kPaused;
  info.event_count = 0;
  info.last_event_at = 0;
  info.created_at = info.updated_at = clock->NowMillis();

  // The copies get new ids and name the new session; positions, names and times are kept.
  std::vector<EventPtr> copies;
  int64_t after = 0;
  while (after < at) {
    auto page = store->ReadEvents(id, after, std::min<int64_t>(4096, at - after));
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    for (const auto& e : *page) {
      auto copy = std::make_shared<Event>(*e);
      copy->id = NewUuid();
      if (copy->payload.contains("sessionId")) copy->payload["sessionId"] = info.id;
      copy->Serialize();
      copies.push_back(std::move(copy));
      after = e->position;
    }
  }
  auto forked = std::make_shared<Event>();
  forked->id = NewUuid();
  forked->position = at + 1;
  forked->name = events::kSessionForked;
  forked->payload = {{"parentSessionId", id}, {"forkIndex", at}, {"initialState", state->state}};
  forked->timestamp = clock->NowMillis();
  forked->Serialize();
  copies.push_back(std::move(forked));

  SCAFFOLD_RETURN_IF_ERROR(store->CreateSession(info));
  Status appended = store->Append(info.id, copies);
  if (!appended.ok()) {
    store->DeleteSession(info.id);
    return appended;
  }
  return ForkResult{info.id, at};
}

}  // namespace scaffold::engine
