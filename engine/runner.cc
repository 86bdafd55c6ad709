#include "engine/runner.h"

#include <algorithm>

#include "engine/ask.h"
#include "engine/template.h"
#include "engine/uuid.h"

namespace scaffold::engine {
namespace {

std::string ToolOutputText(const Json& output) {
  return output.is_string() ? output.get<std::string>() : DumpJson(output);
}

}  // namespace

Runner::Runner(const SessionDeps& deps, std::shared_ptr<const Workflow> workflow, SessionInfo info,
               RunOptions options, std::optional<ResumePoint> resume)
    : deps_(deps),
      workflow_(std::move(workflow)),
      info_(std::move(info)),
      options_(std::move(options)),
      start_position_(resume ? resume->last_position : 0),
      // Session::Create and Open checked that these compile.
      redactor_([this] {
        auto r = Redactor::Compile(info_.redact);
        return r.ok() ? std::move(r).value() : Redactor();
      }()),
      log_(deps.store, deps.executor, deps.clock, info_.id, start_position_),
      resume_(std::move(resume)),
      state_(workflow_->initial_state) {
  log_.SetRedactor(&redactor_);
  if (resume_) {
    state_ = resume_->state;
    visits_ = resume_->visits;
    intents_since_checkpoint_ = resume_->intents_since_checkpoint;
    intent_bytes_since_checkpoint_ = resume_->intent_bytes_since_checkpoint;
    last_checkpoint_bytes_ = resume_->last_checkpoint_bytes;
  }
}

Runner::~Runner() {
  // Not inside any callback of these objects here, so they are destroyed directly rather than
  // in a later task that might run after the provider is gone.
  finished_ = true;
  for (auto& b : branches_) b.run.reset();
  tool_call_.reset();
  ask_timer_.reset();
}

Json Runner::Context(const Json& state) const {
  return Json{{"input", info_.input},
              {"state", state},
              {"session", {{"id", info_.id}, {"workflow", workflow_->name}}}};
}

std::string Runner::PhasePath(const char* field) const {
  std::string path = AppendPointer("/phases", phase_ ? phase_->name : "");
  return field ? AppendPointer(path, field) : path;
}

void Runner::Start(std::function<void(const SessionEnd&)> done) {
  done_ = std::move(done);
  std::weak_ptr<Runner> weak = shared_from_this();
  log_.SetErrorHandler([weak](const Status& error) {
    if (auto self = weak.lock()) self->OnLogFailed(error);
  });
  deps_.executor->Post([weak] {
    if (auto self = weak.lock()) self->Begin();
  });
}

void Runner::OnLogFailed(const Status& error) {
  if (finished_) return;
  StopActivities();
  finished_ = true;
  auto finish = std::move(done_);
  if (finish) finish(SessionEnd::Failed(error));
}

void Runner::Begin() {
  if (finished_) return;
  if (!resume_ || !resume_->started) {
    Json started = {{"sessionId", info_.id},
                    {"workflow", workflow_->name},
                    {"input", info_.input},
                    {"state", workflow_->initial_state}};
    // Recorded so that resume and replay run the agents on the same provider and model.
    Json overrides = Json::object();
    if (!options_.provider_override.empty()) overrides["provider"] = options_.provider_override;
    if (!options_.model_override.empty()) overrides["model"] = options_.model_override;
    if (!overrides.empty()) started["overrides"] = overrides;
    log_.Emit(events::kWorkflowStarted, std::move(started));
    ApplyStart();
    return;
  }
  Json resumed = {{"fromPosition", resume_->last_position}};
  // Resuming at an ask nobody answered yet: the session waits for it again (and says so, for
  // the session's status and for clients that attach from here).
  if (resume_->input_requested &&
      (!resume_->input_received ||
       resume_->input_received->value("id", "") != resume_->input_requested->value("id", ""))) {
    resumed["waitingFor"] = resume_->input_requested->value("id", "");
  }
  log_.Emit(events::kSessionResumed, std::move(resumed));

  switch (resume_->where) {
    case ResumePoint::Where::kStart:
      EnterPhase(workflow_->entry, "");
      break;
    case ResumePoint::Where::kInPhase:
      phase_ = workflow_->FindPhase(resume_->phase);
      if (!phase_) {
        return Fail({"workflow_changed", "the log is inside phase \"" + resume_->phase +
                                             "\", which this workflow does not have"});
      }
      RunPhase();
      break;
    case ResumePoint::Where::kEnterNext:
      EnterPhase(resume_->next, resume_->phase);
      break;
    case ResumePoint::Where::kComplete:
      phase_ = workflow_->FindPhase(resume_->phase);
      log_.Emit(events::kWorkflowCompleted,
                {{"sessionId", info_.id}, {"finalState", state_}, {"exitPhase", resume_->phase}});
      Finish(SessionEnd::Completed(nullptr));
      break;
    case ResumePoint::Where::kFinished:
      Finish(resume_->final_event == events::kWorkflowCompleted ? SessionEnd::Completed(nullptr)
                                                                : SessionEnd::Failed(Status::Ok()));

      break;
  }
}

void Runner::ApplyStart() {
  std::vector<StatePatch> intents;
  if (auto failed = ApplyUpdates(workflow_->start, nullptr,
                                 [] { return std::string("/start"); }, &intents)) {
    return Fail(std::move(*failed));
  }
  EmitIntents(std::move(intents));
  EnterPhase(workflow_->entry, "");
}

void Runner::EnterPhase(const std::string& name, const std::string& from) {
  log_.EndHold();
  if (finished_) return;
  phase_ = workflow_->FindPhase(name);
  if (!phase_) return Fail({"invalid_next", "there is no phase named \"" + name + "\""});
  resume_.reset();  // recorded results belong to the interrupted visit only
  int visit = ++visits_[name];
  if (visit > phase_->max_visits) {
    return Fail({"max_visits",
                 "phase \"" + name + "\" was entered " + std::to_string(visit) +
                     " times; max_visits is " + std::to_string(phase_->max_visits),
                 PhasePath()});
  }
  Json payload = Json::object();
  payload["phase"] = name;
  if (!from.empty()) payload["fromPhase"] = from;
  log_.Emit(events::kPhaseEntered, std::move(payload));
  // What the steps before this one held back is committed before this phase calls a provider,
  // runs a tool or puts an ask to anyone.
  if (phase_->kind != PhaseKind::kSet && phase_->kind != PhaseKind::kTerminal) {
    Status flushed = log_.Flush();
    if (!flushed.ok()) return OnLogFailed(flushed);
  }
  RunPhase();
}

void Runner::RunPhase() {
  switch (phase_->kind) {
    case PhaseKind::kRun:
    case PhaseKind::kParallel:
    case PhaseKind::kEach:
      RunAgents();
      break;
    case PhaseKind::kAsk:
      RunAsk();
      break;
    case PhaseKind::kTool:
      RunTool();
      break;
    case PhaseKind::kSet:
      CompletePhase(nullptr);
      break;
    case PhaseKind::kTerminal:
      ExitTerminal();
      break;
  }
}

// ---- run / parallel / each -----------------------------------------------------------------

void Runner::RunAgents() {
  branches_.clear();
  next_branch_ = 0;
  running_ = 0;
  if (phase_->kind == PhaseKind::kRun) {
    branches_.push_back({phase_->agent, std::nullopt, nullptr, std::nullopt, nullptr});
  } else if (phase_->kind == PhaseKind::kParallel) {
    for (const auto& a : phase_->parallel)
      branches_.push_back({a, std::nullopt, nullptr, std::nullopt, nullptr});
  } else {
    auto items = Evaluate(phase_->each.items, nullptr);
    std::string path = AppendPointer(PhasePath("each"), "items");
    if (!items.ok())
      return Fail({"expression_error", items.status().message(), path + items.status().path()});
    if (!items->is_array()) {
      return Fail({"expression_error",
                   std::string("each.items must yield a list, got ") + JsonTypeName(*items), path});
    }
    for (size_t i = 0; i < items->size(); ++i) {
      branches_.push_back(
          {phase_->each.agent, static_cast<int>(i), (*items)[i], std::nullopt, nullptr});
    }
    if (branches_.empty()) return CompletePhase(Json::array());
  }
  StartBranches();
}

void Runner::StartBranches() {
  size_t limit = phase_->kind == PhaseKind::kEach ? static_cast<size_t>(phase_->each.concurrency)
                                                  : branches_.size();
  std::weak_ptr<Runner> weak = shared_from_this();
  while (!finished_ && next_branch_ < branches_.size() && running_ < limit) {
    size_t slot = next_branch_++;
    Branch& b = branches_[slot];
    ++running_;
    // A branch that completed before an interruption is not run (or paid for) again.
    if (resume_) {
      auto it = resume_->agent_outputs.find(ReuseKey(b.agent, b.index));
      if (it != resume_->agent_outputs.end()) {
        Json output = it->second;
        deps_.executor->Post([weak, slot, output] {
          if (auto self = weak.lock())
            self->OnBranchDone(slot, std::nullopt, AgentOutcome{output, {}});
        });
        continue;
      }
    }
    AgentEnv env;
    env.workflow = workflow_.get();
    env.agent = workflow_->FindAgent(b.agent);
    env.phase = phase_->name;
    env.index = b.index;
    env.context = Context(state_);
    if (b.index) {
      env.context["item"] = b.item;
      env.context["index"] = *b.index;
    }
    env.session_id = info_.id;
    env.owner = info_.owner;
    env.log = &log_;
    env.provider = deps_.provider;
    env.tools = deps_.tools;
    env.executor = deps_.executor;
    env.clock = deps_.clock;
    env.options = &options_;
    b.run = std::make_unique<AgentRun>(std::move(env),
                                       [weak, slot](std::optional<Failure> f, AgentOutcome o) {
                                         if (auto self = weak.lock())
                                           self->OnBranchDone(slot, std::move(f), std::move(o));
                                       });
    b.run->Start();
  }
}

void Runner::OnBranchDone(size_t slot, std::optional<Failure> failure, AgentOutcome outcome) {
  if (finished_ || slot >= branches_.size()) return;
  Branch& b = branches_[slot];
  DeleteLater(deps_.executor, std::move(b.run));
  --running_;
  if (failure) {
    if (phase_->kind != PhaseKind::kRun) {
      std::string branch = b.index
                               ? "item " + std::to_string(*b.index) + " (agent \"" + b.agent + "\")"
                               : "agent \"" + b.agent + "\"";
      failure->message = "branch " + branch + " failed: " + failure->message;
    }
    return Fail(std::move(*failure));
  }
  b.output = std::move(outcome.output);
  if (running_ > 0 || next_branch_ < branches_.size()) {
    StartBranches();
    return;
  }
  Json output;
  if (phase_->kind == PhaseKind::kRun) {
    output = *branches_[0].output;
  } else if (phase_->kind == PhaseKind::kParallel) {
    output = Json::object();
    for (const auto& br : branches_) output[br.agent] = *br.output;
  } else {
    output = Json::array();
    for (const auto& br : branches_) output.push_back(*br.output);
  }
  CompletePhase(output);
}

// ---- ask -----------------------------------------------------------------------------------

void Runner::RunAsk() {
  const AskSpec& ask = phase_->ask;
  std::string id = AskId(phase_->name, visits_[phase_->name]);
  if (resume_ && resume_->input_received && resume_->input_received->value("id", "") == id) {
    const Json& p = *resume_->input_received;
    AskAnswer answer{p.value("value", Json()), std::nullopt};
    if (p.contains("approved")) answer.approved = p["approved"].get<bool>();
    return CompletePhase(AskOutput(ask, answer));
  }
  int64_t requested_at = deps_.clock->NowMillis();
  Json request;
  if (resume_ && resume_->input_requested && resume_->input_requested->value("id", "") == id) {
    requested_at = resume_->input_requested_at;  // asked before the interruption; wait again
    request = *resume_->input_requested;
  } else {
    auto prompt = RenderTemplate(ask.prompt, Context(state_));
    if (!prompt.ok())
      return Fail(
          {"template_error", prompt.status().message(), AppendPointer(PhasePath("ask"), "prompt")});
    Json payload = {
        {"id", id}, {"phase", phase_->name}, {"prompt", *prompt}, {"type", AskTypeName(ask.type)}};
    if (!ask.options.empty()) payload["options"] = ask.options;
    if (ask.schema) payload["schema"] = ask.schema->source();
    if (ask.timeout_ms > 0) payload["timeoutMs"] = ask.timeout_ms;
    if (ask.default_value) payload["default"] = *ask.default_value;
    request = payload;
    log_.Emit(events::kInputRequested, std::move(payload));
  }
  pending_ask_ = PendingAsk{id, requested_at};
  if (input_listener_) {
    // Posted, so listeners hear of the request after it is committed and delivered.
    std::weak_ptr<Runner> weak = shared_from_this();
    deps_.executor->Post([weak, id, request] {
      auto self = weak.lock();
      if (self && self->pending_ask_ && self->pending_ask_->id == id && self->input_listener_) {
        self->input_listener_(request);
      }
    });
  }
  if (ask.timeout_ms > 0) {
    int64_t remaining =
        std::max<int64_t>(0, requested_at + ask.timeout_ms - deps_.clock->NowMillis());
    std::weak_ptr<Runner> weak = shared_from_this();
    ask_timer_ = deps_.executor->RunAfter(std::chrono::milliseconds(remaining), [weak] {
      if (auto self = weak.lock()) self->OnAskTimeout();
    });
  }
}

void Runner::SubmitInput(InputAnswer answer, std::function<void(const Status&)> reply) {
  if (finished_) return reply(FailedPrecondition("the session is not running"));
  if (!pending_ask_)
    return reply(FailedPrecondition("no input is pending (it may have been answered already)"));
  if (answer.id.empty()) answer.id = pending_ask_->id;
  if (answer.id != pending_ask_->id) {
    return reply(Status(
        ErrorCode::kNotFound,
        "no pending input \"" + answer.id + "\"; the pending one is \"" + pending_ask_->id + "\""));
  }
  auto normalized = NormalizeAnswer(phase_->ask, answer.value, answer.approved);
  if (!normalized.ok()) return reply(normalized.status());
  reply(Status::Ok());
  pending_ask_.reset();
  ask_timer_.reset();
  Json payload = {{"id", answer.id}, {"value", normalized->value}};
  if (normalized->approved) payload["approved"] = *normalized->approved;
  log_.Emit(events::kInputReceived, std::move(payload));
  CompletePhase(AskOutput(phase_->ask, *normalized));
}

void Runner::OnAskTimeout() {
  if (finished_ || !pending_ask_) return;
  const AskSpec& ask = phase_->ask;
  std::string id = pending_ask_->id;
  pending_ask_.reset();
  ask_timer_.reset();
  if (!ask.default_value) {
    return Fail({"ask_timeout",
                 "no answer to \"" + id + "\" within " + std::to_string(ask.timeout_ms) +
                     " ms and no default",
                 AppendPointer(PhasePath("ask"), "timeout_ms")});
  }
  AskAnswer answer = DefaultAnswer(ask);
  Json payload = {{"id", id}, {"value", answer.value}, {"timedOut", true}};
  if (answer.approved) payload["approved"] = *answer.approved;
  log_.Emit(events::kInputReceived, std::move(payload));
  CompletePhase(AskOutput(ask, answer));
}

// ---- tool ----------------------------------------------------------------------------------

void Runner::RunTool() {
  const ToolPhaseSpec& spec = phase_->tool;
  if (resume_ && resume_->tool_result) {
    Json recorded = *resume_->tool_result;
    return OnToolDone(recorded.value("toolId", ""), ToolResult{recorded.value("output", Json()),
                                                               recorded.value("isError", false)});
  }
  auto input =
      RenderTemplateLeaves(spec.input, Context(state_), AppendPointer(PhasePath("tool"), "input"));
  if (!input.ok()) return Fail({"template_error", input.status().message(), input.status().path()});
  tool_call_id_ = NewUuid();
  log_.Emit(events::kToolCalled, {{"phase", phase_->name},
                                  {"toolId", tool_call_id_},
                                  {"toolName", spec.name},
                                  {"input", *input}});
  auto decl = workflow_->tools.find(spec.name);
  ToolRequest req{info_.id, info_.owner, "", tool_call_id_, spec.name, *input, "", std::nullopt};
  std::weak_ptr<Runner> weak = shared_from_this();
  std::string call_id = tool_call_id_;
  tool_call_ = deps_.tools->Call(req, decl == workflow_->tools.end() ? nullptr : &decl->second,
                                 deps_.executor, [weak, call_id](ToolResult r) {
                                   if (auto self = weak.lock())
                                     self->OnToolDone(call_id, std::move(r));
                                 });
}

void Runner::OnToolDone(const std::string& call_id, ToolResult result) {
  if (finished_) return;
  bool replayed = resume_ && resume_->tool_result;
  if (!replayed) {
    DeleteLater(deps_.executor, std::move(tool_call_));
    log_.Emit(events::kToolResult, {{"phase", phase_->name},
                                    {"toolId", call_id},
                                    {"toolName", phase_->tool.name},
                                    {"output", result.output},
                                    {"isError", result.is_error}});
  }
  if (result.is_error) {
    return Fail({"tool_failed",
                 "tool \"" + phase_->tool.name + "\" failed: " + ToolOutputText(result.output),
                 AppendPointer(PhasePath("tool"), "name")});
  }
  CompletePhase(result.output);
}

// ---- tools called from outside -------------------------------------------------------------

void Runner::CallExternalTool(std::string name, Json input,
                              std::function<void(Result<ToolCallOutcome>)> reply) {
  if (finished_) return reply(FailedPrecondition("the session is not running"));
  ToolDecl undeclared;
  const ToolDecl* decl = &undeclared;
  if (auto it = workflow_->tools.find(name); it != workflow_->tools.end()) {
    if (it->second.type != "client") {
      return reply(InvalidArgument("tool \"" + name + "\" is a " + it->second.type +
                                   " tool; only client tools can be called this way"));
    }
    decl = &it->second;
  } else {
    undeclared.name = name;
    undeclared.type = "client";
  }
  std::string id = NewUuid();
  log_.Emit(events::kToolCalled,
            {{"toolId", id}, {"toolName", name}, {"input", input}, {"via", "api"}});
  if (finished_) return reply(FailedPrecondition("the session is not running"));  // store failed
  ExternalCall& call = external_calls_[id];
  call.tool_name = name;
  call.reply = std::move(reply);
  std::weak_ptr<Runner> weak = shared_from_this();
  ToolRequest req{info_.id, info_.owner, "", id, name, std::move(input), "", std::nullopt};
  call.call = deps_.tools->Call(req, decl, deps_.executor, [weak, id](ToolResult r) {
    if (auto self = weak.lock()) self->OnExternalToolDone(id, std::move(r));
  });
}

void Runner::OnExternalToolDone(const std::string& call_id, ToolResult result) {
  auto it = external_calls_.find(call_id);
  if (it == external_calls_.end()) return;
  ExternalCall call = std::move(it->second);
  external_calls_.erase(it);
  DeleteLater(deps_.executor, std::move(call.call));
  if (!finished_) {
    log_.Emit(events::kToolResult, {{"toolId", call_id},
                                    {"toolName", call.tool_name},
                                    {"output", result.output},
                                    {"isError", result.is_error},
                                    {"via", "api"}});
  }
  // The caller hears of the result once it is stored: the commit of tool:result was posted
  // first, and the executor runs tasks in order.
  deps_.executor->Post([reply = std::move(call.reply),
                        outcome = ToolCallOutcome{call_id, std::move(result)}]() mutable {
    reply(std::move(outcome));
  });
}

void Runner::Fail(Failure failure) {
  if (finished_) return;
  StopActivities();
  if (phase_) log_.Emit(events::kPhaseExited, {{"phase", phase_->name}, {"reason", "error"}});
  log_.Emit(events::kWorkflowError, {{"sessionId", info_.id}, {"error", failure.ToJson()}});
  Finish(
      SessionEnd::Failed(Status(ErrorCode::kAborted, failure.message, failure.path), failure.code));
}

void Runner::FailUnexpected(const std::string& what) {
  Fail({"internal", "internal error: " + what});
}

void Runner::Pause(std::string reason) {
  if (finished_) return;
  StopActivities();
  log_.Emit(events::kSessionPaused, {{"reason", reason}});
  Finish(SessionEnd::Paused());
}

void Runner::Cancel() {
  if (finished_) return;
  StopActivities();
  Finish(SessionEnd::Cancelled());
}

void Runner::StopActivities() {
  for (auto& b : branches_) {
    if (b.run) b.run->Cancel();
    DeleteLater(deps_.executor, std::move(b.run));
  }
  if (tool_call_) tool_call_->Cancel();
  DeleteLater(deps_.executor, std::move(tool_call_));
  ask_timer_.reset();
  pending_ask_.reset();
}

void Runner::Finish(SessionEnd end) {
  finished_ = true;
  auto external = std::move(external_calls_);
  external_calls_.clear();
  for (auto& [id, call] : external) {
    call.call->Cancel();
    DeleteLater(deps_.executor, std::move(call.call));
    call.reply(
        FailedPrecondition("the session stopped before tool \"" + call.tool_name + "\" answered"));
  }
  Status flushed = log_.Flush();
  if (!flushed.ok()) end = SessionEnd::Failed(flushed);
  auto done = std::move(done_);
  if (done) done(end);
}

}  // namespace scaffold::engine
