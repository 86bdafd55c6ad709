#include "cli/mcp_server.h"

#include "engine/agent_run.h"
#include "engine/event.h"
#include "engine/json_reader.h"
#include "net/mcp/messages.h"

namespace scaffold::cli {
namespace {

// The form an ask is put to the user in (an elicitation's requestedSchema), or nullopt when it
// does not fit one: forms hold flat strings, numbers and booleans.
std::optional<Json> AskForm(const Json& ask) {
  std::string type = ask.value("type", "");
  auto one = [](const char* key, Json property) {
    return Json{{"type", "object"},
                {"properties", {{key, std::move(property)}}},
                {"required", Json::array({key})}};
  };
  if (type == "approval") return one("approved", {{"type", "boolean"}, {"title", "Approve"}});
  if (type == "text") return one("text", {{"type", "string"}, {"title", "Answer"}});
  if (type == "choice") {
    return one("choice", {{"type", "string"},
                          {"title", "Choice"},
                          {"enum", ask.value("options", Json::array())}});
  }
  if (type != "json") return std::nullopt;
  const Json& schema = ask.value("schema", Json());
  if (!schema.is_object() || schema.value("type", Json()) != "object") return std::nullopt;
  const Json& properties = schema.value("properties", Json());
  if (!properties.is_object() || properties.empty()) return std::nullopt;
  for (const auto& [name, p] : properties.items()) {
    static const std::vector<std::string> kPrimitive = {"string", "number", "integer", "boolean"};
    const Json& t = p.is_object() ? p.value("type", Json()) : Json();
    if (!t.is_string() ||
        std::find(kPrimitive.begin(), kPrimitive.end(), t.get<std::string>()) == kPrimitive.end())
      return std::nullopt;
  }
  Json form = {{"type", "object"}, {"properties", properties}};
  if (schema.contains("required")) form["required"] = schema["required"];
  return form;
}

// The answer to an ask from an accepted form's content.
engine::InputAnswer AnswerOf(const std::string& ask_id, const Json& ask, const Json& content) {
  engine::InputAnswer answer{ask_id, nullptr, std::nullopt};
  std::string type = ask.value("type", "");
  auto field = [&](const char* key) {
    return content.is_object() && content.contains(key) ? content[key] : Json();
  };
  if (type == "approval") {
    Json approved = field("approved");
    if (approved.is_boolean()) {
      answer.approved = approved.get<bool>();
    } else {
      answer.value = approved;  // refused by the session, naming what was wrong
    }
  } else if (type == "choice") {
    answer.value = field("choice");
  } else if (type == "text") {
    answer.value = field("text");
  } else {
    answer.value = content;
  }
  return answer;
}

}  // namespace

struct WorkflowToolServer::Call {
  Json request_id;
  std::unique_ptr<engine::Session> session;
  std::unique_ptr<ProgressSink> sink;
  Json pending_ask;  // the input:requested payload while an ask waits
  bool answered = false;  // the tools/call response was sent (or is not to be)
};

class WorkflowToolServer::ProgressSink : public engine::EventSink {
 public:
  ProgressSink(WorkflowToolServer* server, Json token)
      : server_(server), token_(std::move(token)) {}
  void OnEvents(std::span<const engine::EventPtr> events) override {
    for (const auto& e : events) {
      if (e->name != engine::events::kPhaseEntered) continue;
      server_->Send({{"jsonrpc", "2.0"},
                     {"method", "notifications/progress"},
                     {"params",
                      {{"progressToken", token_},
                       {"progress", ++count_},
                       {"message", "phase " + e->payload.value("phase", "")}}}});
    }
  }

 private:
  WorkflowToolServer* server_;
  Json token_;
  int64_t count_ = 0;
};

WorkflowToolServer::WorkflowToolServer(const std::map<std::string, net::ServedWorkflow>& workflows,
                                       Options options)
    : options_(std::move(options)) {
  for (const auto& [name, served] : workflows) {
    auto tool = net::mcp::DescribeWorkflowTool(name, *served.workflow);
    std::string tool_name = tool.definition["name"];
    tools_.emplace(tool_name, Tool{served.workflow, std::move(tool)});
  }
}

WorkflowToolServer::~WorkflowToolServer() {
  *alive_ = false;
}

void WorkflowToolServer::Send(const Json& message) {
  options_.write(DumpJson(message));
}

void WorkflowToolServer::Reply(const Json& id, Json result) {
  Send({{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
}

void WorkflowToolServer::ReplyError(const Json& id, int code, const std::string& message) {
  Send({{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}});
}

void WorkflowToolServer::OnLine(std::string_view line) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
  auto message = net::mcp::ParseMessage(line);
  if (!message.ok()) {
    // Not JSON at all is a parse error; JSON of the wrong shape an invalid request.
    bool json = ParseJson(line).ok();
    ReplyError(nullptr, json ? -32600 : -32700, message.status().message());
    return;
  }
  using Kind = net::mcp::Message::Kind;
  switch (message->kind) {
    case Kind::kRequest:
      return OnRequest(message->id, message->method, message->params);
    case Kind::kNotification:
      if (message->method == "notifications/cancelled") CancelCall(message->params);
      return;  // notifications/initialized and the others need nothing
    case Kind::kResponse:
      return OnResponse(message->id.get<int64_t>(), message->result);
  }
}

void WorkflowToolServer::OnRequest(const Json& id, const std::string& method, const Json& params) {
  if (method == "initialize") return Initialize(id, params);
  if (method == "ping") return Reply(id, Json::object());
  if (method == "tools/list") {
    Json tools = Json::array();
    for (const auto& [name, tool] : tools_) tools.push_back(tool.tool.definition);
    return Reply(id, {{"tools", std::move(tools)}});
  }
  if (method == "tools/call") return CallTool(id, params);
  ReplyError(id, -32601, "method not found: " + method.substr(0, 100));
}

void WorkflowToolServer::Initialize(const Json& id, const Json& params) {
  JsonReader in(params, "/params");
  in.OptString("protocolVersion");
  JsonReader capabilities = in.Child("capabilities");
  elicitation_ = capabilities.Has("elicitation");
  if (!in.ok()) return ReplyError(id, -32602, in.status().ToString());
  Reply(id, {{"protocolVersion", net::mcp::NegotiateVersion(params)},
             {"capabilities", {{"tools", {{"listChanged", false}}}}},
             {"serverInfo", {{"name", "scaffold"}, {"version", options_.version}}}});
}

void WorkflowToolServer::CallTool(const Json& id, const Json& params) {
  auto call_params = net::mcp::ReadCallParams(params);
  if (!call_params.ok()) return ReplyError(id, -32602, call_params.status().message());
  auto tool = tools_.find(call_params->name);
  if (tool == tools_.end())
    return ReplyError(id, -32602, "unknown tool: " + call_params->name.substr(0, 100));
  Json input = net::mcp::WorkflowInput(tool->second.tool, call_params->arguments);
  std::optional<Json> token = call_params->progress_token;

  auto session = engine::Session::Create(options_.deps, tool->second.workflow, std::move(input),
                                         options_.run);
  if (!session.ok()) return Reply(id, net::mcp::ErrorResult(session.status().message()));
  int64_t number = next_call_++;
  auto call = std::make_unique<Call>();
  call->request_id = id;
  call->session = std::move(*session);
  if (token) {
    call->sink = std::make_unique<ProgressSink>(this, *token);
    call->session->AddSink(call->sink.get());
  }
  call->session->SetInputListener([this, number](const Json& request) { OnAsk(number, request); });
  engine::Session* raw = call->session.get();
  calls_.emplace(number, std::move(call));
  raw->Start([this, number, alive = alive_](const engine::SessionEnd& end) {
    if (*alive) OnSessionEnd(number, end);
  });
}

void WorkflowToolServer::OnAsk(int64_t number, const Json& request) {
  auto it = calls_.find(number);
  if (it == calls_.end() || it->second->answered) return;
  Call& call = *it->second;
  call.pending_ask = request;
  std::string ask_id = request.value("id", "");
  std::optional<Json> form = elicitation_ ? AskForm(request) : std::nullopt;
  if (!form) {
    return AnswerWaiting(number, elicitation_ ? "the ask does not fit a form"
                                              : "the client cannot answer asks (elicitation)");
  }
  int64_t id = next_request_++;
  elicitations_[id] = {number, ask_id};
  Json params = {{"message", request.value("prompt", "")}, {"requestedSchema", *form}};
  Send({{"jsonrpc", "2.0"}, {"id", id}, {"method", "elicitation/create"}, {"params", params}});
}

void WorkflowToolServer::OnResponse(int64_t id, const std::optional<Json>& result) {
  auto it = elicitations_.find(id);
  if (it == elicitations_.end()) return;  // not ours, or for a call that ended
  auto [number, ask_id] = it->second;
  elicitations_.erase(it);
  auto call = calls_.find(number);
  if (call == calls_.end() || call->second->answered ||
      call->second->pending_ask.value("id", "") != ask_id)
    return;  // the ask timed out or the call ended meanwhile
  OnElicited(number, ask_id, call->second->pending_ask, result);
}

void WorkflowToolServer::OnElicited(int64_t number, const std::string& ask_id, const Json& ask,
                                    const std::optional<Json>& result) {
  if (!result) return AnswerWaiting(number, "the client answered the elicitation with an error");
  JsonReader in(*result, "/result");
  std::string action = in.String("action");
  const Json* content = in.OptObject("content");
  if (!in.ok()) return AnswerWaiting(number, "the elicitation's answer: " + in.status().ToString());
  engine::InputAnswer answer{ask_id, nullptr, std::nullopt};
  if (action == "accept") {
    answer = AnswerOf(ask_id, ask, content ? *content : Json::object());
  } else if (action == "decline" && ask.value("type", "") == "approval") {
    answer.approved = false;
  } else {
    return AnswerWaiting(number, "the user chose to " + action.substr(0, 20));
  }
  auto& session = *calls_.at(number)->session;
  session.SubmitInput(answer, [this, number, alive = alive_](const Status& s) {
    if (*alive && !s.ok()) AnswerWaiting(number, "the answer was refused: " + s.message());
  });
  calls_.at(number)->pending_ask = Json();
}

void WorkflowToolServer::AnswerWaiting(int64_t number, const std::string& why) {
  auto it = calls_.find(number);
  if (it == calls_.end() || it->second->answered) return;
  Call& call = *it->second;
  std::string id = call.session->id();
  std::string how = "(" + why + ") Answer it with: scaffold resume " + id + " --answer '" +
                    call.pending_ask.value("id", "") + "=VALUE'";
  Reply(call.request_id, net::mcp::WaitingResult(id, call.pending_ask, how));
  call.answered = true;
  call.session->Pause("waiting for an answer from outside the MCP client");
}

void WorkflowToolServer::OnSessionEnd(int64_t number, const engine::SessionEnd& end) {
  auto it = calls_.find(number);
  if (it == calls_.end()) return;
  Call& call = *it->second;
  if (!call.answered) {
    call.answered = true;
    std::string id = call.session->id();
    using engine::SessionOutcome;
    if (end.outcome == SessionOutcome::kCompleted) {
      Reply(call.request_id, net::mcp::CompletedResult(id, end.result));
    } else {
      std::string code = end.failure_code.empty() ? "stopped" : end.failure_code;
      std::string message = end.error.ok() ? "the session stopped" : end.error.message();
      Reply(call.request_id, net::mcp::FailedResult(id, code, message));
    }
  }
  // The session is not destroyed inside its own callback.
  options_.deps.executor->Post([this, number, alive = alive_] {
    if (*alive) Finish(number);
  });
}

void WorkflowToolServer::Finish(int64_t number) {
  auto it = calls_.find(number);
  if (it == calls_.end()) return;
  if (it->second->sink) it->second->session->RemoveSink(it->second->sink.get());
  calls_.erase(it);
  if (calls_.empty() && on_drained_) {
    auto done = std::move(on_drained_);
    on_drained_ = nullptr;
    done();
  }
}

void WorkflowToolServer::CancelCall(const Json& params) {
  if (!params.is_object() || !params.contains("requestId")) return;
  const Json& request_id = params["requestId"];
  for (auto& [number, call] : calls_) {
    if (call->request_id != request_id || call->answered) continue;
    call->answered = true;  // a cancelled request gets no response
    call->session->Pause("cancelled by the MCP client");
    return;
  }
}

void WorkflowToolServer::OnInputClosed(std::function<void()> done) {
  if (calls_.empty()) return done();
  on_drained_ = std::move(done);
  for (auto& [number, call] : calls_) {
    call->answered = true;
    call->session->Pause("the MCP client went away");
  }
}

}  // namespace scaffold::cli
