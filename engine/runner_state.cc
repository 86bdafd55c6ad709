// The runner's side of the state: the context expressions are evaluated in, updates applied
// and recorded as intents, checkpoints by policy, and the end of a phase (its updates, its
// `next`, a terminal phase's result).
#include "engine/runner.h"

#include <algorithm>

#include "engine/json_logic.h"
#include "engine/uuid.h"

namespace scaffold::engine {

// The context expressions are evaluated in, around the runner's state without copying it: the
// state is moved into the context for the evaluation and moved back when this ends.
class Runner::LentContext {
 public:
  LentContext(Runner* runner, const Json* extra) : runner_(runner) {
    Json& base = runner_->expression_context_;
    if (base.is_null()) {
      base = Json{{"input", runner_->info_.input},
                  {"session", {{"id", runner_->info_.id}, {"workflow", runner_->workflow_->name}}}};
    }
    base["state"] = std::move(runner_->state_);
    if (extra) {
      for (auto it = extra->begin(); it != extra->end(); ++it) base[it.key()] = it.value();
    }
    extra_ = extra;
  }
  ~LentContext() {
    Json& base = runner_->expression_context_;
    runner_->state_ = std::move(base["state"]);
    if (extra_) {
      for (auto it = extra_->begin(); it != extra_->end(); ++it) base.erase(it.key());
    }
  }
  LentContext(const LentContext&) = delete;
  LentContext& operator=(const LentContext&) = delete;

  const Json& get() const { return runner_->expression_context_; }

 private:
  Runner* runner_;
  const Json* extra_ = nullptr;
};

Result<Json> Runner::Evaluate(const Json& rule, const Json* extra) {
  LentContext context(this, extra);
  return EvaluateLogic(rule, context.get());
}

// ---- finishing a phase ---------------------------------------------------------------------

std::optional<Failure> Runner::ApplyUpdates(const std::vector<Update>& updates,
                                            const Json* extra,
                                            const std::function<std::string()>& path,
                                            std::vector<StatePatch>* intents) {
  if (updates.empty()) return std::nullopt;
  std::vector<Assignment> assignments;
  std::optional<Failure> failure;
  {
    LentContext context(this, extra);
    for (const auto& u : updates) {
      auto value = EvaluateLogic(u.expression, context.get());
      if (!value.ok()) {
        failure = Failure{"expression_error", value.status().message(),
                          AppendPointer(path(), u.pointer) + value.status().path()};
        break;
      }
      // An update that puts the state inside itself, visit after visit, would nest it without
      // end (and every reader of the state recurses): the state is kept within kMaxStateDepth.
      int at = static_cast<int>(std::count(u.pointer.begin(), u.pointer.end(), '/'));
      if (at + JsonDepth(*value, kMaxStateDepth) > kMaxStateDepth) {
        failure = Failure{"update_failed",
                          "this update would make the state nest deeper than " +
                              std::to_string(kMaxStateDepth) + " levels",
                          AppendPointer(path(), u.pointer)};
        break;
      }
      assignments.push_back({u.pointer, std::move(*value)});
    }
  }
  if (failure) return failure;
  auto patch = ApplyAssignments(&state_, assignments);
  if (!patch.ok()) {
    return Failure{"update_failed", patch.status().message(),
                   AppendPointer(path(), patch.status().path())};
  }
  intents->push_back(std::move(*patch));
  return std::nullopt;
}

void Runner::EmitIntents(std::vector<StatePatch> intents) {
  for (auto& intent : intents) {
    // Built key by key: an initializer list copies its values into temporaries first, a
    // measurable part of a step's cost in a loop of `set` phases.
    Json payload = Json::object();
    payload["intentId"] = NewUuid();
    payload["patches"] = std::move(intent.patches);
    payload["inversePatches"] = std::move(intent.inverse);
    if (phase_) payload["phase"] = phase_->name;
    log_.Emit(events::kStateIntent, std::move(payload));
    intent_bytes_since_checkpoint_ += static_cast<int64_t>(log_.last_event_bytes());
    int64_t bytes_limit = options_.checkpoint_bytes > 0
                              ? options_.checkpoint_bytes
                              : std::max(kMinCheckpointBytes, last_checkpoint_bytes_);
    if (++intents_since_checkpoint_ >= options_.checkpoint_every ||
        intent_bytes_since_checkpoint_ >= bytes_limit) {
      EmitCheckpoint();
    }
  }
}

void Runner::EmitCheckpoint() {
  Json payload = {{"state", state_}, {"position", log_.next_position()}};
  if (phase_) payload["phase"] = phase_->name;
  log_.Emit(events::kStateCheckpoint, std::move(payload));
  intents_since_checkpoint_ = 0;
  intent_bytes_since_checkpoint_ = 0;
  last_checkpoint_bytes_ = static_cast<int64_t>(log_.last_event_bytes());
}

void Runner::CompletePhase(const Json& output) {
  if (finished_) return;
  // The updates of the phase apply to the state in turn, each update object seeing the state
  // left by the ones before it; if one fails, the ones before are undone (and the session
  // fails), so the state changes only when all of them succeed.
  std::vector<StatePatch> intents;
  bool has_output = phase_->kind != PhaseKind::kSet;
  Json extra = Json::object();
  if (has_output) extra["output"] = output;
  auto fail = [&](Failure failure) {
    for (auto it = intents.rbegin(); it != intents.rend(); ++it) {
      (void)ApplyPatch(&state_, it->inverse);
    }
    Fail(std::move(failure));
  };
  for (const auto& b : branches_) {
    if (phase_->kind != PhaseKind::kRun && phase_->kind != PhaseKind::kParallel &&
        phase_->kind != PhaseKind::kEach)
      break;
    const Agent* agent = workflow_->FindAgent(b.agent);
    if (!agent || agent->update.empty()) continue;
    Json agent_extra = {{"output", b.output ? *b.output : Json()}};
    if (b.index) {
      agent_extra["item"] = b.item;
      agent_extra["index"] = *b.index;
    }
    if (auto failed = ApplyUpdates(
            agent->update, &agent_extra,
            [&b] { return AppendPointer(AppendPointer("/agents", b.agent), "update"); },
            &intents)) {
      return fail(std::move(*failed));
    }
  }
  if (phase_->kind == PhaseKind::kSet) {
    if (auto failed = ApplyUpdates(phase_->set, &extra, [this] { return PhasePath("set"); },
                                   &intents)) {
      return fail(std::move(*failed));
    }
  }
  if (auto failed =
          ApplyUpdates(phase_->update, &extra, [this] { return PhasePath("update"); }, &intents)) {
    return fail(std::move(*failed));
  }
  EmitIntents(std::move(intents));
  branches_.clear();

  std::string next;
  if (phase_->next->is_string()) {
    next = phase_->next->get<std::string>();
  } else {
    Result<Json> value = Evaluate(*phase_->next, &extra);
    if (!value.ok())
      return Fail({"expression_error", value.status().message(),
                   PhasePath("next") + value.status().path()});
    if (!value->is_string() || !workflow_->FindPhase(value->get<std::string>())) {
      return Fail({"invalid_next",
                   "next evaluated to " + DumpJson(*value) + ", which is not a phase name",
                   PhasePath("next")});
    }
    next = value->get<std::string>();
  }
  std::string from = phase_->name;
  Json exited = Json::object();
  exited["phase"] = from;
  exited["reason"] = "next";
  exited["next"] = next;
  log_.Emit(events::kPhaseExited, std::move(exited));
  // Entering the next phase in a new task keeps the stack flat over long loops; nothing left
  // the process between the two, so their events may share a commit.
  log_.HoldOpen();
  std::weak_ptr<Runner> weak = shared_from_this();
  deps_.executor->Post([weak, next, from] {
    if (auto self = weak.lock()) self->EnterPhase(next, from);
  });
}

void Runner::ExitTerminal() {
  Json result;
  bool has_result = false;
  if (phase_->result) {
    auto value = Evaluate(*phase_->result, nullptr);
    if (!value.ok()) {
      return Fail({"expression_error", value.status().message(),
                   PhasePath("result") + value.status().path()});
    }
    result = std::move(*value);
    has_result = true;
  }
  log_.Emit(events::kPhaseExited, {{"phase", phase_->name}, {"reason", "terminal"}});
  Json payload = {{"sessionId", info_.id}, {"finalState", state_}, {"exitPhase", phase_->name}};
  if (has_result) payload["result"] = result;
  log_.Emit(events::kWorkflowCompleted, std::move(payload));
  Finish(SessionEnd::Completed(result));
}

}  // namespace scaffold::engine
