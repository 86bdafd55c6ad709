#include "net/tools/client_tools.h"

#include <algorithm>
#include <chrono>

#include "engine/schema.h"
#include "engine/uuid.h"
#include "net/tools/tool_router.h"

namespace scaffold::net {

struct ClientToolBroker::Client {
  std::string owner;
  uint64_t seq = 0;
  int64_t registered_ms = 0;
  const ToolClientConnection* key = nullptr;
  std::weak_ptr<ToolClientConnection> connection;
  std::map<std::string, RegisteredTool> tools;
};

struct ClientToolBroker::Pending {
  std::string tool_name;
  const ToolClientConnection* client = nullptr;
  engine::Executor* executor = nullptr;
  std::function<void(engine::ToolResult)> done;
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<engine::TimerHandle> timer;  // touched only on `executor`
};

namespace {

class BrokerCall : public engine::ToolCall {
 public:
  BrokerCall(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  ~BrokerCall() override { Cancel(); }
  void Cancel() override {
    if (cancel_) std::exchange(cancel_, nullptr)();
  }

 private:
  std::function<void()> cancel_;
};

engine::ToolResult Error(std::string message) {
  return {Json(std::move(message)), true};
}

}  // namespace

Result<std::vector<RegisteredTool>> ParseToolRegistration(const Json& frame) {
  auto tools = frame.find("tools");
  if (tools == frame.end() || !tools->is_array())
    return InvalidArgument("tools:register needs \"tools\", an array", "/tools");
  std::vector<RegisteredTool> out;
  for (size_t i = 0; i < tools->size(); ++i) {
    const Json& t = (*tools)[i];
    std::string path = "/tools/" + std::to_string(i);
    if (!t.is_object()) return InvalidArgument("expected an object", path);
    RegisteredTool tool;
    if (!t.contains("name") || !t["name"].is_string() || t["name"].get<std::string>().empty())
      return InvalidArgument("\"name\" must be a non-empty string", path + "/name");
    tool.name = t["name"].get<std::string>();
    if (t.contains("description")) {
      if (!t["description"].is_string())
        return InvalidArgument("\"description\" must be a string", path + "/description");
      tool.description = t["description"].get<std::string>();
    }
    if (t.contains("input_schema")) {
      auto compiled = engine::JsonSchema::Compile(t["input_schema"]);
      if (!compiled.ok()) {
        return InvalidArgument("invalid input_schema: " + compiled.status().message(),
                               path + "/input_schema");
      }
      tool.input_schema = t["input_schema"];
    }
    for (const auto& seen : out) {
      if (seen.name == tool.name)
        return InvalidArgument("tool \"" + tool.name + "\" is registered twice", path + "/name");
    }
    out.push_back(std::move(tool));
  }
  return out;
}

ClientToolBroker::ClientToolBroker() = default;
ClientToolBroker::~ClientToolBroker() = default;

void ClientToolBroker::Register(const std::string& owner,
                                std::shared_ptr<ToolClientConnection> connection,
                                std::vector<RegisteredTool> tools) {
  std::unique_lock lock(mu_);
  const ToolClientConnection* key = connection.get();
  clients_.erase(std::remove_if(clients_.begin(), clients_.end(),
                                [key](const Client& c) { return c.key == key; }),
                 clients_.end());
  Client c;
  c.owner = owner;
  c.seq = ++next_seq_;
  c.registered_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  c.key = key;
  c.connection = connection;
  for (auto& t : tools) c.tools[t.name] = std::move(t);
  clients_.push_back(std::move(c));
  lock.unlock();
  if (on_change_) on_change_();
}

void ClientToolBroker::Unregister(const ToolClientConnection* connection) {
  std::vector<std::pair<std::string, std::string>> orphaned;  // call id, tool
  {
    std::lock_guard lock(mu_);
    clients_.erase(std::remove_if(clients_.begin(), clients_.end(),
                                  [connection](const Client& c) { return c.key == connection; }),
                   clients_.end());
    for (const auto& [id, p] : pending_) {
      if (p->client == connection) orphaned.emplace_back(id, p->tool_name);
    }
  }
  for (const auto& [id, tool] : orphaned) {
    Complete(id, Error("the client disconnected before answering tool \"" + tool + "\""));
  }
  if (on_change_) on_change_();
}

std::string ClientToolBroker::Respond(const ToolClientConnection* connection, const Json& frame) {
  auto call_id = frame.find("callId");
  if (call_id == frame.end() || !call_id->is_string())
    return "tool:response needs \"callId\", the string from its tool:request";
  std::string id = call_id->get<std::string>();
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second->client != connection) {
      return "no call \"" + id +
             "\" is waiting for this client (it timed out, was cancelled or was answered)";
    }
  }
  std::string problem;
  auto output = frame.find("output");
  auto is_error = frame.find("isError");
  if (output == frame.end()) {
    problem = "it has no \"output\"";
  } else if (is_error != frame.end() && !is_error->is_boolean()) {
    problem = "\"isError\" must be true or false, got " + DumpJson(*is_error);
  }
  if (!problem.empty()) {
    std::string tool;
    {
      std::lock_guard lock(mu_);
      if (auto it = pending_.find(id); it != pending_.end()) tool = it->second->tool_name;
    }
    Complete(id, Error("the client sent a malformed tool:response for tool \"" + tool +
                       "\": " + problem));
    return "malformed tool:response: " + problem;
  }
  Complete(id, {*output, is_error != frame.end() && is_error->get<bool>()});
  return "";
}

void ClientToolBroker::Complete(const std::string& call_id, engine::ToolResult result) {
  std::shared_ptr<Pending> p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(call_id);
    if (it == pending_.end()) return;
    p = std::move(it->second);
    pending_.erase(it);
  }
  p->executor->Post([p, result = std::move(result)]() mutable {
    p->timer.reset();
    if (!*p->cancelled) p->done(std::move(result));
  });
}

std::unique_ptr<engine::ToolCall> ClientToolBroker::Call(
    const engine::ToolRequest& request, const engine::ToolDecl* decl, engine::Executor* executor,
    std::function<void(engine::ToolResult)> done) {
  const std::string& name = request.tool_name;
  std::shared_ptr<ToolClientConnection> target;
  Json schema = Json::object();
  std::string offered;
  bool any_client = false;
  {
    std::lock_guard lock(mu_);
    const Client* best = nullptr;
    for (const auto& c : clients_) {
      if (c.owner != request.owner || c.connection.expired()) continue;
      any_client = true;
      if (c.tools.count(name) && (!best || c.seq > best->seq)) best = &c;
      for (const auto& [n, t] : c.tools) {
        if (offered.find("\"" + n + "\"") == std::string::npos)
          offered += (offered.empty() ? "\"" : ", \"") + n + "\"";
      }
    }
    if (best) {
      target = best->connection.lock();
      schema = best->tools.at(name).input_schema;
    }
  }
  if (!target) {
    std::string message = any_client ? "the connected client does not offer tool \"" + name +
                                           "\" (it offers " +
                                           (offered.empty() ? std::string("none") : offered) + ")"
                                     : "no client is connected to run tool \"" + name +
                                           "\" (a desktop client registers it over WebSocket with "
                                           "?client=osclient)";
    return engine::PostToolResult(executor, Error(message), std::move(done));
  }
  if (auto bad = CheckToolInput(name, schema, request.input))
    return engine::PostToolResult(executor, std::move(*bad), std::move(done));

  int64_t timeout_ms = decl ? decl->timeout_ms : 30000;
  std::string call_id = engine::NewUuid();
  auto p = std::make_shared<Pending>();
  p->tool_name = name;
  p->client = target.get();
  p->executor = executor;
  p->done = std::move(done);
  {
    std::lock_guard lock(mu_);
    pending_[call_id] = p;
  }
  p->timer =
      executor->RunAfter(std::chrono::milliseconds(timeout_ms), [this, call_id, name, timeout_ms] {
        Complete(call_id, Error("the client did not answer tool \"" + name + "\" within " +
                                std::to_string(timeout_ms) + " ms"));
      });
  target->SendFrame(DumpJson({{"type", "tool:request"},
                              {"callId", call_id},
                              {"sessionId", request.session_id},
                              {"toolName", name},
                              {"input", request.input},
                              {"timeoutMs", timeout_ms}}));
  std::weak_ptr<Pending> weak = p;
  return std::make_unique<BrokerCall>([this, call_id, weak] {
    if (auto pending = weak.lock()) {
      *pending->cancelled = true;
      pending->timer.reset();
    }
    std::lock_guard lock(mu_);
    pending_.erase(call_id);
  });
}

size_t ClientToolBroker::clients() const {
  std::lock_guard lock(mu_);
  return clients_.size();
}

std::vector<ClientToolBroker::Offer> ClientToolBroker::Offers() const {
  std::lock_guard lock(mu_);
  std::vector<Offer> out;
  for (const auto& c : clients_) {
    if (c.connection.expired()) continue;
    Offer offer{c.owner, c.registered_ms, {}};
    for (const auto& [name, tool] : c.tools) offer.tools.push_back(name);
    out.push_back(std::move(offer));
  }
  return out;
}

bool ClientToolBroker::Offers(const std::string& owner, const std::string& tool) const {
  std::lock_guard lock(mu_);
  for (const auto& c : clients_) {
    if (c.owner == owner && !c.connection.expired() && c.tools.count(tool)) return true;
  }
  return false;
}

size_t ClientToolBroker::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

}  // namespace scaffold::net
