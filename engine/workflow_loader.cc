// Reading a workflow file into the model: JSON syntax, duplicate keys, unknown keys, types and
// required fields. Cross-references and reachability are checked in workflow_checks.cc; the
// typed reading is workflow_reader.cc and the "tools" map workflow_tools_loader.cc.

#include <algorithm>

#include "engine/suggest.h"
#include "engine/template.h"
#include "engine/workflow.h"
#include "engine/workflow_checks.h"
#include "engine/workflow_json.h"
#include "engine/workflow_reader.h"

namespace scaffold::engine {
namespace {

using J = OrderedJson;

class Loader : public WorkflowReader {
 public:
  explicit Loader(std::vector<Diagnostic>* diags) : WorkflowReader(diags) {}

  void LoadWorkflow(const J& root, Workflow* wf) {
    if (!root.is_object()) {
      TypeError("", "a workflow object", root);
      return;
    }
    CheckKeys(root, "",
              {"scaffold", "name", "description", "input", "state", "start", "entry", "defaults",
               "providers", "agents", "phases", "tools", "max_visits"});
    auto version = root.find("scaffold");
    if (version == root.end()) {
      Error("/scaffold", "required: the format version, \"scaffold\": 1");
    } else if (!version->is_number_integer() || version->get<int64_t>() != kFormatVersion) {
      Error("/scaffold", "unsupported format version " + version->dump() +
                             " (this build reads version " + std::to_string(kFormatVersion) + ")");
      return;  // a different format: nothing else can be judged
    }
    if (auto name = String(root, "name", "", true)) {
      if (name->empty()) Error("/name", "cannot be empty");
      wf->name = *name;
    }
    wf->description = String(root, "description", "").value_or("");
    if (auto it = root.find("input"); it != root.end()) wf->input_schema = Schema(*it, "/input");
    if (auto it = root.find("state"); it != root.end()) {
      if (IsObject(*it, "/state")) wf->initial_state = ToJson(*it);
    }
    if (auto it = root.find("start"); it != root.end()) wf->start = Updates(*it, "/start");
    wf->max_visits = static_cast<int>(
        Integer(root, "max_visits", "", 1, 1000000000).value_or(kDefaultMaxVisits));
    if (auto it = root.find("providers"); it != root.end()) LoadProviders(*it, wf);
    if (auto it = root.find("tools"); it != root.end()) LoadTools(*it, wf);
    if (auto it = root.find("prices"); it != root.end()) LoadPrices(*it, wf);

    if (auto it = root.find("defaults"); it != root.end()) LoadDefaults(*it);
    auto agents = root.find("agents");
    if (agents != root.end() && IsObject(*agents, "/agents")) {
      for (const auto& [name, body] : agents->items()) LoadAgent(name, body, wf);
    }
    auto phases = root.find("phases");
    if (phases == root.end()) {
      Error("/phases", "required: a workflow needs at least one phase");
    } else if (IsObject(*phases, "/phases")) {
      if (phases->empty()) Error("/phases", "a workflow needs at least one phase");
      // One allocation: grown one phase at a time, the vector moved every phase at each growth
      // and, past a few hundred phases, had each new buffer's pages faulted in afresh.
      wf->phases.reserve(phases->size());
      for (const auto& [name, body] : phases->items()) LoadPhase(name, body, wf);
    }
    if (auto entry = String(root, "entry", "")) {
      wf->entry = *entry;
    } else if (!wf->phases.empty()) {
      wf->entry = wf->phases.front().name;
    }
  }

  void LoadProviders(const J& value, Workflow* wf) {
    if (!IsObject(value, "/providers")) return;
    for (const auto& [name, body] : value.items()) {
      std::string path = AppendPointer("/providers", name);
      CheckName(name, path, "provider");
      if (!IsObject(body, path)) continue;
      CheckKeys(body, path,
                {"type", "base_url", "api_key_env", "connect_timeout_ms", "stall_timeout_ms"});
      ProviderConfig config;
      config.name = name;
      config.type = String(body, "type", path, true).value_or("");
      if (!config.type.empty() && config.type != "anthropic" && config.type != "openai") {
        Error(AppendPointer(path, "type"), "unknown provider type \"" + config.type +
                                               "\" (expected \"anthropic\" or \"openai\")" +
                                               DidYouMean(config.type, {"anthropic", "openai"}));
      }
      config.base_url = String(body, "base_url", path).value_or("");
      config.api_key_env = String(body, "api_key_env", path).value_or("");
      config.connect_timeout_ms = Integer(body, "connect_timeout_ms", path, 1, 600000).value_or(0);
      config.stall_timeout_ms = Integer(body, "stall_timeout_ms", path, 1, 3600000).value_or(0);
      wf->providers[name] = config;
    }
  }

  void LoadPrices(const J& value, Workflow* wf) {
    if (!IsObject(value, "/prices")) return;
    for (const auto& item : value.items()) {
      const J& body = item.value();
      std::string path = AppendPointer("/prices", item.key());
      if (!IsObject(body, path)) continue;
      CheckKeys(body, path, {"input", "output", "cache_read", "cache_write"});
      ModelPrice price;
      auto read = [&](const char* key, double* out, bool required) {
        auto it = body.find(key);
        std::string p = AppendPointer(path, key);
        if (it == body.end()) {
          if (required) Error(p, "required (USD per million tokens)");
        } else if (!it->is_number() || it->get<double>() < 0) {
          Error(p, "expected a price in USD per million tokens, got " + it->dump());
        } else {
          *out = it->get<double>();
        }
      };
      read("input", &price.input, true);
      read("output", &price.output, true);
      read("cache_read", &price.cache_read, false);
      read("cache_write", &price.cache_write, false);
      wf->prices[item.key()] = price;
    }
  }

  void LoadTools(const J& value, Workflow* wf) { LoadToolDecls(*this, value, wf); }

  // Agent settings that `defaults` may supply. Each is read by `read(loader, object, path)`.
  struct AgentSettings {
    std::optional<std::string> provider, model;
    std::optional<int64_t> max_turns, max_tokens, retries, timeout_ms;
    std::optional<double> temperature;
  };

  AgentSettings ReadSettings(const J& obj, const std::string& path) {
    AgentSettings s;
    s.provider = String(obj, "provider", path);
    s.model = String(obj, "model", path);
    s.max_turns = Integer(obj, "max_turns", path, 1, 1000);
    s.max_tokens = Integer(obj, "max_tokens", path, 1, 10000000);
    s.retries = Integer(obj, "retries", path, 0, 100);
    s.timeout_ms = Integer(obj, "timeout_ms", path, 1, 24LL * 3600 * 1000);
    if (auto it = obj.find("temperature"); it != obj.end()) {
      std::string p = AppendPointer(path, "temperature");
      if (!it->is_number()) {
        TypeError(p, "a number", *it);
      } else if (it->get<double>() < 0 || it->get<double>() > 2) {
        Error(p, "must be between 0 and 2, got " + it->dump());
      } else {
        s.temperature = it->get<double>();
      }
    }
    return s;
  }

  void LoadDefaults(const J& value) {
    if (!IsObject(value, "/defaults")) return;
    CheckKeys(value, "/defaults",
              {"provider", "model", "max_tokens", "temperature", "max_turns", "retries",
               "timeout_ms", "params"});
    defaults_ = ReadSettings(value, "/defaults");
    if (auto it = value.find("params"); it != value.end() && IsObject(*it, "/defaults/params")) {
      default_params_ = ToJson(*it);
    }
  }

  void LoadAgent(const std::string& name, const J& body, Workflow* wf) {
    std::string path = AppendPointer("/agents", name);
    CheckName(name, path, "agent");
    if (!IsObject(body, path)) return;
    CheckKeys(body, path,
              {"description", "provider", "model", "system", "prompt", "output", "update", "tools",
               "max_turns", "max_tokens", "temperature", "retries", "timeout_ms", "params"});
    AgentSettings own = ReadSettings(body, path);
    Agent agent;
    agent.name = name;
    agent.provider = own.provider.value_or(defaults_.provider.value_or("anthropic"));
    agent.model = own.model.value_or(defaults_.model.value_or(""));
    if (!body.contains("model") && !defaults_.model) {
      Error(AppendPointer(path, "model"), "required: set \"model\" here or in \"defaults\"");
    }
    agent.max_turns =
        static_cast<int>(own.max_turns.value_or(defaults_.max_turns.value_or(agent.max_turns)));
    agent.max_tokens =
        static_cast<int>(own.max_tokens.value_or(defaults_.max_tokens.value_or(agent.max_tokens)));
    agent.retries =
        static_cast<int>(own.retries.value_or(defaults_.retries.value_or(agent.retries)));
    agent.timeout_ms = own.timeout_ms.value_or(defaults_.timeout_ms.value_or(0));
    agent.temperature = own.temperature ? own.temperature : defaults_.temperature;
    agent.system = String(body, "system", path).value_or("");
    agent.prompt = String(body, "prompt", path, true).value_or("");
    if (auto it = body.find("output"); it != body.end())
      agent.output = Schema(*it, AppendPointer(path, "output"));
    if (auto it = body.find("update"); it != body.end())
      agent.update = Updates(*it, AppendPointer(path, "update"));
    if (auto it = body.find("tools"); it != body.end())
      agent.tools = Names(*it, AppendPointer(path, "tools"), "tool");
    agent.params = default_params_;
    if (auto it = body.find("params"); it != body.end()) {
      if (IsObject(*it, AppendPointer(path, "params"))) agent.params.update(ToJson(*it));
    }
    wf->agents[name] = std::move(agent);
  }

  void LoadAsk(const J& body, const std::string& path, AskSpec* ask) {
    if (!IsObject(body, path)) return;
    CheckKeys(body, path, {"prompt", "type", "options", "schema", "timeout_ms", "default"});
    ask->prompt = String(body, "prompt", path, true).value_or("");
    std::string type = String(body, "type", path).value_or("text");
    static const std::vector<std::string> kTypes = {"approval", "choice", "text", "json"};
    if (type == "approval") {
      ask->type = AskType::kApproval;
    } else if (type == "choice") {
      ask->type = AskType::kChoice;
    } else if (type == "text") {
      ask->type = AskType::kText;
    } else if (type == "json") {
      ask->type = AskType::kJson;
    } else {
      Error(AppendPointer(path, "type"), "unknown ask type \"" + type +
                                             "\" (expected approval, choice, text or json)" +
                                             DidYouMean(type, kTypes));
    }
    if (auto it = body.find("options"); it != body.end()) {
      ask->options = Names(*it, AppendPointer(path, "options"), "option");
    }
    if (ask->type == AskType::kChoice && ask->options.empty()) {
      Error(AppendPointer(path, "options"), "a choice needs a non-empty list of options");
    }
    if (ask->type != AskType::kChoice && body.contains("options")) {
      Error(AppendPointer(path, "options"), "only a \"choice\" ask has options");
    }
    if (auto it = body.find("schema"); it != body.end()) {
      if (ask->type != AskType::kJson) {
        Error(AppendPointer(path, "schema"), "only a \"json\" ask has a schema");
      } else {
        ask->schema = Schema(*it, AppendPointer(path, "schema"));
      }
    }
    ask->timeout_ms = Integer(body, "timeout_ms", path, 1, 30LL * 24 * 3600 * 1000).value_or(0);
    if (auto it = body.find("default"); it != body.end()) ask->default_value = ToJson(*it);
  }

  void LoadPhase(const std::string& name, const J& body, Workflow* wf) {
    std::string path = AppendPointer("/phases", name);
    CheckName(name, path, "phase");
    Phase phase;
    phase.name = name;
    if (!IsObject(body, path)) {
      wf->phases.push_back(std::move(phase));
      return;
    }
    CheckKeys(body, path,
              {"description", "run", "ask", "parallel", "each", "tool", "set", "terminal", "next",
               "update", "max_visits", "result"});
    static const char* kKinds[] = {"run", "ask", "parallel", "each", "tool", "set", "terminal"};
    std::vector<std::string> kinds;
    for (const char* k : kKinds) {
      if (body.contains(k)) kinds.push_back(k);
    }
    if (kinds.empty()) {
      Error(path, "a phase needs exactly one of run, ask, parallel, each, tool, set or terminal");
    } else if (kinds.size() > 1) {
      Error(path,
            "a phase has exactly one kind, but this one has " + kinds[0] + " and " + kinds[1]);
    }
    std::string kind = kinds.empty() ? "" : kinds[0];
    if (kind == "run") {
      phase.kind = PhaseKind::kRun;
      phase.agent = String(body, "run", path).value_or("");
    } else if (kind == "ask") {
      phase.kind = PhaseKind::kAsk;
      LoadAsk(body["ask"], AppendPointer(path, "ask"), &phase.ask);
    } else if (kind == "parallel") {
      phase.kind = PhaseKind::kParallel;
      phase.parallel = Names(body["parallel"], AppendPointer(path, "parallel"), "agent");
      if (phase.parallel.empty() && body["parallel"].is_array()) {
        Error(AppendPointer(path, "parallel"), "list at least one agent");
      }
    } else if (kind == "each") {
      phase.kind = PhaseKind::kEach;
      std::string p = AppendPointer(path, "each");
      const J& each = body["each"];
      if (IsObject(each, p)) {
        CheckKeys(each, p, {"items", "run", "concurrency"});
        if (auto it = each.find("items"); it != each.end()) {
          phase.each.items = ToJson(*it);
        } else {
          Error(AppendPointer(p, "items"),
                "required: an expression that yields the list to map over");
        }
        phase.each.agent = String(each, "run", p, true).value_or("");
        phase.each.concurrency =
            static_cast<int>(Integer(each, "concurrency", p, 1, 1000).value_or(4));
      }
    } else if (kind == "tool") {
      phase.kind = PhaseKind::kTool;
      std::string p = AppendPointer(path, "tool");
      const J& tool = body["tool"];
      if (IsObject(tool, p)) {
        CheckKeys(tool, p, {"name", "input"});
        phase.tool.name = String(tool, "name", p, true).value_or("");
        phase.tool.input = tool.contains("input") ? ToJson(tool["input"]) : Json::object();
      }
    } else if (kind == "set") {
      phase.kind = PhaseKind::kSet;
      phase.set = Updates(body["set"], AppendPointer(path, "set"));
    } else if (kind == "terminal") {
      phase.kind = PhaseKind::kTerminal;
      const J& t = body["terminal"];
      if (!t.is_boolean() || !t.get<bool>()) {
        Error(AppendPointer(path, "terminal"), "must be true (omit it for a non-terminal phase)");
      }
    }
    if (auto it = body.find("update"); it != body.end())
      phase.update = Updates(*it, AppendPointer(path, "update"));
    phase.max_visits =
        static_cast<int>(Integer(body, "max_visits", path, 1, 1000000000).value_or(wf->max_visits));
    if (auto it = body.find("next"); it != body.end()) {
      if (phase.kind == PhaseKind::kTerminal) {
        Error(AppendPointer(path, "next"), "a terminal phase has no next phase");
      } else if (!it->is_string() && !it->is_object()) {
        TypeError(AppendPointer(path, "next"), "a phase name or an expression", *it);
      } else {
        phase.next = ToJson(*it);
      }
    } else if (phase.kind != PhaseKind::kTerminal && !kinds.empty()) {
      Error(AppendPointer(path, "next"),
            "required: the phase to go to next (or mark this phase \"terminal\": true)");
    }
    if (auto it = body.find("result"); it != body.end()) {
      if (phase.kind != PhaseKind::kTerminal) {
        Error(AppendPointer(path, "result"), "only a terminal phase has a result");
      } else {
        phase.result = ToJson(*it);
      }
    }
    wf->phases.push_back(std::move(phase));
  }

 private:
  AgentSettings defaults_;
  Json default_params_ = Json::object();
};

}  // namespace

const char* AskTypeName(AskType type) {
  switch (type) {
    case AskType::kApproval:
      return "approval";
    case AskType::kChoice:
      return "choice";
    case AskType::kText:
      return "text";
    case AskType::kJson:
      return "json";
  }
  return "text";
}

const char* PhaseKindName(PhaseKind kind) {
  switch (kind) {
    case PhaseKind::kRun:
      return "run";
    case PhaseKind::kAsk:
      return "ask";
    case PhaseKind::kParallel:
      return "parallel";
    case PhaseKind::kEach:
      return "each";
    case PhaseKind::kTool:
      return "tool";
    case PhaseKind::kSet:
      return "set";
    case PhaseKind::kTerminal:
      return "terminal";
  }
  return "set";
}

const Phase* Workflow::FindPhase(const std::string& name) const {
  auto it = phase_index_.find(name);
  return it == phase_index_.end() || it->second >= phases.size() ? nullptr : &phases[it->second];
}

void Workflow::IndexPhases() {
  phase_index_.clear();
  for (size_t i = 0; i < phases.size(); ++i) phase_index_.emplace(phases[i].name, i);
}

const Agent* Workflow::FindAgent(const std::string& name) const {
  auto it = agents.find(name);
  return it == agents.end() ? nullptr : &it->second;
}

std::string Diagnostic::ToString() const {
  if (line > 0)
    return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message;
  if (path.empty()) return message;
  return path + ": " + message;
}

LoadedWorkflow LoadWorkflow(std::string_view text) {
  LoadedWorkflow out;
  if (text.size() > kMaxWorkflowBytes) {
    out.diagnostics.push_back({"", "the file is " + std::to_string(text.size()) +
                                       " bytes; workflow files are limited to " +
                                       std::to_string(kMaxWorkflowBytes) + " bytes"});
    return out;
  }
  std::optional<J> root = ParseWorkflowJson(text, &out.diagnostics);
  if (!root) return out;
  auto wf = std::make_shared<Workflow>();
  wf->source = std::string(text);
  Loader loader(&out.diagnostics);
  loader.LoadWorkflow(*root, wf.get());
  wf->IndexPhases();
  if (out.diagnostics.empty() ||
      std::none_of(out.diagnostics.begin(), out.diagnostics.end(),
                   [](const Diagnostic& d) { return d.path == "/scaffold"; })) {
    CheckWorkflow(*wf, &out.diagnostics);
  }
  if (out.diagnostics.empty()) out.workflow = std::move(wf);
  return out;
}

}  // namespace scaffold::engine
