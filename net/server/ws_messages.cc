#include "net/server/ws_messages.h"

#include "engine/json_reader.h"

namespace scaffold::net {
namespace {

// "/sessionId: expected a string, got null".
std::string Describe(const Status& s) {
  return s.path().empty() ? s.message() : s.path() + ": " + s.message();
}

}  // namespace

void HandleWsMessage(std::string_view text, const WsClientInfo& client, WsClientActions* actions) {
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return actions->SendError("bad_json", parsed.status().message(), "");
  if (!parsed->is_object())
    return actions->SendError("bad_json", "a message must be a JSON object", "");
  const Json& msg = *parsed;
  JsonReader in(msg);
  std::string type = in.String("type");
  if (!in.ok()) return actions->SendError("bad_request", Describe(in.status()), "");

  if (type == "ping") return actions->SendText(R"({"type":"pong"})");
  if (type == "tools:register") {
    if (!client.tools_served)
      return actions->SendError("not_implemented", "this server runs no client tools", "");
    if (!client.desktop) {
      return actions->SendError(
          "bad_request", "tools:register is for desktop clients: connect to /ws?client=osclient",
          "");
    }
    auto tools = ParseToolRegistration(msg);
    if (!tools.ok())
      return actions->SendError("bad_request", "tools:register: " + Describe(tools.status()), "");
    return actions->RegisterTools(std::move(tools).value());
  }
  if (type == "tool:response") return actions->ToolResponse(msg);
  if (type != "subscribe" && type != "unsubscribe" && type != "input") {
    return actions->SendError("unknown_type",
                              "unknown message type \"" + type.substr(0, 64) +
                                  "\" (subscribe, unsubscribe, input, tools:register, "
                                  "tool:response, ping)",
                              "");
  }

  // The rest name a session.
  std::string id = in.String("sessionId");
  if (!in.ok()) return actions->SendError("bad_request", type + ": " + Describe(in.status()), "");
  if (type == "subscribe") {
    // 0, like Last-Event-ID: 0, means from the start; absent or null follows live events only.
    std::optional<int64_t> from = in.OptInt("fromPosition", 0);
    if (!in.ok()) return actions->SendError("bad_request", Describe(in.status()), id);
    return actions->Subscribe(id, from ? std::max<int64_t>(*from, 1) : 0);
  }
  if (type == "unsubscribe") return actions->Unsubscribe(id);

  engine::InputAnswer answer;
  answer.id = in.OptString("id").value_or("");
  answer.value = in.Value("value");
  answer.approved = in.OptBool("approved");
  if (!in.ok()) return actions->SendError("bad_request", "input: " + Describe(in.status()), id);
  actions->SubmitInput(id, std::move(answer));
}

}  // namespace scaffold::net
