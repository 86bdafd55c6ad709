#include "engine/event.h"

#include <algorithm>
#include <limits>
#include <mutex>

#include "engine/parallel.h"

namespace scaffold::engine {

void Event::Serialize() {
  // Field order follows DESIGN §4; built by hand so the envelope costs no map, and the payload
  // is written straight into it.
  wire.clear();
  wire.reserve(id.size() + name.size() + 256);
  wire += "{\"id\":\"";
  wire += id;
  wire += "\",\"position\":";
  wire += std::to_string(position);
  wire += ",\"name\":";
  AppendJsonString(name, &wire);
  wire += ",\"payload\":";
  AppendJson(payload, &wire);
  wire += ",\"timestamp\":";
  wire += std::to_string(timestamp);
  wire += '}';
}

Result<Event> Event::Parse(std::string_view text) {
  auto parsed = ParseJson(text);
  if (!parsed.ok())
    return Status(ErrorCode::kDataLoss, "an event is not usable JSON: " + parsed.status().message());
  Json& j = *parsed;
  if (!j.is_object()) return Status(ErrorCode::kDataLoss, "an event is not a JSON object");
  auto field = [&](const char* key) -> Json* {
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
  };
  Json* id = field("id");
  Json* position = field("position");
  Json* name = field("name");
  Json* payload = field("payload");
  Json* timestamp = field("timestamp");
  auto int64 = [](const Json* v) {
    return v && v->is_number_integer() &&
           !(v->is_number_unsigned() &&
             v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  };
  if (!id || !id->is_string() || !int64(position) || !name || !name->is_string() || !payload ||
      !payload->is_object() || !int64(timestamp)) {
    return Status(ErrorCode::kDataLoss, "an event lacks id, position, name, payload or timestamp");
  }
  Event e;
  // Moved out of the parsed document, not copied: reading a log is mostly this.
  e.id = std::move(id->get_ref<std::string&>());
  e.position = position->get<int64_t>();
  e.name = std::move(name->get_ref<std::string&>());
  e.payload = std::move(*payload);

  e.timestamp = timestamp->get<int64_t>();
  e.wire = std::string(text);
  return e;
}

Status ParseEvents(std::span<const std::string_view> texts, std::vector<EventPtr>* out,
                   size_t* bad) {
  out->assign(texts.size(), nullptr);
  std::mutex mu;
  size_t first_bad = SIZE_MAX;  // guarded by mu
  Status problem;               // guarded by mu
  ForEachInChunks(texts.size(), kEventsPerParseThread, [&](size_t i) {
    auto event = Event::Parse(texts[i]);
    if (!event.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (i < first_bad) {
        first_bad = i;
        problem = event.status();
      }
      return false;
    }
    (*out)[i] = std::make_shared<const Event>(std::move(*event));
    return true;
  });
  if (first_bad == SIZE_MAX) return Status::Ok();
  *bad = first_bad;
  out->clear();
  return problem;
}

namespace {

// Consumes `literal` at the front of `*text`.
bool Skip(std::string_view* text, std::string_view literal) {
  if (!text->starts_with(literal)) return false;
  text->remove_prefix(literal.size());
  return true;
}

// Consumes printable ASCII up to a closing quote (which it consumes too); no escapes.
bool PlainString(std::string_view* text, std::string_view* out) {
  for (size_t i = 0; i < text->size(); ++i) {
    char c = (*text)[i];
    if (c == '"') {
      *out = text->substr(0, i);
      text->remove_prefix(i + 1);
      return true;
    }
    if (c < 0x20 || c > 0x7e || c == '\\') return false;
  }
  return false;
}

// Consumes an integer as std::to_string writes it, of at most 18 digits (so it fits).
bool PlainInteger(std::string_view* text, int64_t* out) {
  bool negative = Skip(text, "-");
  size_t n = 0;
  int64_t value = 0;
  while (n < text->size() && n < 19 && (*text)[n] >= '0' && (*text)[n] <= '9') {
    value = value * 10 + ((*text)[n] - '0');
    ++n;
  }
  if (n == 0 || n > 18 || (n > 1 && (*text)[0] == '0')) return false;
  text->remove_prefix(n);
  *out = negative ? -value : value;
  return true;
}

}  // namespace

std::optional<WireView> ViewWire(std::string_view wire) {
  WireView view;
  std::string_view id;
  int64_t timestamp = 0;
  if (!Skip(&wire, "{\"id\":\"") || !PlainString(&wire, &id) || id.empty() ||
      !Skip(&wire, ",\"position\":") || !PlainInteger(&wire, &view.position) ||
      !Skip(&wire, ",\"name\":\"") || !PlainString(&wire, &view.name) ||
      !Skip(&wire, ",\"payload\":")) {
    return std::nullopt;
  }
  // The timestamp closes the text; the payload is everything before it.
  static constexpr std::string_view kTimestamp = ",\"timestamp\":";
  size_t at = wire.rfind(kTimestamp);
  if (at == std::string_view::npos || wire.size() < 2 || wire.back() != '}') return std::nullopt;
  std::string_view tail = wire.substr(at + kTimestamp.size());
  tail.remove_suffix(1);
  if (!PlainInteger(&tail, &timestamp) || !tail.empty()) return std::nullopt;
  view.payload = wire.substr(0, at);
  if (view.payload.size() < 2 || view.payload.front() != '{' || view.payload.back() != '}')
    return std::nullopt;
  return view;
}

bool IsFinalEvent(std::string_view name) {
  return name == events::kWorkflowCompleted || name == events::kWorkflowError;
}

bool IsExternalToolEvent(const Event& event) {
  if (event.name != events::kToolCalled && event.name != events::kToolResult) return false;
  auto via = event.payload.find("via");
  return via != event.payload.end() && *via == "api";
}

}  // namespace scaffold::engine
