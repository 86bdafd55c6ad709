#include "net/server/api.h"

#include <atomic>
#include <cstdio>
#include <set>

#include "engine/json_reader.h"
#include "engine/state.h"
#include "engine/workflow.h"

namespace scaffold::net {
namespace {

std::vector<std::string> PathParts(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string part =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

// A JSON object body, or the 400 to send.
Result<Json> ObjectBody(const ApiRequest& r, bool empty_ok) {
  if (r.body.empty() && empty_ok) return Json::object();
  auto body = ParseJson(r.body);
  if (!body.ok()) return InvalidArgument("the body is not usable JSON: " + body.status().message());
  if (!body->is_object())
    return InvalidArgument(std::string("the body must be a JSON object, got ") +
                           JsonTypeName(*body));
  return body;
}

Json SessionSummary(const SessionView& s) {
  Json out = {{"sessionId", s.info.id},
              {"workflow", s.info.workflow_name},
              {"running", s.running},
              {"status", engine::SessionStatusName(s.info.status)},
              {"eventCount", s.info.event_count},
              {"createdAt", s.info.created_at},
              {"lastEventAt", s.info.last_event_at ? Json(s.info.last_event_at) : Json(nullptr)}};
  // Stopped by the server because its log could not be written: paused, with the reason.
  if (!s.stopped.ok()) {
    out["error"] = {{"code", ApiResponse::CodeOf(s.stopped)}, {"message", s.stopped.message()}};
  }
  return out;
}

}  // namespace

ApiResponse ApiResponse::WithJson(int status, const Json& body) {
  ApiResponse r;
  r.status = status;
  r.body = DumpJson(body);
  return r;
}

ApiResponse ApiResponse::Error(int status, const std::string& code, const std::string& message) {
  return WithJson(status, {{"error", {{"code", code}, {"message", message}}}});
}

namespace {
struct StatusMapping {
  int http;
  const char* code;
};

StatusMapping MappingOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return {200, "ok"};
    case ErrorCode::kInvalidArgument:
      return {400, "bad_request"};
    case ErrorCode::kNotFound:
      return {404, "not_found"};
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return {409, "conflict"};
    case ErrorCode::kResourceExhausted:
      return {413, "payload_too_large"};
    case ErrorCode::kUnavailable:
      return {503, "unavailable"};
    case ErrorCode::kStorageFull:
      return {503, "storage_full"};
    default:
      return {500, "internal"};
  }
}
}  // namespace

int ApiResponse::HttpStatusOf(const Status& s) {
  return MappingOf(s.code()).http;
}

std::string ApiResponse::CodeOf(const Status& s) {
  return MappingOf(s.code()).code;
}

ApiResponse ApiResponse::FromStatus(const Status& s) {
  if (s.ok()) return WithJson(200, {{"ok", true}});
  StatusMapping m = MappingOf(s.code());
  // A bad request says where in the body the problem is.
  return Error(m.http, m.code,
               s.code() == ErrorCode::kInvalidArgument ? s.ToString() : s.message());
}

std::optional<int64_t> ParsePosition(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoll(text);
}

std::string EscapeForLog(std::string_view text) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  auto hex = [&](unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
      // A valid multi-byte character is kept; C1 controls (U+0080..U+009F) are not.
      if (len > 1 && i + len <= text.size() && IsValidUtf8(text.substr(i, len)) &&
          !(len == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0)) {
        out.append(text.substr(i, len));
        i += len;
      } else {
        hex(c);
        ++i;
      }
      continue;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      hex(c);
    } else if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

Result<std::pair<std::string, std::map<std::string, std::string>>> SplitTarget(
    const std::string& target) {
  auto decode = [](std::string_view in, bool plus_is_space) -> std::optional<std::string> {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '%') {
        if (i + 2 >= in.size() || !isxdigit(static_cast<unsigned char>(in[i + 1])) ||
            !isxdigit(static_cast<unsigned char>(in[i + 2]))) {
          return std::nullopt;
        }
        out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else if (in[i] == '+' && plus_is_space) {
        out += ' ';
      } else {
        out += in[i];
      }
    }
    return out;
  };
  size_t q = target.find('?');
  auto path = decode(std::string_view(target).substr(0, q), false);
  if (!path) return InvalidArgument("malformed percent-encoding in the path");
  std::map<std::string, std::string> query;
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(target).substr(q + 1);
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      size_t eq = pair.find('=');
      auto key = decode(pair.substr(0, eq), true);
      auto value = decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
      if (!key || !value) return InvalidArgument("malformed percent-encoding in the query");
      if (!key->empty()) query[*key] = *value;
      if (amp == std::string_view::npos) break;
      rest = rest.substr(amp + 1);
    }
  }
  return std::make_pair(std::move(*path), std::move(query));
}

Api::Api(SessionHub* hub, Metrics* metrics) : hub_(hub), metrics_(metrics), mcp_(hub) {}

Result<engine::InputAnswer> Api::ReadAnswer(const std::string& session_id, const Json& body) const {
  engine::InputAnswer answer;
  JsonReader in(body);
  if (body.contains("event")) {
    // An answer as an event, as Open Scaffold clients send it: {id, name, payload, timestamp,
    // causedBy?}. The payload is {id?, value, approved?} or {response: text}; causedBy, the
    // id of the input:requested event, names the ask when the payload does not.
    JsonReader event = in.Child("event", true);
    std::string name = event.OptString("name").value_or(engine::events::kInputReceived);
    JsonReader payload = event.Child("payload", true);
    std::optional<std::string> caused_by = event.OptString("causedBy");
    answer.id = payload.OptString("id").value_or("");
    answer.value = payload.Has("value") ? payload.Value("value") : payload.Value("response");
    answer.approved = payload.OptBool("approved");
    if (!in.ok()) return in.status();
    if (name != engine::events::kInputReceived && name != "input:response") {
      return InvalidArgument(
          "only an answer (an input:received event) can be sent here, not " + name.substr(0, 64),
          "/event/name");
    }
    if (answer.id.empty() && caused_by) {
      auto position = hub_->store()->FindEvent(session_id, *caused_by);
      if (!position.ok()) return position.status();
      std::optional<engine::EventPtr> request;
      if (*position) {
        auto read = hub_->store()->ReadEvents(session_id, **position - 1, 1);
        if (!read.ok()) return read.status();
        if (!read->empty() && (*read)[0]->name == engine::events::kInputRequested)
          request = (*read)[0];
      }
      if (!request) {
        return InvalidArgument(
            "no input:requested event of this session has id " + caused_by->substr(0, 64),
            "/event/causedBy");
      }
      answer.id = (*request)->payload.value("id", Json("")).get<std::string>();
    }
    return answer;
  }
  if (body.contains("value") || body.contains("id")) {
    answer.id = in.OptString("id").value_or("");
    answer.value = in.Value("value");
  } else if (body.contains("input")) {
    answer.value = in.Value("input");
  } else {
    return InvalidArgument(
        "send {\"input\": ...}, {\"id\", \"value\", \"approved\"?} or {\"event\": ...}");
  }
  answer.approved = in.OptBool("approved");
  if (!in.ok()) return in.status();
  return answer;
}

std::optional<Result<EventStreamRoute>> Api::MatchEventStream(const ApiRequest& r) const {
  auto parts = PathParts(r.path);
  if (r.method != "GET" || parts.size() != 3 || parts[0] != "sessions" || parts[2] != "events")
    return std::nullopt;
  EventStreamRoute route;
  route.session_id = parts[1];
  auto flag = [&](const char* name) {
    auto it = r.query.find(name);
    return it != r.query.end() && (it->second == "true" || it->second == "1");
  };
  route.close_at_end = flag("closeAtEnd");
  if (auto it = r.headers.find("last-event-id"); it != r.headers.end() && !it->second.empty()) {
    if (auto p = ParsePosition(it->second)) {
      route.from_position = *p + 1;
    } else {
      // An event id, as servers that put event ids in `id:` lines have clients send. One this
      // session does not have (another server's) replays the session from its start.
      auto found = hub_->store()->FindEvent(route.session_id, it->second);
      route.from_position = found.ok() && *found ? **found + 1 : 1;
    }
  } else if (auto it = r.query.find("fromPosition"); it != r.query.end()) {
    auto p = ParsePosition(it->second);
    if (!p) {
      return Result<EventStreamRoute>(
          InvalidArgument("fromPosition must be a position (0 or more; 0 and 1 are the start)"));
    }
    route.from_position = std::max<int64_t>(*p, 1);
  } else if (flag("history")) {
    route.from_position = 1;
  }
  return Result<EventStreamRoute>(route);
}

ApiResponse Api::Sessions(const ApiRequest& r) {
  if (r.method == "GET") {
    auto list = hub_->List(r.user);
    if (!list.ok()) return ApiResponse::FromStatus(list.status());
    Json sessions = Json::array();
    for (const auto& s : *list) sessions.push_back(SessionSummary(s));
    return ApiResponse::WithJson(200, {{"sessions", sessions}});
  }
  if (r.method != "POST")
    return ApiResponse::Error(405, "method_not_allowed", "use GET or POST on /sessions");
  auto body = ObjectBody(r, false);
  if (!body.ok()) return ApiResponse::FromStatus(body.status());
  JsonReader in(*body);
  std::string workflow = in.OptString("workflow").value_or("");
  std::optional<std::string> sha256 = in.OptString("workflowSha256");
  if (!in.ok()) return ApiResponse::FromStatus(in.status());
  // A client may pin the exact workflow text it expects with its sha256 (scaffold run --server).
  if (sha256) {
    const auto& served = hub_->workflows();
    auto w = served.find(workflow.empty() && served.size() == 1 ? served.begin()->first : workflow);
    if (w != served.end() && w->second.sha256 != *sha256) {
      return ApiResponse::Error(409, "conflict",
                                "the server's workflow \"" + w->first +
                                    "\" is not the same file as yours (sha256 " +
                                    w->second.sha256.substr(0, 12) + ")");
    }
  }

  auto id = hub_->Create(r.user, workflow, in.Value("input"));
  if (!id.ok()) return ApiResponse::FromStatus(id.status());
  return ApiResponse::WithJson(201, {{"sessionId", *id}});
}

void Api::Session(const ApiRequest& r, const std::vector<std::string>& parts,
                  std::function<void(ApiResponse)> reply) {
  const std::string& id = parts[1];
  std::string action = parts.size() > 2 ? parts[2] : "";
  auto wrong_method = [&](const char* allowed) {
    reply(ApiResponse::Error(405, "method_not_allowed",
                             std::string("use ") + allowed + " on " + r.path));
  };
  if (action.empty()) {
    if (r.method == "DELETE") {
      return hub_->Delete(r.user, id,
                          [reply](const Status& s) { reply(ApiResponse::FromStatus(s)); });
    }
    if (r.method != "GET") return wrong_method("GET or DELETE");
    auto s = hub_->Find(r.user, id);
    if (!s.ok()) return reply(ApiResponse::FromStatus(s.status()));
    Json body = SessionSummary(*s);
    body["updatedAt"] = s->info.updated_at;
    body["input"] = s->info.input;
    body["workflowSha256"] = s->info.workflow_sha256;
    // The workflow's own prices, so a terminal attached to the session shows the same cost.
    auto source = ParseJson(s->info.workflow_source);
    if (source.ok() && source->is_object() && source->contains("prices"))
      body["prices"] = (*source)["prices"];

    if (!s->info.parent_id.empty()) {
      body["parentSessionId"] = s->info.parent_id;
      body["forkPosition"] = s->info.fork_position;
    }
    return reply(ApiResponse::WithJson(200, body));
  }
  static const std::set<std::string> kActions = {"state", "input",  "pause",    "resume", "fork",
                                                 "tools", "events", "workflow", "usage"};
  if (!kActions.count(action) || (parts.size() > 3) != (action == "tools") || parts.size() > 4) {
    return reply(ApiResponse::Error(404, "not_found", "no route " + r.path));
  }
  if (action == "events") return wrong_method("GET");  // GET is served as an event stream
  if (action == "workflow" || action == "usage") {
    if (r.method != "GET") return wrong_method("GET");
    auto s = hub_->Find(r.user, id);
    if (!s.ok()) return reply(ApiResponse::FromStatus(s.status()));
    return reply(action == "workflow" ? SessionWorkflow(*s) : SessionUsage(*s));
  }
  if (action == "state") {
    if (r.method != "GET") return wrong_method("GET");
    return reply(SessionState(r, id));
  }
  if (r.method != "POST") return wrong_method("POST");
  auto body = ObjectBody(r, action == "pause" || action == "resume" || action == "fork");
  if (!body.ok()) return reply(ApiResponse::FromStatus(body.status()));
  if (action == "input") {
    auto answer = ReadAnswer(id, *body);
    if (!answer.ok()) return reply(ApiResponse::FromStatus(answer.status()));
    return hub_->SubmitInput(r.user, id, std::move(answer).value(),
                             [reply](const Status& s) { reply(ApiResponse::FromStatus(s)); });
  }
  if (action == "pause" || action == "resume") {
    bool pause = action == "pause";
    auto done = [reply, pause](Result<bool> changed) {
      if (!changed.ok()) return reply(ApiResponse::FromStatus(changed.status()));
      reply(ApiResponse::WithJson(200,
                                  {{"ok", true}, {pause ? "wasPaused" : "wasResumed", *changed}}));
    };
    return pause ? hub_->Pause(r.user, id, done) : hub_->Resume(r.user, id, done);
  }
  if (action == "fork") {
    JsonReader in(*body);
    std::optional<int64_t> position = in.OptInt("position", 0);
    if (!in.ok()) return reply(ApiResponse::FromStatus(in.status()));
    auto fork = hub_->Fork(r.user, id, position);
    if (!fork.ok()) return reply(ApiResponse::FromStatus(fork.status()));
    return reply(ApiResponse::WithJson(201, {{"sessionId", fork->session_id},
                                             {"originalSessionId", id},
                                             {"eventsCopied", fork->events_copied}}));
  }
  // action == "tools": {input} -> the client tool's {callId, output, isError}. Failures of the
  // tool itself (no client, timeout, ...) are results with isError, like an agent gets them.
  if (parts.size() != 4 || parts[3].empty())
    return reply(ApiResponse::Error(404, "not_found", "no route " + r.path + " (name the tool)"));
  Json input = body->contains("input") ? (*body)["input"] : Json::object();  // any JSON value
  hub_->CallTool(r.user, id, parts[3], std::move(input),
                 [reply](Result<engine::ToolCallOutcome> outcome) {
                   if (!outcome.ok()) return reply(ApiResponse::FromStatus(outcome.status()));
                   reply(ApiResponse::WithJson(200, {{"callId", outcome->call_id},
                                                     {"output", outcome->result.output},
                                                     {"isError", outcome->result.is_error}}));
                 });
}

void Api::Handle(const ApiRequest& r, std::function<void(ApiResponse)> reply) {
  ++metrics_->http_requests;
  // The last resort: a bug reached by some request fails that request, never the server.
  auto replied = std::make_shared<std::atomic<bool>>(false);
  auto once = [reply = std::move(reply), replied](ApiResponse response) {
    if (!replied->exchange(true)) reply(std::move(response));
  };
  try {
    Route(r, once);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scaffold: internal error in %s %s: %s\n", r.method.c_str(),
                 EscapeForLog(r.path).c_str(), e.what());
    once(ApiResponse::Error(500, "internal", "internal error: " + std::string(e.what())));
  }
}

void Api::Route(const ApiRequest& r, std::function<void(ApiResponse)> reply) {
  auto parts = PathParts(r.path);
  if (parts.empty()) return reply(ApiResponse::Error(404, "not_found", "no route /"));
  if (parts[0] == "healthz" && parts.size() == 1)
    return reply(ApiResponse::WithJson(200, {{"ok", true}}));
  if (parts[0] == "readyz" && parts.size() == 1) {
    // Ready to serve: the database answers and its schema is in place (it was migrated when
    // the server opened it). A load balancer sends no traffic here while this fails.
    Status ready = hub_->Ready();
    if (!ready.ok())
      return reply(
          ApiResponse::Error(503, "not_ready", "the database does not answer: " + ready.message()));
    return reply(ApiResponse::WithJson(200, {{"ready", true}}));
  }
  if (parts[0] == "metrics" && parts.size() == 1) {
    std::map<std::string, int64_t> counts;
    if (auto c = hub_->store()->CountSessions({}); c.ok()) {
      for (const auto& [status, n] : *c) counts[engine::SessionStatusName(status)] = n;
    }
    ApiResponse res;
    res.content_type = "text/plain; version=0.0.4";
    res.body = metrics_->Render(counts);
    return reply(res);
  }
  if (parts[0] == "workflows" && parts.size() == 1) {
    if (r.method != "GET")
      return reply(ApiResponse::Error(405, "method_not_allowed", "use GET on /workflows"));
    Json list = Json::array();
    for (const auto& [name, w] : hub_->workflows()) {
      Json item = {{"name", name}, {"description", w.workflow->description}};
      if (w.workflow->input_schema) item["inputSchema"] = w.workflow->input_schema->source();
      list.push_back(std::move(item));
    }
    return reply(ApiResponse::WithJson(200, {{"workflows", list}}));
  }
  if (parts[0] == "mcp" && parts.size() == 1) return mcp_.Handle(r, std::move(reply));
  if (parts[0] == "sessions") {
    if (parts.size() == 1) return reply(Sessions(r));
    return Session(r, parts, std::move(reply));
  }
  reply(ApiResponse::Error(404, "not_found", "no route " + r.path));
}

}  // namespace scaffold::net
