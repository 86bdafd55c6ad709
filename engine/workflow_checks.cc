#include "engine/workflow_checks.h"

#include <algorithm>
#include <set>

#include "engine/json_logic.h"
#include "engine/suggest.h"
#include "engine/template.h"

namespace scaffold::engine {
namespace {

// Names a template or expression may start with at a given place, and what `output` is there.
struct Scope {
  std::set<std::string> roots;  // subset of input, state, session, output, item, index
  // The fields `output.X` may name; nullopt when anything goes (or nothing is known).
  std::optional<std::set<std::string>> output_fields;
  std::string output_note;  // why output has no fields, when output_fields is empty
};

std::vector<std::string> Keys(const Json& object) {
  std::vector<std::string> keys;
  if (object.is_object()) {
    for (const auto& [k, v] : object.items()) keys.push_back(k);
  }
  return keys;
}

// The property names an object schema declares, or nullopt when it declares none.
std::optional<std::set<std::string>> SchemaFields(const std::optional<JsonSchema>& schema) {
  if (!schema) return std::nullopt;
  const Json& s = schema->source();
  if (!s.is_object()) return std::nullopt;
  auto props = s.find("properties");
  if (props == s.end() || !props->is_object()) return std::nullopt;
  std::set<std::string> out;
  for (const auto& [k, v] : props->items()) out.insert(k);
  return out;
}

std::vector<std::string> Split(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    parts.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

class Checker {
 public:
  Checker(const Workflow& wf, std::vector<Diagnostic>* diags) : wf_(wf), diags_(diags) {
    for (const auto& p : wf.phases) phase_names_.push_back(p.name);
    for (const auto& [name, a] : wf.agents) agent_names_.push_back(name);
    for (const auto& [name, t] : wf.tools) tool_names_.push_back(name);
    input_fields_ = SchemaFields(wf.input_schema);
  }

  void Run() {
    CheckEntry();
    std::set<std::string> each_agents;
    for (const auto& p : wf_.phases) {
      if (p.kind == PhaseKind::kEach) each_agents.insert(p.each.agent);
    }
    Scope start_scope = BaseScope();
    CheckUpdates(wf_.start, "/start", start_scope);
    for (const auto& [name, agent] : wf_.agents) CheckAgent(agent, each_agents.count(name) > 0);
    for (const auto& phase : wf_.phases) CheckPhase(phase);
    CheckGraph();
    CheckUnusedAgents();
  }

 private:
  void Error(const std::string& path, std::string message) {
    diags_->push_back({path, std::move(message)});
  }

  const Scope& BaseScope() const { return base_scope_; }

  Scope WithOutput(Scope scope, std::optional<std::set<std::string>> fields,
                   std::string note = "") const {
    scope.roots.insert("output");
    scope.output_fields = std::move(fields);
    scope.output_note = std::move(note);
    return scope;
  }

  // What `output` is after an agent: its schema's fields, or text.
  Scope AgentOutputScope(const Agent& agent, Scope scope) const {
    if (!agent.output) {
      return WithOutput(
          std::move(scope), std::set<std::string>{},
          "agent \"" + agent.name + "\" has no \"output\" schema, so its output is text");
    }
    return WithOutput(std::move(scope), SchemaFields(agent.output));
  }

  void CheckEntry() {
    if (wf_.entry.empty() || wf_.phases.empty()) return;
    if (!wf_.FindPhase(wf_.entry)) {
      Error("/entry", "unknown phase \"" + wf_.entry + "\"" + DidYouMean(wf_.entry, phase_names_));
    }
  }

  bool CheckAgentRef(const std::string& name, const std::string& path) {
    if (name.empty()) return false;
    if (wf_.FindAgent(name)) return true;
    Error(path, "unknown agent \"" + name + "\"" + DidYouMean(name, agent_names_));
    return false;
  }

  void CheckToolRef(const std::string& name, const std::string& path) {
    if (name.empty() || wf_.tools.count(name)) return;
    std::string hint = DidYouMean(name, tool_names_);
    if (hint.empty() && wf_.tools.empty()) hint = " (declare it in the workflow's \"tools\" map)";
    Error(path, "unknown tool \"" + name + "\"" + hint);
  }

  // A dotted name used by a template or expression, e.g. "state.ticket".
  void CheckName(const std::string& name, const std::string& path, const Scope& scope,
                 bool in_section, const char* what) {
    if (name.empty() || name == ".") return;
    auto parts = Split(name);
    const std::string& root = parts[0];
    static const std::set<std::string> kRoots = {"input",  "state", "session",
                                                 "output", "item",  "index"};
    if (!kRoots.count(root)) {
      if (in_section) return;  // may name a field of the section's value
      std::vector<std::string> allowed(scope.roots.begin(), scope.roots.end());
      Error(path, std::string(what) + " \"" + name + "\" names nothing: names start with one of " +
                      Join(allowed) + DidYouMean(root, allowed));
      return;
    }
    if (!scope.roots.count(root)) {
      std::string why =
          root == "output" ? " (output is the result of this phase, known only after it runs)"
          : (root == "item" || root == "index") ? " (only inside an \"each\" phase's agent)"
                                                : "";
      Error(path, std::string(what) + " \"" + name + "\" uses \"" + root +
                      "\", which is not available here" + why);
      return;
    }
    if (parts.size() < 2) return;
    const std::string& field = parts[1];
    if (root == "state") {
      if (wf_.initial_state.is_object() && !wf_.initial_state.contains(field)) {
        Error(path, std::string(what) + " \"" + name + "\" names no key of the initial state" +
                        DidYouMean(field, Keys(wf_.initial_state)));
      }
    } else if (root == "input") {
      if (input_fields_ && !input_fields_->count(field)) {
        std::vector<std::string> fields(input_fields_->begin(), input_fields_->end());
        Error(path, std::string(what) + " \"" + name + "\" names no property of the input schema" +
                        DidYouMean(field, fields));
      }
    } else if (root == "session") {
      if (field != "id" && field != "workflow") {
        Error(path, std::string(what) + " \"" + name +
                        "\": session has only \"id\" and \"workflow\"" +
                        DidYouMean(field, {"id", "workflow"}));
      }
    } else if (root == "output" && scope.output_fields) {
      if (scope.output_fields->empty()) {
        Error(path, std::string(what) + " \"" + name + "\" names a field of output, but " +
                        scope.output_note);
      } else if (!scope.output_fields->count(field)) {
        std::vector<std::string> fields(scope.output_fields->begin(), scope.output_fields->end());
        Error(path, std::string(what) + " \"" + name + "\" names no field of the output" +
                        DidYouMean(field, fields));
      }
    }
  }

  static std::string Join(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
    return out;
  }

  void CheckTemplate(const std::string& text, const std::string& path, const Scope& scope) {
    auto tags = ScanTemplate(text);
    if (!tags.ok()) {
      Error(path, "invalid template: " + tags.status().message());
      return;
    }
    for (const auto& tag : *tags) {
      using Kind = TemplateTag::Kind;
      if (tag.kind == Kind::kComment || tag.kind == Kind::kDelimiter || tag.kind == Kind::kClose)
        continue;
      if (tag.kind == Kind::kPartial) {
        Error(path, "partials ({{>" + tag.name + "}}) are not available in workflow templates");
        continue;
      }
      CheckName(tag.name, path, scope, !tag.sections.empty(), ("{{" + tag.name + "}}").c_str());
    }
  }

  // Templates in the string leaves of a tool input.
  void CheckTemplates(const Json& value, const std::string& path, const Scope& scope) {
    if (value.is_string()) {
      CheckTemplate(value.get<std::string>(), path, scope);
    } else if (value.is_object()) {
      for (const auto& [k, v] : value.items()) CheckTemplates(v, AppendPointer(path, k), scope);
    } else if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i)
        CheckTemplates(value[i], AppendPointer(path, i), scope);
    }
  }

  void CheckExpression(const Json& expr, const std::string& path, const Scope& scope) {
    std::vector<LogicIssue> issues;
    CheckLogic(expr, path, &issues);
    for (auto& issue : issues) Error(issue.path, issue.message);
    std::vector<LogicVar> vars;
    CollectLogicVars(expr, path, &vars);
    for (const auto& v : vars) CheckName(v.name, v.path, scope, false, "variable");
  }

  // Resolves an update pointer against the initial state.
  void CheckPointer(const std::string& pointer, const std::string& path) {
    const Json* cur = &wf_.initial_state;
    std::string walked;
    size_t pos = 1;
    while (true) {
      size_t slash = pointer.find('/', pos);
      std::string raw =
          pointer.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
      std::string token;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '~') {
          token += raw[i];
        } else if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
          token += raw[++i] == '0' ? '~' : '/';
        } else {
          Error(path, "invalid JSON pointer \"" + pointer + "\": \"~\" must be followed by 0 or 1");
          return;
        }
      }
      bool last = slash == std::string::npos;
      if (cur->is_object()) {
        auto it = cur->find(token);
        if (it == cur->end()) {
          Error(path, "\"" + walked + "/" + raw + "\" is not in the initial state" +
                          DidYouMean(token, Keys(*cur)) +
                          "; updates may only change keys that \"state\" declares");
          return;
        }
        cur = &*it;
      } else if (cur->is_array()) {
        if (token == "-") {
          if (!last)
            Error(path, "\"-\" (append) must be the last part of the pointer \"" + pointer + "\"");
          return;
        }
        bool digits = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || std::stoull(token.substr(0, 18)) >= cur->size()) {
          Error(path, "\"" + walked + "/" + raw + "\": index " + token +
                          " is not in the initial state's array" + " (use \"/-\" to append)");
          return;
        }
        cur = &(*cur)[std::stoull(token)];
      } else {
        Error(path, "\"" + walked + "\" is a " + JsonTypeName(*cur) +
                        " in the initial state, so \"" + pointer + "\" cannot point inside it");
        return;
      }
      walked += "/" + raw;
      if (last) return;
      pos = slash + 1;
    }
  }

  void CheckUpdates(const std::vector<Update>& updates, const std::string& path,
                    const Scope& scope) {
    for (const auto& u : updates) {
      std::string p = AppendPointer(path, u.pointer);
      CheckPointer(u.pointer, p);
      CheckExpression(u.expression, p, scope);
    }
  }

  void CheckAgent(const Agent& agent, bool used_by_each) {
    std::string path = AppendPointer("/agents", agent.name);
    if (agent.provider != "anthropic" && agent.provider != "openai" &&
        !wf_.providers.count(agent.provider)) {
      std::vector<std::string> names = {"anthropic", "openai"};
      for (const auto& [n, c] : wf_.providers) names.push_back(n);
      Error(AppendPointer(path, "provider"),
            "unknown provider \"" + agent.provider +
                "\" (use anthropic, openai or a key of \"providers\")" +
                DidYouMean(agent.provider, names));
    }
    Scope scope = BaseScope();
    if (used_by_each) scope.roots.insert({"item", "index"});
    CheckTemplate(agent.prompt, AppendPointer(path, "prompt"), scope);
    CheckTemplate(agent.system, AppendPointer(path, "system"), scope);
    CheckUpdates(agent.update, AppendPointer(path, "update"), AgentOutputScope(agent, scope));
    for (size_t i = 0; i < agent.tools.size(); ++i) {
      CheckToolRef(agent.tools[i], AppendPointer(AppendPointer(path, "tools"), i));
    }
  }

  void CheckAsk(const AskSpec& ask, const std::string& path) {
    CheckTemplate(ask.prompt, AppendPointer(path, "prompt"), BaseScope());
    if (!ask.default_value) return;
    const Json& d = *ask.default_value;
    std::string p = AppendPointer(path, "default");
    switch (ask.type) {
      case AskType::kApproval:
        if (!d.is_boolean())
          Error(p, std::string("an approval's default is true or false, got ") + JsonTypeName(d));
        break;
      case AskType::kChoice:
        if (!d.is_string() || std::find(ask.options.begin(), ask.options.end(),
                                        d.get<std::string>()) == ask.options.end()) {
          Error(p, "the default must be one of the options, got " + d.dump());
        }
        break;
      case AskType::kText:
        if (!d.is_string())
          Error(p, std::string("a text ask's default is a string, got ") + JsonTypeName(d));
        break;
      case AskType::kJson:
        if (ask.schema) {
          auto violations = ask.schema->Validate(d);
          if (!violations.empty())
            Error(p, "the default does not match the schema: " + DescribeViolations(violations));
        }
        break;
    }
  }

  Scope PhaseOutputScope(const Phase& phase) const {
    Scope base = BaseScope();
    switch (phase.kind) {
      case PhaseKind::kRun:
        if (const Agent* a = wf_.FindAgent(phase.agent)) return AgentOutputScope(*a, base);
        return WithOutput(base, std::nullopt);
      case PhaseKind::kAsk:
        switch (phase.ask.type) {
          case AskType::kApproval:
            return WithOutput(base, std::set<std::string>{"approved", "value"});
          case AskType::kJson:
            return WithOutput(base, SchemaFields(phase.ask.schema));
          default:
            return WithOutput(
                base, std::set<std::string>{},
                std::string("a ") + AskTypeName(phase.ask.type) + " ask's output is a string");
        }
      case PhaseKind::kParallel:
        return WithOutput(base,
                          std::set<std::string>(phase.parallel.begin(), phase.parallel.end()));
      case PhaseKind::kEach:
      case PhaseKind::kTool:
        return WithOutput(base, std::nullopt);
      case PhaseKind::kSet:
      case PhaseKind::kTerminal:
        return base;
    }
    return base;
  }

  void CheckPhase(const Phase& phase) {
    std::string path = AppendPointer("/phases", phase.name);
    switch (phase.kind) {
      case PhaseKind::kRun:
        CheckAgentRef(phase.agent, AppendPointer(path, "run"));
        break;
      case PhaseKind::kAsk:
        CheckAsk(phase.ask, AppendPointer(path, "ask"));
        break;
      case PhaseKind::kParallel: {
        std::set<std::string> seen;
        for (size_t i = 0; i < phase.parallel.size(); ++i) {
          std::string p = AppendPointer(AppendPointer(path, "parallel"), i);
          if (!seen.insert(phase.parallel[i]).second) {
            Error(p, "agent \"" + phase.parallel[i] +
                         "\" is listed twice; output is keyed by agent name");
          }
          CheckAgentRef(phase.parallel[i], p);
        }
        break;
      }
      case PhaseKind::kEach:
        CheckAgentRef(phase.each.agent, AppendPointer(AppendPointer(path, "each"), "run"));
        CheckExpression(phase.each.items, AppendPointer(AppendPointer(path, "each"), "items"),
                        BaseScope());
        break;
      case PhaseKind::kTool:
        CheckToolRef(phase.tool.name, AppendPointer(AppendPointer(path, "tool"), "name"));
        if (auto it = wf_.tools.find(phase.tool.name);
            it != wf_.tools.end() && it->second.type == "mcp") {
          Error(AppendPointer(AppendPointer(path, "tool"), "name"),
                "tool \"" + phase.tool.name +
                    "\" is an MCP server: its tools are for agents (list it in an agent's "
                    "\"tools\"); tool phases cannot call them yet");
        }
        CheckTemplates(phase.tool.input, AppendPointer(AppendPointer(path, "tool"), "input"),
                       BaseScope());
        break;
      case PhaseKind::kSet:
        CheckUpdates(phase.set, AppendPointer(path, "set"), BaseScope());
        break;
      case PhaseKind::kTerminal:
        if (phase.result)
          CheckExpression(*phase.result, AppendPointer(path, "result"), BaseScope());
        break;
    }
    // What follows the phase sees its output; the scope is built only when something reads it
    // (most phases have no `update`, and name the next phase).
    bool next_computed = phase.next && !phase.next->is_string();
    std::optional<Scope> after;
    if (!phase.update.empty() || next_computed) after = PhaseOutputScope(phase);
    if (!phase.update.empty()) CheckUpdates(phase.update, AppendPointer(path, "update"), *after);
    if (phase.next) {
      std::string p = AppendPointer(path, "next");
      if (!next_computed) {
        CheckPhaseRef(phase.next->get<std::string>(), p);
      } else {
        CheckExpression(*phase.next, p, *after);
        std::vector<std::string> targets;
        CollectLogicResults(*phase.next, &targets);
        for (const auto& t : targets) CheckPhaseRef(t, p);
      }
    }
  }

  void CheckPhaseRef(const std::string& name, const std::string& path) {
    if (wf_.FindPhase(name)) return;
    Error(path, "unknown phase \"" + name + "\"" + DidYouMean(name, phase_names_));
  }

  // The index in wf_.phases of the phase called `name`, or -1.
  int PhaseIndex(const std::string& name) const {
    const Phase* p = wf_.FindPhase(name);
    return p ? static_cast<int>(p - wf_.phases.data()) : -1;
  }

  // Phases `phase` may go to next, by index. Sets *dynamic when the target is computed, or when
  // `next` is already reported as broken, so one mistake does not also show up as unreachable
  // phases.
  std::vector<int> Targets(const Phase& phase, bool* dynamic) const {
    *dynamic = false;
    if (!phase.next) {
      *dynamic = phase.kind != PhaseKind::kTerminal;
      return {};
    }
    std::vector<std::string> names;
    if (phase.next->is_string()) {
      names.push_back(phase.next->get<std::string>());
    } else {
      *dynamic = !CollectLogicResults(*phase.next, &names);
    }
    std::vector<int> out;
    for (const auto& n : names) {
      int i = PhaseIndex(n);
      if (i < 0) {
        *dynamic = true;
      } else {
        out.push_back(i);
      }
    }
    return out;
  }

  // Each phase reachable from the entry, and able to reach a terminal phase. Phases are numbered
  // by their place in the file, so the walks touch no name after the edges are found.
  void CheckGraph() {
    int entry = PhaseIndex(wf_.entry);
    if (wf_.phases.empty() || entry < 0) return;
    bool any_terminal = std::any_of(wf_.phases.begin(), wf_.phases.end(),
                                    [](const Phase& p) { return p.kind == PhaseKind::kTerminal; });
    if (!any_terminal) {
      Error("/phases",
            "no terminal phase: a workflow needs a phase with \"terminal\": true to finish");
    }
    size_t n = wf_.phases.size();
    std::vector<std::vector<int>> edges(n);
    std::vector<char> dynamic(n, 0);
    for (size_t i = 0; i < n; ++i) {
      bool dyn;
      edges[i] = Targets(wf_.phases[i], &dyn);
      dynamic[i] = dyn;
    }
    // Forward from the entry; a computed `next` may lead anywhere.
    std::vector<char> reachable(n, 0);
    std::vector<int> pending = {entry};  // found, edges not yet followed (in any order)
    reachable[entry] = 1;
    bool everywhere = false;
    while (!pending.empty() && !everywhere) {
      int cur = pending.back();
      pending.pop_back();
      if (dynamic[cur]) everywhere = true;
      for (int to : edges[cur]) {
        if (!reachable[to]) {
          reachable[to] = 1;
          pending.push_back(to);
        }
      }
    }
    if (everywhere) reachable.assign(n, 1);
    // Backward from the terminal phases: a phase finishes when one of its targets does. Each edge
    // is walked once (a fixpoint over the phase list is quadratic on long chains).
    std::vector<std::vector<int>> sources(n);
    for (size_t from = 0; from < n; ++from) {
      for (int to : edges[from]) sources[to].push_back(static_cast<int>(from));
    }
    std::vector<char> finishes(n, 0);
    std::vector<int> back;
    for (size_t i = 0; i < n; ++i) {
      if (wf_.phases[i].kind == PhaseKind::kTerminal || (dynamic[i] && any_terminal)) {
        finishes[i] = 1;
        back.push_back(static_cast<int>(i));
      }
    }
    while (!back.empty()) {
      int cur = back.back();
      back.pop_back();
      for (int from : sources[cur]) {
        if (!finishes[from]) {
          finishes[from] = 1;
          back.push_back(from);
        }
      }
    }

    for (size_t i = 0; i < n; ++i) {
      const Phase& p = wf_.phases[i];
      if (!reachable[i]) {
        Error(AppendPointer("/phases", p.name),
              "unreachable: no path from the entry phase \"" + wf_.entry + "\" leads here");
      } else if (any_terminal && !finishes[i]) {
        Error(AppendPointer("/phases", p.name),
              "no way out: no path from this phase leads to a terminal phase");
      }
    }
  }

  void CheckUnusedAgents() {
    std::set<std::string> used;
    for (const auto& p : wf_.phases) {
      if (p.kind == PhaseKind::kRun) used.insert(p.agent);
      if (p.kind == PhaseKind::kEach) used.insert(p.each.agent);
      for (const auto& a : p.parallel) used.insert(a);
    }
    for (const auto& [name, agent] : wf_.agents) {
      if (!used.count(name))
        Error(AppendPointer("/agents", name), "agent is never used by any phase");
    }
  }

  const Workflow& wf_;
  std::vector<Diagnostic>* diags_;
  std::vector<std::string> phase_names_, agent_names_, tool_names_;
  std::optional<std::set<std::string>> input_fields_;
  const Scope base_scope_{{"input", "state", "session"}, std::nullopt, ""};
};

}  // namespace

void CheckWorkflow(const Workflow& workflow, std::vector<Diagnostic>* diagnostics) {
  Checker(workflow, diagnostics).Run();
}

}  // namespace scaffold::engine
