// Reading a workflow file into the model: JSON syntax, duplicate keys, unknown keys, types and
// required fields. Cross-references and reachability are checked in workflow_checks.cc.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "engine/suggest.h"
#include "engine/template.h"
#include "engine/workflow.h"
#include "engine/workflow_checks.h"

namespace scaffold::engine {
namespace {

using J = OrderedJson;

class Loader {
 public:
  explicit Loader(std::vector<Diagnostic>* diags) : diags_(diags) {}

  void Error(const std::string& path, std::string message) {
    diags_->push_back({path, std::move(message)});
  }

  void TypeError(const std::string& path, const char* expected, const J& got) {
    Error(path, std::string("expected ") + expected + ", got " + JsonTypeName(got));
  }

  // Reports keys of `obj` not in `allowed`, with a suggestion.
  void CheckKeys(const J& obj, const std::string& path, const std::vector<std::string>& allowed) {
    for (const auto& [key, value] : obj.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      Error(AppendPointer(path, key), "unknown key \"" + key + "\"" + DidYouMean(key, allowed));
    }
  }

  bool IsObject(const J& v, const std::string& path) {
    if (v.is_object()) return true;
    TypeError(path, "an object", v);
    return false;
  }

  std::optional<std::string> String(const J& obj, const std::string& key, const std::string& path,
                                    bool required = false) {
    auto it = obj.find(key);
    std::string p = AppendPointer(path, key);
    if (it == obj.end()) {
      if (required) Error(p, "required");
      return std::nullopt;
    }
    if (!it->is_string()) {
      TypeError(p, "a string", *it);
      return std::nullopt;
    }
    return it->get<std::string>();
  }

  // An integer in [min, max]; decimals and out-of-range values are errors.
  std::optional<int64_t> Integer(const J& obj, const std::string& key, const std::string& path,
                                 int64_t min, int64_t max) {
    auto it = obj.find(key);
    if (it == obj.end()) return std::nullopt;
    std::string p = AppendPointer(path, key);
    if (!it->is_number()) {
      TypeError(p, "an integer", *it);
      return std::nullopt;
    }
    double d = it->get<double>();
    if (std::floor(d) != d) {
      Error(p, "expected an integer, got " + it->dump());
      return std::nullopt;
    }
    if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
      Error(p, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                   it->dump());
      return std::nullopt;
    }
    return static_cast<int64_t>(d);
  }

  std::optional<JsonSchema> Schema(const J& value, const std::string& path) {
    auto compiled = JsonSchema::Compile(ToJson(value));
    if (!compiled.ok()) {
      Error(path + compiled.status().path(), "invalid schema: " + compiled.status().message());
      return std::nullopt;
    }
    return std::move(compiled).value();
  }

  std::vector<Update> Updates(const J& value, const std::string& path) {
    std::vector<Update> out;
    if (!IsObject(value, path)) return out;
    for (const auto& [pointer, expr] : value.items()) {
      std::string p = AppendPointer(path, pointer);
      if (pointer.empty() || pointer[0] != '/') {
        Error(p, "update keys are JSON pointers into the state and start with \"/\", got \"" +
                     pointer + "\" (did you mean \"/" + pointer + "\"?)");
        continue;
      }
      out.push_back({pointer, ToJson(expr)});
    }
    return out;
  }

  std::vector<std::string> Names(const J& value, const std::string& path, const char* what) {
    std::vector<std::string> out;
    if (!value.is_array()) {
      TypeError(path, (std::string("an array of ") + what + " names").c_str(), value);
      return out;
    }
    for (size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string()) {
        TypeError(AppendPointer(path, i), "a name", value[i]);
        continue;
      }
      out.push_back(value[i].get<std::string>());
    }
    return out;
  }

  void CheckName(const std::string& name, const std::string& path, const char* what) {
    if (name.empty()) {
      Error(path, std::string(what) + " names cannot be empty");
      return;
    }
    for (unsigned char c : name) {
      if (c < 0x20 || c == ' ' || c == '#' || c == '=' || c == 0x7f) {
        Error(path, std::string(what) + " name \"" + name +
                        "\" may not contain spaces, control characters, '#' or '='");
        return;
      }
    }
  }

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

  void LoadTools(const J& value, Workflow* wf) {
    if (!IsObject(value, "/tools")) return;
    for (const auto& [name, body] : value.items()) {
      std::string path = AppendPointer("/tools", name);
      CheckName(name, path, "tool");
      if (!IsObject(body, path)) continue;
      ToolDecl tool;
      tool.name = name;
      tool.type = String(body, "type", path, true).value_or("");
      std::vector<std::string> keys = {"type", "description", "input_schema", "timeout_ms"};
      if (tool.type == "command") keys.insert(keys.end(), {"argv", "max_output_bytes"});
      if (tool.type == "files") keys.insert(keys.end(), {"max_bytes", "read_only"});
      if (tool.type == "mcp") {
        // The server describes its tools: no input_schema here.
        keys = {"type",  "description", "timeout_ms",      "command",    "env",
                "allow", "url",         "headers",         "allow_hosts", "max_output_bytes"};
      }
      if (tool.type == "http") {
        keys.insert(keys.end(),
                    {"method", "url", "headers", "body", "allow_hosts", "max_response_bytes"});
      }
      CheckKeys(body, path, keys);
      static const std::vector<std::string> kTypes = {"client", "command", "files", "http",
                                                      "mcp"};
      if (!tool.type.empty() &&
          std::find(kTypes.begin(), kTypes.end(), tool.type) == kTypes.end()) {
        Error(AppendPointer(path, "type"), "unknown tool type \"" + tool.type +
                                               "\" (expected client, command, files, http or mcp)" +
                                               DidYouMean(tool.type, kTypes));
      }
      tool.description = String(body, "description", path).value_or("");
      if (auto it = body.find("input_schema"); it != body.end()) {
        if (Schema(*it, AppendPointer(path, "input_schema"))) tool.input_schema = ToJson(*it);
      }
      tool.timeout_ms =
          Integer(body, "timeout_ms", path, 1, 24LL * 3600 * 1000).value_or(tool.timeout_ms);
      if (tool.type == "command") LoadCommandTool(body, path, &tool);
      if (tool.type == "files") {
        tool.max_bytes = Integer(body, "max_bytes", path, 1, 1LL << 30).value_or(tool.max_bytes);
        if (auto it = body.find("read_only"); it != body.end()) {
          if (it->is_boolean()) {
            tool.read_only = it->get<bool>();
          } else {
            TypeError(AppendPointer(path, "read_only"), "true or false", *it);
          }
        }
        if (!body.contains("input_schema")) tool.input_schema = FilesToolSchema();
      }
      if (tool.type == "http") LoadHttpTool(body, path, &tool);
      if (tool.type == "mcp") LoadMcpTool(body, path, &tool);
      wf->tools[name] = tool;
    }
  }

  // A template string: its syntax is checked here, its names when it is rendered.
  void Template(const std::string& text, const std::string& path) {
    auto tags = ScanTemplate(text);
    if (!tags.ok()) Error(path, tags.status().message());
  }

  // An array of templates naming a program and its arguments (`key` of `body`).
  void LoadArgv(const J& body, const std::string& path, const char* key, const char* example,
                ToolDecl* tool) {
    std::string p = AppendPointer(path, key);
    auto it = body.find(key);
    if (it == body.end()) {
      Error(p, std::string("required: the program and its arguments, e.g. ") + example);
    } else if (!it->is_array() || it->empty()) {
      TypeError(p, "a non-empty array of strings", *it);
    } else {
      for (size_t i = 0; i < it->size(); ++i) {
        const J& arg = (*it)[i];
        if (!arg.is_string()) {
          TypeError(AppendPointer(p, i), "a string", arg);
          continue;
        }
        Template(arg.get<std::string>(), AppendPointer(p, i));
        tool->argv.push_back(arg.get<std::string>());
      }
    }
  }

  void LoadCommandTool(const J& body, const std::string& path, ToolDecl* tool) {
    LoadArgv(body, path, "argv", "[\"ls\", \"-l\", \"{{input.dir}}\"]", tool);
    tool->max_output_bytes =
        Integer(body, "max_output_bytes", path, 1, 1LL << 30).value_or(tool->max_output_bytes);
  }

  // An MCP server's tools (net/tools/mcp_tools.h): a program speaking MCP on stdio.
  void LoadMcpTool(const J& body, const std::string& path, ToolDecl* tool) {
    if (body.contains("url") && body.contains("command")) {
      Error(path, "an MCP server is a program (\"command\") or a URL (\"url\"), not both");
      return;
    }
    if (body.contains("url")) {
      if (body.contains("env"))
        Error(AppendPointer(path, "env"), "applies to a server started with \"command\"");
      LoadUrl(body, path, tool);
      LoadAllowHosts(body, path, tool);
    } else {
      if (body.contains("headers") || body.contains("allow_hosts"))
        Error(AppendPointer(path, body.contains("headers") ? "headers" : "allow_hosts"),
              "applies to a server at a \"url\"");
      LoadArgv(body, path, "command",
               "[\"mcp-server-filesystem\", \"{{session.workspace}}\"]", tool);
    }
    if (auto it = body.find("env");
        it != body.end() && IsObject(*it, AppendPointer(path, "env"))) {
      for (const auto& [key, value] : it->items()) {
        std::string p = AppendPointer(AppendPointer(path, "env"), key);
        if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos) {
          Error(p, "an environment variable's name cannot be empty or contain '='");
          continue;
        }
        if (!value.is_string()) {
          TypeError(p, "a string", value);
          continue;
        }
        Template(value.get<std::string>(), p);
        tool->env[key] = value.get<std::string>();
      }
    }
    if (auto it = body.find("allow"); it != body.end()) {
      std::string p = AppendPointer(path, "allow");
      if (!it->is_array()) {
        TypeError(p, "an array of the server's tool names", *it);
      } else {
        for (size_t i = 0; i < it->size(); ++i) {
          const J& name = (*it)[i];
          if (!name.is_string() || name.get<std::string>().empty()) {
            TypeError(AppendPointer(p, i), "a tool name", name);
            continue;
          }
          tool->allow.push_back(name.get<std::string>());
        }
      }
    }
    tool->max_output_bytes =
        Integer(body, "max_output_bytes", path, 1, 1LL << 30).value_or(tool->max_output_bytes);
  }

  void LoadHttpTool(const J& body, const std::string& path, ToolDecl* tool) {
    if (auto method = String(body, "method", path)) {
      static const std::vector<std::string> kMethods = {"GET",   "POST",   "PUT",
                                                        "PATCH", "DELETE", "HEAD"};
      if (std::find(kMethods.begin(), kMethods.end(), *method) == kMethods.end()) {
        Error(
            AppendPointer(path, "method"),
            "unknown method \"" + *method + "\" (expected GET, POST, PUT, PATCH, DELETE or HEAD)");
      } else {
        tool->method = *method;
      }
    }
    LoadUrl(body, path, tool);
    if (auto it = body.find("body"); it != body.end()) tool->body = ToJson(*it);
    LoadAllowHosts(body, path, tool);
    tool->max_response_bytes =
        Integer(body, "max_response_bytes", path, 1, 1LL << 30).value_or(tool->max_response_bytes);
  }

  // url (required, http or https) and headers, templates.
  void LoadUrl(const J& body, const std::string& path, ToolDecl* tool) {
    if (auto url = String(body, "url", path, true)) {
      tool->url = *url;
      Template(*url, AppendPointer(path, "url"));
      if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0)
        Error(AppendPointer(path, "url"), "must start with http:// or https://");
    }
    if (auto it = body.find("headers");
        it != body.end() && IsObject(*it, AppendPointer(path, "headers"))) {
      for (const auto& [key, value] : it->items()) {
        std::string p = AppendPointer(AppendPointer(path, "headers"), key);
        static const std::string kTokenPunctuation = "!#$%&'*+-.^_`|~";
        if (key.empty() || std::any_of(key.begin(), key.end(), [](unsigned char c) {
              return !std::isalnum(c) && kTokenPunctuation.find(static_cast<char>(c)) == std::string::npos;
            })) {
          Error(p, "not a header name (letters, digits and !#$%&'*+-.^_`|~)");
          continue;
        }
        if (!value.is_string()) {
          TypeError(p, "a string", value);
          continue;
        }
        Template(value.get<std::string>(), p);
        tool->headers[key] = value.get<std::string>();
      }
    }
  }

  // allow_hosts (required), and the URL's host among them when the URL spells it out.
  void LoadAllowHosts(const J& body, const std::string& path, ToolDecl* tool) {
    std::string hosts = AppendPointer(path, "allow_hosts");
    auto it = body.find("allow_hosts");
    if (it == body.end()) {
      Error(hosts, "required: the hosts this tool may call, e.g. [\"api.example.com\"]");
    } else if (!it->is_array() || it->empty()) {
      TypeError(hosts, "a non-empty array of host names", *it);
    } else {
      for (size_t i = 0; i < it->size(); ++i) {
        const J& h = (*it)[i];
        if (!h.is_string() || h.get<std::string>().empty() ||
            h.get<std::string>().find_first_of("/:@ ") != std::string::npos) {
          Error(AppendPointer(hosts, i),
                "expected a host name such as \"api.example.com\" or "
                "\"*.example.com\" (no scheme, port or path)");
          continue;
        }
        tool->allow_hosts.push_back(h.get<std::string>());
      }
    }
    // A host written out in the URL (not a template) must be allow-listed.
    size_t start = tool->url.find("://");
    if (start != std::string::npos && !tool->allow_hosts.empty()) {
      start += 3;
      size_t end = tool->url.find_first_of("/?#", start);
      std::string authority = tool->url.substr(start, end == std::string::npos ? end : end - start);
      if (authority.find("{{") == std::string::npos) {
        std::string host = authority.substr(
            authority.rfind('@') == std::string::npos ? 0 : authority.rfind('@') + 1);
        if (!host.empty() && host[0] == '[') {
          host = host.substr(1, host.find(']') - 1);
        } else if (size_t colon = host.find(':'); colon != std::string::npos) {
          host = host.substr(0, colon);
        }
        if (!HostAllowed(host, tool->allow_hosts)) {
          Error(AppendPointer(path, "url"),
                "host \"" + host + "\" is not in this tool's allow_hosts");
        }
      }
    }
  }

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
  std::vector<Diagnostic>* diags_;
  AgentSettings defaults_;
  Json default_params_ = Json::object();
};

// Tracks the JSON pointer of the parser's position to report duplicate object keys, which
// nlohmann would otherwise resolve silently in favour of the last one, and nesting past
// kMaxJsonDepth (whose contents are dropped, so nothing later recurses into them).
class DuplicateKeyFinder {
 public:
  explicit DuplicateKeyFinder(std::vector<Diagnostic>* diags) : diags_(diags) {}

  bool too_deep() const { return too_deep_; }

  // `depth` counts the containers open around the event, dropped ones included. A dropped
  // container (past the limit) reports nothing from inside it and no end, so the frames are cut
  // back to `depth` at every event, and events deeper than the frames are ignored.
  bool operator()(int depth, J::parse_event_t event, J& parsed) {
    size_t d = static_cast<size_t>(std::max(depth, 0));
    switch (event) {
      case J::parse_event_t::object_start:
      case J::parse_event_t::array_start:
        if (d > frames_.size()) return false;  // inside a dropped container
        frames_.resize(d);
        if (d >= static_cast<size_t>(kMaxJsonDepth)) {
          if (!too_deep_) {
            too_deep_ = true;
            diags_->push_back({Pointer(), "nested deeper than " + std::to_string(kMaxJsonDepth) +
                                              " levels: workflow files may not nest deeper"});
          }
          return false;
        }
        frames_.push_back({event == J::parse_event_t::array_start, 0, {}, ""});
        break;
      case J::parse_event_t::key: {
        if (d == 0 || d > frames_.size()) break;
        frames_.resize(d);
        Frame& f = frames_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second) {
          diags_->push_back(
              {Pointer(), "duplicate key \"" + f.key + "\": only one may appear in an object"});
        }
        break;
      }
      case J::parse_event_t::object_end:
      case J::parse_event_t::array_end:
        if (d + 1 > frames_.size()) break;
        frames_.resize(d);
        ElementDone();
        break;
      case J::parse_event_t::value:
        if (d > frames_.size()) break;
        frames_.resize(d);
        ElementDone();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool array;
    size_t index;
    std::set<std::string> keys;
    std::string key;
  };

  void ElementDone() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }

  // At most kMaxJsonDepth frames: cheap.
  std::string Pointer() const {
    std::string p;
    for (const auto& f : frames_) p = f.array ? AppendPointer(p, f.index) : AppendPointer(p, f.key);
    return p;
  }

  std::vector<Diagnostic>* diags_;
  std::vector<Frame> frames_;
  bool too_deep_ = false;
};

// "[json.exception.parse_error.101] parse error at line 3, column 5: msg" -> line, column, msg.
Diagnostic SyntaxDiagnostic(const std::string& what) {
  Diagnostic d;
  std::string text = what;
  if (auto close = text.find("] "); close != std::string::npos && text[0] == '[')
    text = text.substr(close + 2);
  if (sscanf(text.c_str(), "parse error at line %d, column %d", &d.line, &d.column) == 2) {
    if (auto colon = text.find(": "); colon != std::string::npos) text = text.substr(colon + 2);
  }
  d.message = "invalid JSON: " + text;
  return d;
}

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

bool HostAllowed(const std::string& host, const std::vector<std::string>& patterns) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::string h = lower(host);
  if (h.empty()) return false;
  for (const auto& raw : patterns) {
    std::string p = lower(raw);
    if (p.rfind("*.", 0) == 0) {
      std::string suffix = p.substr(1);  // ".example.com"
      if (h.size() > suffix.size() &&
          h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0)
        return true;
    } else if (h == p) {
      return true;
    }
  }
  return false;
}

const Json& FilesToolSchema() {
  static const Json schema = Json::parse(R"({
    "type": "object",
    "properties": {
      "op": {"enum": ["read", "write", "list", "delete"]},
      "path": {"type": "string", "description": "relative to the session's workspace; \".\" is its root"},
      "content": {"type": "string", "description": "write: the file's new text"}
    },
    "required": ["op", "path"],
    "additionalProperties": false
  })");
  return schema;
}

const Phase* Workflow::FindPhase(const std::string& name) const {
  for (const auto& p : phases) {
    if (p.name == name) return &p;
  }
  return nullptr;
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
  J root;
  DuplicateKeyFinder finder(&out.diagnostics);
  try {
    root = J::parse(text, std::ref(finder));
  } catch (const std::exception& e) {  // a syntax error, or a number out of range (1e999)
    // Nesting past the limit comes before the syntax error in the text: it is the one told.
    std::vector<Diagnostic> deep;
    for (auto& d : out.diagnostics) {
      if (finder.too_deep() && d.message.find("nested deeper") != std::string::npos)
        deep.push_back(std::move(d));
    }
    out.diagnostics = std::move(deep);
    if (out.diagnostics.empty()) out.diagnostics.push_back(SyntaxDiagnostic(e.what()));
    return out;
  }
  if (finder.too_deep()) return out;  // its deepest parts are gone: the rest would mislead
  auto wf = std::make_shared<Workflow>();
  wf->source = std::string(text);
  Loader loader(&out.diagnostics);
  loader.LoadWorkflow(root, wf.get());
  if (out.diagnostics.empty() ||
      std::none_of(out.diagnostics.begin(), out.diagnostics.end(),
                   [](const Diagnostic& d) { return d.path == "/scaffold"; })) {
    CheckWorkflow(*wf, &out.diagnostics);
  }
  if (out.diagnostics.empty()) out.workflow = std::move(wf);
  return out;
}

}  // namespace scaffold::engine
