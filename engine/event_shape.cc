#include "engine/event_shape.h"

#include <map>
#include <vector>

#include "engine/json_reader.h"

namespace scaffold::engine {
namespace {

enum class Type { kString, kInt, kBool, kObject, kArray, kAny };

struct Field {
  const char* name;
  Type type;
  bool required;
};

using Shape = std::vector<Field>;

// Fields present in (nearly) every agent event.
Shape Agent(Shape fields) {
  fields.push_back({"agent", Type::kString, true});
  fields.push_back({"index", Type::kInt, false});
  return fields;
}

const std::map<std::string, Shape, std::less<>>& Catalog() {
  using T = Type;
  static const std::map<std::string, Shape, std::less<>> kCatalog = {
      {events::kWorkflowStarted,
       {{"sessionId", T::kString, true},
        {"workflow", T::kString, true},
        {"input", T::kAny, false},
        {"state", T::kAny, false},
        {"overrides", T::kObject, false}}},
      {events::kWorkflowCompleted,
       {{"sessionId", T::kString, true},
        {"finalState", T::kAny, false},
        {"exitPhase", T::kString, false},
        {"result", T::kAny, false}}},
      {events::kWorkflowError, {{"sessionId", T::kString, true}, {"error", T::kObject, true}}},
      {events::kPhaseEntered, {{"phase", T::kString, true}, {"fromPhase", T::kString, false}}},
      {events::kPhaseExited,
       {{"phase", T::kString, true}, {"reason", T::kString, true}, {"next", T::kString, false}}},
      {events::kAgentStarted,
       Agent({{"phase", T::kString, false},
              {"provider", T::kString, false},
              {"model", T::kString, false}})},
      {events::kAgentCompleted,
       Agent({{"output", T::kAny, false},
              {"durationMs", T::kInt, false},
              {"usage", T::kObject, false},
              {"stopReason", T::kString, false}})},
      {events::kAgentRetry,
       Agent({{"attempt", T::kInt, false},
              {"reason", T::kString, false},
              {"delayMs", T::kInt, false},
              {"error", T::kString, false}})},
      {events::kTextDelta, Agent({{"delta", T::kString, true}})},
      {events::kTextComplete, Agent({{"fullText", T::kString, true}})},
      {events::kThinkingDelta, Agent({{"delta", T::kString, true}})},
      {events::kThinkingComplete, Agent({{"thinking", T::kString, true}})},
      {events::kToolCalled,
       {{"agent", T::kString, false},
        {"index", T::kInt, false},
        {"phase", T::kString, false},
        {"toolId", T::kString, true},
        {"toolName", T::kString, true},
        {"input", T::kAny, false},
        {"via", T::kString, false}}},
      {events::kToolResult,
       {{"agent", T::kString, false},
        {"index", T::kInt, false},
        {"phase", T::kString, false},
        {"toolId", T::kString, true},
        {"toolName", T::kString, false},
        {"output", T::kAny, false},
        {"isError", T::kBool, false},
        {"via", T::kString, false}}},
      {events::kToolListed,
       Agent({{"tool", T::kString, true},
              {"tools", T::kArray, true},
              {"skipped", T::kArray, false},
              {"error", T::kString, false}})},
      {events::kStateIntent,
       {{"intentId", T::kString, false},
        {"patches", T::kArray, true},
        {"inversePatches", T::kArray, false}}},
      {events::kStateCheckpoint,
       {{"state", T::kAny, true}, {"position", T::kInt, false}, {"phase", T::kString, false}}},
      {events::kInputRequested,
       {{"id", T::kString, true},
        {"prompt", T::kString, false},
        {"type", T::kString, false},
        {"options", T::kArray, false},
        {"schema", T::kAny, false},
        {"timeoutMs", T::kInt, false}}},
      {events::kInputReceived,
       {{"id", T::kString, true},
        {"value", T::kAny, false},
        {"approved", T::kBool, false},
        {"timedOut", T::kBool, false}}},
      {events::kSessionPaused, {{"reason", T::kString, false}}},
      {events::kSessionResumed,
       {{"fromPosition", T::kInt, false}, {"waitingFor", T::kString, false}}},
      {events::kSessionForked,
       {{"parentSessionId", T::kString, true},
        {"forkIndex", T::kInt, false},
        {"initialState", T::kAny, false}}},
  };
  return kCatalog;
}

void CheckField(JsonReader& in, const Field& f) {
  if (!in.Has(f.name)) {
    if (f.required && f.type != Type::kAny) in.Fail(f.name, "required");
    return;
  }
  switch (f.type) {
    case Type::kString:
      in.OptString(f.name);
      break;
    case Type::kInt:
      in.OptInt(f.name, 0);
      break;
    case Type::kBool:
      in.OptBool(f.name);
      break;
    case Type::kObject:
      in.OptObject(f.name);
      break;
    case Type::kArray:
      in.OptArray(f.name);
      break;
    case Type::kAny:
      break;
  }
}

}  // namespace

Status CheckEventShape(const Event& event) {
  auto it = Catalog().find(event.name);
  if (it == Catalog().end()) return Status::Ok();
  JsonReader in(event.payload, "/payload");
  for (const Field& f : it->second) CheckField(in, f);
  const Json& p = event.payload;
  // Nested fields some readers use.
  if (event.name == events::kWorkflowError && in.ok()) {
    JsonReader error = in.Child("error");
    error.OptString("code");
    error.OptString("message");
    error.OptString("path");
  }
  if (event.name == events::kAgentCompleted && in.ok() && in.Has("usage")) {
    JsonReader usage = in.Child("usage");
    for (const char* key : {"inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens"})
      usage.OptInt(key, 0);
  }
  if (event.name == events::kInputRequested && in.ok() && p.contains("options")) {
    JsonReader options = in.List("options");
    for (size_t i = 0; i < options.json().size(); ++i) {
      if (!options.json()[i].is_string())
        options.FailAt(options.PathOf(i), JsonReader::Expected("a string", options.json()[i]));
    }
  }
  if (event.name == events::kStateIntent && in.ok()) {
    for (const char* key : {"patches", "inversePatches"}) {
      JsonReader ops = in.List(key);
      for (size_t i = 0; i < ops.json().size(); ++i) {
        JsonReader op = ops.Item(i);
        op.String("op");
        op.String("path", true);
      }
    }
  }
  if (in.ok()) return Status::Ok();
  return Status(ErrorCode::kDataLoss,
                "event " + std::to_string(event.position) + " (" + event.name.substr(0, 64) +
                    "): " + in.status().ToString());
}

}  // namespace scaffold::engine
