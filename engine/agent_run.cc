#include "engine/agent_run.h"

#include <algorithm>
#include <set>

#include "engine/event.h"
#include "engine/template.h"
#include "engine/uuid.h"

namespace scaffold::engine {
namespace {

// The JSON in a text reply, tolerating a Markdown code fence around it.
std::optional<Json> ParseJsonReply(const std::string& text) {
  std::string_view t = text;
  auto trim = [](std::string_view s) {
    while (!s.empty() && isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  t = trim(t);
  if (t.substr(0, 3) == "```") {
    size_t newline = t.find('\n');
    size_t close = t.rfind("```");
    if (newline != std::string_view::npos && close != std::string_view::npos && close > newline) {
      t = trim(t.substr(newline + 1, close - newline - 1));
    }
  }
  auto parsed = ParseJson(t);
  if (!parsed.ok()) return std::nullopt;
  return std::move(parsed).value();
}

// Backoff jitter in [0.75, 1], derived from the session, the invocation and the attempt rather
// than drawn at random, so a replay computes the same delays as the run it replays.
double Jitter(const std::string& session, const std::string& agent, std::optional<int> index, int attempt) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xFF) * 1099511628211ULL;
  };
  mix(session);
  mix(agent);
  mix(std::to_string(index.value_or(-1)));
  mix(std::to_string(attempt));
  return 0.75 + 0.25 * static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);
}

}  // namespace

Json Failure::ToJson() const {
  Json out = {{"code", code}, {"message", message}};
  if (!path.empty()) out["path"] = path;
  return out;
}

AgentRun::AgentRun(AgentEnv env, Done done) : env_(std::move(env)), done_(std::move(done)) {}

AgentRun::~AgentRun() {
  *alive_ = false;
  finished_ = true;
  if (call_) call_->Cancel();
  for (auto& t : tool_calls_) {
    if (t) t->Cancel();
  }
  for (auto& t : list_calls_) {
    if (t) t->Cancel();
  }
}

std::string AgentRun::ProviderName() const {
  return env_.options->provider_override.empty() ? env_.agent->provider
                                                 : env_.options->provider_override;
}

std::string AgentRun::ModelName() const {
  return env_.options->model_override.empty() ? env_.agent->model : env_.options->model_override;
}

Json AgentRun::Payload(Json fields) const {
  fields["agent"] = env_.agent->name;
  if (env_.index) fields["index"] = *env_.index;
  return fields;
}

void AgentRun::Start() {
  const Agent& agent = *env_.agent;
  started_ms_ = env_.clock->NowMillis();
  env_.log->Emit(
      events::kAgentStarted,
      Payload({{"phase", env_.phase}, {"provider", ProviderName()}, {"model", ModelName()}}));
  std::string base = AppendPointer("/agents", agent.name);
  auto system = RenderTemplate(agent.system, env_.context);
  if (!system.ok())
    return Fail("template_error", system.status().message(), AppendPointer(base, "system"));
  auto prompt = RenderTemplate(agent.prompt, env_.context);
  if (!prompt.ok())
    return Fail("template_error", prompt.status().message(), AppendPointer(base, "prompt"));

  request_.session_id = env_.session_id;
  request_.agent = agent.name;
  request_.provider = ProviderName();
  request_.model = ModelName();
  request_.system = *system;
  request_.messages = Json::array(
      {{{"role", "user"}, {"content", Json::array({{{"type", "text"}, {"text", *prompt}}})}}});
  if (agent.output) request_.output_schema = agent.output->source();
  request_.max_tokens = agent.max_tokens;
  request_.temperature = agent.temperature;
  request_.params = agent.params;
  ListServers();
}

void AgentRun::ListServers() {
  const auto& names = env_.agent->tools;
  list_calls_.resize(names.size());
  listings_.assign(names.size(), std::nullopt);
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = env_.workflow->tools.find(names[i]);
    if (it == env_.workflow->tools.end() || it->second.type != "mcp") continue;
    ++listings_left_;
    ToolRequest req{env_.session_id, env_.owner, env_.agent->name, "", names[i], Json::object(),
                    "", std::nullopt};
    req.index = env_.index;
    list_calls_[i] = env_.tools->ListTools(req, it->second, env_.executor,
                                           [this, i](ToolListing l) { OnListed(i, std::move(l)); });
  }
  if (listings_left_ == 0) {
    BuildTools();
    CallModel();
  }
}

void AgentRun::OnListed(size_t i, ToolListing listing) {
  if (finished_ || i >= listings_.size() || listings_[i]) return;
  DeleteLater(env_.executor, std::move(list_calls_[i]));
  listings_[i] = std::move(listing);
  if (--listings_left_ > 0) return;
  BuildTools();
  CallModel();
}

void AgentRun::BuildTools() {
  const auto& names = env_.agent->tools;
  const auto& decls = env_.workflow->tools;
  std::set<std::string> taken;
  for (const auto& name : names) {
    auto it = decls.find(name);
    if (it == decls.end() || it->second.type != "mcp") taken.insert(name);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = decls.find(names[i]);
    if (it == decls.end()) continue;
    const ToolDecl& decl = it->second;
    if (decl.type != "mcp") {
      request_.tools.push_back({names[i], decl.description, decl.input_schema});
      continue;
    }
    // A server that could not be listed leaves the agent without its tools, not without a run:
    // the event says why.
    ToolListing listing = PrepareListing(decl, std::move(*listings_[i]), &taken);
    Json fields = ListingToJson(listing);
    fields["tool"] = names[i];
    env_.log->Emit(events::kToolListed, Payload(std::move(fields)));
    for (auto& tool : listing.tools) {
      server_tools_[tool.as] = {names[i], tool.name};
      request_.tools.push_back({tool.as, std::move(tool.description), std::move(tool.input_schema)});
    }
  }
  listings_.clear();
}

void AgentRun::CallModel() {
  if (finished_) return;
  call_ = env_.provider->Start(request_, env_.executor, this);
  if (env_.agent->timeout_ms > 0) {
    timer_ = env_.executor->RunAfter(std::chrono::milliseconds(env_.agent->timeout_ms),
                                     [this] { OnTimeout(); });
  }
}

void AgentRun::ReleaseCall() {
  timer_.reset();
  if (call_) call_->Cancel();
  DeleteLater(env_.executor, std::move(call_));
}

void AgentRun::OnTextDelta(std::string_view delta) {
  if (finished_ || delta.empty()) return;
  env_.log->Emit(events::kTextDelta, Payload({{"delta", std::string(delta)}}));
}

void AgentRun::OnThinkingDelta(std::string_view delta) {
  if (finished_ || delta.empty()) return;
  env_.log->Emit(events::kThinkingDelta, Payload({{"delta", std::string(delta)}}));
}

void AgentRun::OnComplete(ModelResponse response) {
  if (finished_) return;
  ReleaseCall();
  transport_attempts_ = 0;
  usage_ += response.usage;
  if (!response.thinking.empty())
    env_.log->Emit(events::kThinkingComplete, Payload({{"thinking", response.thinking}}));
  if (!response.text.empty())
    env_.log->Emit(events::kTextComplete, Payload({{"fullText", response.text}}));
  if (!response.tool_uses.empty()) {
    RunTools(response);
    return;
  }
  FinishWithOutput(response);
}

void AgentRun::OnError(ProviderError error) {
  if (finished_) return;
  ReleaseCall();
  if (error.kind == ProviderErrorKind::kMissingRecording) {
    return Fail("missing_recording", error.message);
  }
  RetryOrFail(RetryReason(error.kind), error.message, error.retry_after_ms, error.retryable);
}

void AgentRun::OnTimeout() {
  if (finished_) return;
  if (call_) call_->TimedOut();
  ReleaseCall();
  RetryOrFail("timeout",
              "no complete reply within " + std::to_string(env_.agent->timeout_ms) + " ms",
              std::nullopt, true);
}

void AgentRun::RetryOrFail(const char* reason, const std::string& message,
                           std::optional<int64_t> retry_after_ms, bool retryable) {
  if (!retryable || transport_attempts_ >= env_.agent->retries) {
    std::string text = "agent \"" + env_.agent->name + "\": " + message;
    if (transport_attempts_ > 0)
      text += " (after " + std::to_string(transport_attempts_) + " retries)";
    return Fail(std::string(reason) == "timeout" ? "timeout" : "provider_error", text);
  }
  ++transport_attempts_;
  const RunOptions& o = *env_.options;
  int64_t delay =
      std::min(o.retry_max_ms, o.retry_base_ms << std::min(transport_attempts_ - 1, 20));
  delay = static_cast<int64_t>(static_cast<double>(delay) *
                               Jitter(env_.session_id, env_.agent->name, env_.index, transport_attempts_));
  if (retry_after_ms && *retry_after_ms >= 0 && *retry_after_ms <= o.retry_after_cap_ms)
    delay = *retry_after_ms;
  env_.log->Emit(events::kAgentRetry, Payload({{"attempt", transport_attempts_},
                                               {"reason", reason},
                                               {"delayMs", delay},
                                               {"error", message}}));
  timer_ = env_.executor->RunAfter(std::chrono::milliseconds(delay), [this] {
    timer_.reset();
    CallModel();
  });
}

void AgentRun::RunTools(const ModelResponse& response) {
  ++tool_turns_;
  if (tool_turns_ >= env_.agent->max_turns) {
    return Fail("max_turns",
                "agent \"" + env_.agent->name + "\" was still calling tools after " +
                    std::to_string(env_.agent->max_turns) + " turns (max_turns)",
                AppendPointer(AppendPointer("/agents", env_.agent->name), "max_turns"));
  }
  request_.messages.push_back({{"role", "assistant"}, {"content", response.content}});
  pending_tools_ = response.tool_uses;
  tool_calls_.clear();
  tool_calls_.resize(pending_tools_.size());
  tool_results_.assign(pending_tools_.size(), std::nullopt);
  for (size_t i = 0; i < pending_tools_.size(); ++i) {
    const ToolUse& use = pending_tools_[i];
    env_.log->Emit(events::kToolCalled,
                   Payload({{"toolId", use.id}, {"toolName", use.name}, {"input", use.input}}));
  }
  for (size_t i = 0; i < pending_tools_.size(); ++i) {
    const ToolUse& use = pending_tools_[i];
    const auto& decls = env_.workflow->tools;
    ToolRequest req{env_.session_id, env_.owner, env_.agent->name, use.id, use.name, use.input,
                    "", std::nullopt};
    req.index = env_.index;
    if (auto server = server_tools_.find(use.name); server != server_tools_.end()) {
      req.server_tool = server->second.name;
      tool_calls_[i] = env_.tools->Call(req, &decls.at(server->second.entry), env_.executor,
                                        [this, i](ToolResult r) { OnToolDone(i, std::move(r)); });
      continue;
    }
    const auto& allowed = env_.agent->tools;
    auto decl = decls.find(use.name);
    bool is_server = decl != decls.end() && decl->second.type == "mcp";
    if (is_server || std::find(allowed.begin(), allowed.end(), use.name) == allowed.end()) {
      std::string message =
          "agent \"" + env_.agent->name + "\" has no tool named \"" + use.name + "\"";
      env_.executor->Post([this, i, message, alive = alive_] {
        if (*alive) OnToolDone(i, ToolResult{message, true});
      });
      continue;
    }
    tool_calls_[i] =
        env_.tools->Call(req, decl == decls.end() ? nullptr : &decl->second, env_.executor,
                         [this, i](ToolResult r) { OnToolDone(i, std::move(r)); });
  }
}

void AgentRun::OnToolDone(size_t i, ToolResult result) {
  if (finished_ || i >= tool_results_.size() || tool_results_[i]) return;
  DeleteLater(env_.executor, std::move(tool_calls_[i]));
  env_.log->Emit(events::kToolResult, Payload({{"toolId", pending_tools_[i].id},
                                               {"toolName", pending_tools_[i].name},
                                               {"output", result.output},
                                               {"isError", result.is_error}}));
  tool_results_[i] = std::move(result);
  if (std::any_of(tool_results_.begin(), tool_results_.end(), [](const auto& r) { return !r; }))
    return;
  Json blocks = Json::array();
  for (size_t k = 0; k < pending_tools_.size(); ++k) {
    const ToolResult& r = *tool_results_[k];
    blocks.push_back({{"type", "tool_result"},
                      {"tool_use_id", pending_tools_[k].id},
                      {"content", r.output.is_string() ? r.output : Json(DumpJson(r.output))},
                      {"is_error", r.is_error}});
  }
  request_.messages.push_back({{"role", "user"}, {"content", blocks}});
  CallModel();
}

void AgentRun::FinishWithOutput(const ModelResponse& response) {
  const Agent& agent = *env_.agent;
  if (!agent.output) return Complete(response.text, response.stop_reason);
  std::optional<Json> value = response.structured;
  if (!value) value = ParseJsonReply(response.text);
  std::string problems;
  if (!value) {
    problems = "the reply is not JSON";
  } else {
    auto violations = agent.output->Validate(*value);
    if (violations.empty()) return Complete(*value, response.stop_reason);
    for (const auto& v : violations) problems += (problems.empty() ? "" : "; ") + v.ToString();
  }
  if (invalid_attempts_ >= agent.retries) {
    return Fail(
        "invalid_output",
        "agent \"" + agent.name + "\" did not produce output matching its schema" +
            (invalid_attempts_ ? " after " + std::to_string(invalid_attempts_ + 1) + " attempts"
                               : "") +
            ": " + problems,
        AppendPointer(AppendPointer("/agents", agent.name), "output"));
  }
  ++invalid_attempts_;
  env_.log->Emit(events::kAgentRetry, Payload({{"attempt", invalid_attempts_},
                                               {"reason", "invalid_output"},
                                               {"delayMs", 0},
                                               {"error", problems}}));
  request_.messages.push_back({{"role", "assistant"}, {"content", response.content}});
  request_.messages.push_back(
      {{"role", "user"},
       {"content",
        Json::array({{{"type", "text"},
                      {"text", "Your output did not match the required schema: " + problems +
                                   ". Reply again with output that matches the schema."}}})}});
  CallModel();
}

void AgentRun::Complete(Json output, const std::string& stop_reason) {
  finished_ = true;
  int64_t duration = env_.clock->NowMillis() - started_ms_;
  env_.log->Emit(events::kAgentCompleted, Payload({{"output", output},
                                                   {"durationMs", duration},
                                                   {"usage", usage_.ToJson()},
                                                   {"stopReason", stop_reason}}));
  auto done = std::move(done_);
  done(std::nullopt, AgentOutcome{std::move(output), usage_});
}

void AgentRun::Fail(std::string code, std::string message, std::string path) {
  finished_ = true;
  ReleaseCall();
  auto done = std::move(done_);
  done(Failure{std::move(code), std::move(message), std::move(path)}, AgentOutcome{});
}

void AgentRun::Cancel() {
  finished_ = true;
  ReleaseCall();
  for (auto* calls : {&tool_calls_, &list_calls_}) {
    for (auto& t : *calls) {
      if (t) t->Cancel();
      DeleteLater(env_.executor, std::move(t));
    }
  }
}

}  // namespace scaffold::engine
