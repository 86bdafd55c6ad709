// Reading a workflow's "tools" map (DESIGN §7): each entry by its type, every problem at its
// JSON pointer.

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>

#include "engine/suggest.h"
#include "engine/template.h"
#include "engine/workflow_reader.h"

namespace scaffold::engine {
namespace {

using J = OrderedJson;

class ToolsLoader : public WorkflowReader {
 public:
  using WorkflowReader::WorkflowReader;

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
    TemplateMap(body, path, "env", "an environment variable's name cannot be empty or contain '='",
                [](const std::string& k) {
                  return !k.empty() && k.find('=') == std::string::npos &&
                         k.find('\0') == std::string::npos;
                },
                &tool->env);
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

  // An object of template strings (`key` of `body`) whose names pass `valid_name`.
  void TemplateMap(const J& body, const std::string& path, const char* key,
                   const char* bad_name, const std::function<bool(const std::string&)>& valid_name,
                   std::map<std::string, std::string>* out) {
    auto it = body.find(key);
    if (it == body.end() || !IsObject(*it, AppendPointer(path, key))) return;
    for (const auto& [name, value] : it->items()) {
      std::string p = AppendPointer(AppendPointer(path, key), name);
      if (!valid_name(name)) {
        Error(p, bad_name);
      } else if (!value.is_string()) {
        TypeError(p, "a string", value);
      } else {
        Template(value.get<std::string>(), p);
        (*out)[name] = value.get<std::string>();
      }
    }
  }

  // url (required, http or https) and headers, templates.
  void LoadUrl(const J& body, const std::string& path, ToolDecl* tool) {
    if (auto url = String(body, "url", path, true)) {
      tool->url = *url;
      Template(*url, AppendPointer(path, "url"));
      if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0)
        Error(AppendPointer(path, "url"), "must start with http:// or https://");
    }
    TemplateMap(body, path, "headers", "not a header name (letters, digits and !#$%&'*+-.^_`|~)",
                [](const std::string& k) {
                  static const std::string kTokenPunctuation = "!#$%&'*+-.^_`|~";
                  return !k.empty() && std::all_of(k.begin(), k.end(), [](unsigned char c) {
                    return std::isalnum(c) || kTokenPunctuation.find(static_cast<char>(c)) !=
                                                  std::string::npos;
                  });
                },
                &tool->headers);
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

};

}  // namespace

void LoadToolDecls(WorkflowReader& in, const J& value, Workflow* wf) {
  ToolsLoader(in.diagnostics()).LoadTools(value, wf);
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

}  // namespace scaffold::engine
