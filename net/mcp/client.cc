#include "net/mcp/client.h"

#include <chrono>

#include "engine/json_reader.h"

namespace scaffold::net::mcp {
namespace {

using Clock = std::chrono::steady_clock;

Status Unavailable(const std::string& why) { return Status(ErrorCode::kUnavailable, why); }

}  // namespace

Result<std::unique_ptr<McpClient>> McpClient::Start(StdioOptions stdio, ClientOptions options) {
  return Connect(options, [&](Transport::LineHandler on_line, Transport::ClosedHandler on_closed)
                              -> Result<std::unique_ptr<Transport>> {
    auto t = StdioTransport::Start(std::move(stdio), std::move(on_line), std::move(on_closed));
    if (!t.ok()) return t.status();
    return std::unique_ptr<Transport>(std::move(*t));
  });
}

Result<std::unique_ptr<McpClient>> McpClient::StartHttp(HttpOptions http, ClientOptions options) {
  return Connect(options, [&](Transport::LineHandler on_line, Transport::ClosedHandler on_closed)
                              -> Result<std::unique_ptr<Transport>> {
    auto t = HttpTransport::Start(std::move(http), std::move(on_line), std::move(on_closed));
    if (!t.ok()) return t.status();
    return std::unique_ptr<Transport>(std::move(*t));
  });
}

Result<std::unique_ptr<McpClient>> McpClient::Connect(
    ClientOptions options,
    const std::function<Result<std::unique_ptr<Transport>>(Transport::LineHandler,
                                                           Transport::ClosedHandler)>& open) {
  std::unique_ptr<McpClient> client(new McpClient(options));
  McpClient* raw = client.get();
  auto transport = open([raw](std::string_view line) { raw->OnLine(line); },
                        [raw](const std::string& why) { raw->OnClosed(why); });
  if (!transport.ok()) return transport.status();
  client->transport_ = std::move(*transport);
  client->transport_->Run();
  Status s = client->Initialize();
  client->options_.cancel = nullptr;  // the flag belongs to the caller of Start
  if (!s.ok()) {
    std::string note = client->StderrNote();
    client->Stop();
    return Status(s.code(), s.message() + note);
  }
  return client;
}

std::string McpClient::StderrNote() const {
  std::string tail = StderrTail();
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  if (tail.empty()) return "";
  size_t last = tail.rfind('\n');
  return " (its stderr ends: " + tail.substr(last == std::string::npos ? 0 : last + 1, 300) + ")";
}

McpClient::~McpClient() {
  Stop();
  // The reader thread calls back into this object until it is joined: before any member goes.
  transport_.reset();
}

void McpClient::Stop() {
  if (transport_) transport_->Stop();
  Fail("the MCP server was stopped");
}

std::string McpClient::closed_reason() const {
  std::lock_guard lock(mu_);
  return closed_;
}

Status McpClient::Initialize() {
  Json params = {{"protocolVersion", kProtocolVersion},
                 {"capabilities", Json::object()},
                 {"clientInfo", {{"name", "scaffold"}, {"version", SCAFFOLD_NET_VERSION}}}};
  auto result = Request("initialize", std::move(params), options_.initialize_timeout_ms,
                        options_.cancel);
  if (!result.ok()) return result.status();
  JsonReader in(*result, "/result");
  std::string version = in.String("protocolVersion");
  const Json* info = in.OptObject("serverInfo");
  if (!in.ok())
    return Status(ErrorCode::kFailedPrecondition,
                  "the MCP server's initialize result: " + in.status().ToString());
  if (version != kProtocolVersion && version != kPreviousProtocolVersion) {
    return Status(ErrorCode::kFailedPrecondition,
                  "the MCP server speaks protocol revision \"" + version.substr(0, 40) +
                      "\"; scaffold speaks " + kProtocolVersion + " and " +
                      kPreviousProtocolVersion);
  }
  protocol_version_ = version;
  transport_->SetProtocolVersion(version);
  if (info) server_info_ = *info;
  return Notify("notifications/initialized", Json::object());
}

Result<std::vector<McpTool>> McpClient::ListTools(int64_t timeout_ms,
                                                  const std::atomic<bool>* cancel) {
  tools_changed_ = false;
  std::vector<McpTool> tools;
  std::optional<std::string> cursor;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (int page = 0; page < options_.max_list_pages; ++page) {
    Json params = Json::object();
    if (cursor) params["cursor"] = *cursor;
    int64_t left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())
                       .count();
    auto result = Request("tools/list", std::move(params), std::max<int64_t>(left, 1), cancel);
    if (!result.ok()) return result.status();
    auto parsed = ParseToolsPage(*result);
    if (!parsed.ok()) return parsed.status();
    if (tools.size() + parsed->tools.size() > static_cast<size_t>(options_.max_tools)) {
      return Status(ErrorCode::kFailedPrecondition,
                    "tools/list: the MCP server lists more than " +
                        std::to_string(options_.max_tools) + " tools");
    }
    for (auto& t : parsed->tools) tools.push_back(std::move(t));
    cursor = std::move(parsed->next_cursor);
    if (!cursor) return tools;
  }
  return Status(ErrorCode::kFailedPrecondition,
                "tools/list: the MCP server's listing goes on past " +
                    std::to_string(options_.max_list_pages) + " pages");
}

Result<McpCallResult> McpClient::CallTool(const std::string& name, const Json& arguments,
                                          int64_t timeout_ms, const std::atomic<bool>* cancel) {
  auto result =
      Request("tools/call", {{"name", name}, {"arguments", arguments}}, timeout_ms, cancel);
  if (!result.ok()) return result.status();
  return ParseCallResult(*result);
}

Result<Json> McpClient::Request(const std::string& method, Json params, int64_t timeout_ms,
                                const std::atomic<bool>* cancel) {
  auto pending = std::make_shared<Pending>();
  int64_t id = 0;
  {
    std::lock_guard lock(mu_);
    if (!closed_.empty()) return Unavailable(closed_);
    id = next_id_++;
    pending->method = method;
    pending_[id] = pending;
  }
  Json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  if (Status s = transport_->Send(DumpJson(message)); !s.ok()) {
    std::lock_guard lock(mu_);
    pending_.erase(id);
    return s;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock lock(mu_);
  while (!pending->done) {
    bool cancelled = cancel && cancel->load();
    if (cancelled || Clock::now() >= deadline) {
      pending_.erase(id);
      lock.unlock();
      (void)Notify("notifications/cancelled",
                   {{"requestId", id}, {"reason", cancelled ? "cancelled" : "timed out"}});
      if (cancelled) return Status(ErrorCode::kCancelled, method + " was cancelled");
      return Status(ErrorCode::kDeadlineExceeded,
                    "the MCP server did not answer " + method + " within " +
                        std::to_string(timeout_ms) + " ms");
    }
    cv_.wait_for(lock, std::chrono::milliseconds(cancel ? 20 : 1000));
  }
  return pending->result;
}

Status McpClient::Notify(const std::string& method, Json params) {
  Json message = {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
  return transport_->Send(DumpJson(message));
}

void McpClient::OnLine(std::string_view line) {
  auto message = ParseMessage(line);
  if (!message.ok()) return Broken(message.status().message());
  switch (message->kind) {
    case Message::Kind::kNotification:
      if (message->method == "notifications/tools/list_changed") tools_changed_ = true;
      return;
    case Message::Kind::kRequest: {
      // A request of the server's: ping is answered, nothing else is offered.
      Json reply = {{"jsonrpc", "2.0"}, {"id", message->id}};
      if (message->method == "ping") {
        reply["result"] = Json::object();
      } else {
        reply["error"] = {{"code", -32601}, {"message", "method not found"}};
      }
      (void)transport_->Send(DumpJson(reply));
      return;
    }
    case Message::Kind::kResponse:
      break;
  }
  std::lock_guard lock(mu_);
  auto it = pending_.find(message->id.get<int64_t>());
  if (it == pending_.end()) return;  // timed out or cancelled meanwhile
  Pending& p = *it->second;
  if (message->error) {
    p.result = ErrorOfResponse(p.method, *message->error);
  } else {
    p.result = std::move(*message->result);
  }
  p.done = true;
  pending_.erase(it);
  cv_.notify_all();
}

void McpClient::OnClosed(const std::string& why) { Fail(why); }

void McpClient::Fail(const std::string& why) {
  std::map<int64_t, std::shared_ptr<Pending>> failed;
  {
    std::lock_guard lock(mu_);
    if (closed_.empty()) closed_ = why;
    failed.swap(pending_);
    for (auto& [id, p] : failed) {
      p->result = Unavailable(closed_);
      p->done = true;
    }
  }
  cv_.notify_all();
}

void McpClient::Broken(const std::string& why) {
  transport_->Abort(why);
  Fail(why);
}

}  // namespace scaffold::net::mcp
