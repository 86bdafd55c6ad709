#include "net/tools/mcp_tools.h"

#include <unistd.h>

#include "engine/template.h"
#include "net/tools/builtin_tools.h"
#include "net/tools/child_process.h"

extern char** environ;

namespace scaffold::net {
namespace {

std::string StringField(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "1234 bytes": the size of a block's base64 `data`, decoded.
std::string DecodedSize(const Json& block) {
  std::string data = StringField(block, "data");
  size_t size = data.size() / 4 * 3;
  for (size_t i = data.size(); i > 0 && data[i - 1] == '=' && size > 0; --i) --size;
  return std::to_string(size) + " bytes";
}

std::string Describe(const Json& block) {
  std::string type = StringField(block, "type");
  if (type == "text") return StringField(block, "text");
  std::string mime = StringField(block, "mimeType");
  if (type == "image" || type == "audio") {
    return "[" + type + (mime.empty() ? "" : " " + mime) + ", " + DecodedSize(block) +
           ", not shown]";
  }
  if (type == "resource_link") {
    std::string name = StringField(block, "name");
    std::string description = StringField(block, "description");
    return "[resource link: " + (name.empty() ? "" : name + " ") + "<" +
           StringField(block, "uri") + ">" + (mime.empty() ? "" : " " + mime) +
           (description.empty() ? "" : ": " + description) + "]";
  }
  if (type == "resource") {
    auto it = block.find("resource");
    if (it == block.end() || !it->is_object()) return "[resource, empty]";
    std::string uri = StringField(*it, "uri");
    mime = StringField(*it, "mimeType");
    if (it->contains("text")) return "[resource <" + uri + ">]\n" + StringField(*it, "text");
    return "[resource <" + uri + ">" + (mime.empty() ? "" : " " + mime) + ", " +
           DecodedSize({{"data", StringField(*it, "blob")}}) + ", not shown]";
  }
  return "[" + type.substr(0, 40) + " content, not shown]";
}

// `text` cut to at most `max_bytes` on a character boundary, with a note.
std::string Cut(std::string text, int64_t max_bytes) {
  if (static_cast<int64_t>(text.size()) <= max_bytes) return text;
  size_t total = text.size();
  size_t end = static_cast<size_t>(max_bytes);
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text + "\n[output cut at " + std::to_string(end) + " of " + std::to_string(total) +
         " bytes (max_output_bytes)]";
}

Json Environment() {
  Json env = Json::object();
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env[ToValidUtf8(std::string(entry.substr(0, eq)))] =
        ToValidUtf8(std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::string Named(const engine::ToolDecl& decl, const std::string& what) {
  return "MCP server \"" + decl.name + "\": " + what;
}

}  // namespace

engine::ToolResult ToolResultOf(const mcp::McpCallResult& result, int64_t max_bytes) {
  std::string text;
  for (const auto& block : result.content) {
    if (!text.empty()) text += '\n';
    text += Describe(block);
  }
  if (result.structured && static_cast<int64_t>(DumpJson(*result.structured).size()) <= max_bytes)
    return {*result.structured, result.is_error};
  return {Json(ToValidUtf8(Cut(std::move(text), max_bytes))), result.is_error};
}

McpServers::~McpServers() {
  std::vector<Stopping> stopping;
  {
    std::lock_guard lock(mu_);
    sessions_.clear();  // clients not in use stop here
    stopping.swap(stopping_);
  }
  for (auto& s : stopping) s.thread.join();
}

size_t McpServers::running() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, servers] : sessions_) {
    for (const auto& [entry, server] : servers) {
      std::lock_guard server_lock(server->mu);
      if (server->client && server->client->closed_reason().empty()) ++n;
    }
  }
  return n;
}

void McpServers::EndSession(const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  auto servers = std::move(it->second);
  sessions_.erase(it);
  // Servers get a grace period to exit: stopped on a thread of their own, joined later.
  std::erase_if(stopping_, [](Stopping& s) {
    if (!s.done->load()) return false;
    s.thread.join();
    return true;
  });
  auto done = std::make_shared<std::atomic<bool>>(false);
  stopping_.push_back({std::thread([servers = std::move(servers), done]() mutable {
                         servers.clear();
                         *done = true;
                       }),
                       done});
}

std::shared_ptr<McpServers::Server> McpServers::Find(const std::string& session_id,
                                                     const std::string& entry) {
  std::lock_guard lock(mu_);
  auto& server = sessions_[session_id][entry];
  if (!server) server = std::make_shared<Server>();
  return server;
}

Result<std::shared_ptr<mcp::McpClient>> McpServers::Connect(Server* server,
                                                            const engine::ToolRequest& request,
                                                            const engine::ToolDecl& decl,
                                                            const std::atomic<bool>& cancel) {
  if (server->client && server->client->closed_reason().empty()) return server->client;
  server->client.reset();
  server->tools.reset();

  std::string workspace = WorkspacePath(data_dir_, request.owner, request.session_id);
  std::string error = EnsureWorkspace(workspace);
  if (!error.empty()) return Status(ErrorCode::kUnavailable, Named(decl, error));
  Json context = {{"session", {{"id", request.session_id}, {"workspace", workspace}}},
                  {"env", Environment()}};
  mcp::ClientOptions options;
  options.initialize_timeout_ms = decl.timeout_ms;
  options.cancel = &cancel;
  if (!decl.url.empty()) {
    auto url = engine::RenderTemplate(decl.url, context);
    if (!url.ok())
      return Status(ErrorCode::kInvalidArgument, Named(decl, "url: " + url.status().message()));
    if (std::string refusal = UrlRefusal(*url, decl); !refusal.empty())
      return Status(ErrorCode::kInvalidArgument, Named(decl, refusal));
    mcp::HttpOptions http;
    http.url = *url;
    for (const auto& [name, value] : decl.headers) {
      auto rendered = engine::RenderTemplate(value, context);
      if (!rendered.ok())
        return Status(ErrorCode::kInvalidArgument,
                      Named(decl, "headers/" + name + ": " + rendered.status().message()));
      if (rendered->find_first_of("\r\n") != std::string::npos)
        return Status(ErrorCode::kInvalidArgument,
                      Named(decl, "headers/" + name + ": a header value cannot span lines"));
      http.headers.push_back(name + ": " + *rendered);
    }
    auto client = mcp::McpClient::StartHttp(std::move(http), options);
    if (!client.ok()) return Status(client.status().code(), Named(decl, client.status().message()));
    server->client = std::shared_ptr<mcp::McpClient>(std::move(*client));
    return server->client;
  }
  mcp::StdioOptions stdio;
  for (size_t i = 0; i < decl.argv.size(); ++i) {
    auto arg = engine::RenderTemplate(decl.argv[i], context);
    if (!arg.ok()) {
      return Status(ErrorCode::kInvalidArgument,
                    Named(decl, "command[" + std::to_string(i) + "]: " + arg.status().message()));
    }
    stdio.spec.argv.push_back(std::move(*arg));
  }
  stdio.spec.cwd = workspace;
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + workspace,
                                  "TMPDIR=" + workspace, "LANG=C.UTF-8"};
  for (const auto& [name, value] : decl.env) {
    auto rendered = engine::RenderTemplate(value, context);
    if (!rendered.ok())
      return Status(ErrorCode::kInvalidArgument,
                    Named(decl, "env/" + name + ": " + rendered.status().message()));
    // A later entry of the same name wins (execve keeps the first: remove ours).
    std::string prefix = name + "=";
    std::erase_if(env, [&prefix](const std::string& e) { return e.rfind(prefix, 0) == 0; });
    env.push_back(prefix + *rendered);
  }
  stdio.spec.env = std::move(env);
  auto client = mcp::McpClient::Start(std::move(stdio), options);
  if (!client.ok()) return Status(client.status().code(), Named(decl, client.status().message()));
  server->client = std::shared_ptr<mcp::McpClient>(std::move(*client));
  return server->client;
}

engine::ToolListing McpServers::List(const engine::ToolRequest& request,
                                     const engine::ToolDecl& decl,
                                     const std::atomic<bool>& cancel) {
  engine::ToolListing listing;
  auto server = Find(request.session_id, decl.name);
  std::lock_guard lock(server->mu);
  auto client = Connect(server.get(), request, decl, cancel);
  if (!client.ok()) {
    listing.error = client.status().message();
    return listing;
  }
  if (!server->tools || (*client)->tools_changed()) {
    auto tools = (*client)->ListTools(decl.timeout_ms, &cancel);
    if (!tools.ok()) {
      listing.error = Named(decl, tools.status().message());
      return listing;
    }
    server->tools = std::move(*tools);
  }
  for (const auto& t : *server->tools)
    listing.tools.push_back({t.name, "", t.description, t.input_schema});
  return listing;
}

engine::ToolResult McpServers::Call(const engine::ToolRequest& request,
                                    const engine::ToolDecl& decl,
                                    const std::atomic<bool>& cancel) {
  auto server = Find(request.session_id, decl.name);
  std::shared_ptr<mcp::McpClient> client;
  {
    std::lock_guard lock(server->mu);
    auto connected = Connect(server.get(), request, decl, cancel);
    if (!connected.ok()) return {Json(connected.status().message()), true};
    client = std::move(*connected);
  }
  auto result = client->CallTool(request.server_tool, request.input, decl.timeout_ms, &cancel);
  if (!result.ok()) {
    std::string message = result.status().message();
    if (result.status().code() == ErrorCode::kDeadlineExceeded) message += " (timeout_ms)";
    if (result.status().code() == ErrorCode::kUnavailable) message += client->StderrNote();
    return {Json(Named(decl, "tool \"" + request.server_tool + "\": " + message)), true};
  }
  return ToolResultOf(*result, decl.max_output_bytes);
}

}  // namespace scaffold::net
