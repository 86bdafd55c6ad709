#include "cli/remote_session.h"

#include "engine/json_reader.h"

#include <cstdio>
#include <cstdlib>

#include "cli/common.h"

namespace scaffold::cli {
namespace {

// A request made before the session is driven, waited for on `loop`.
net::RemoteResponse Call(net::RemoteClient* client, engine::EventLoop* loop,
                         const std::string& method, const std::string& path,
                         const Json& body = nullptr) {
  std::optional<net::RemoteResponse> out;
  client->Request(method, path, body, [&](net::RemoteResponse r) {
    out = std::move(r);
    loop->Stop();
  });
  loop->Run();
  return out.value_or(net::RemoteResponse{0, nullptr, "interrupted"});
}

// Prints why a request failed, naming the server; returns the exit code.
int Report(const net::RemoteClient& client, const std::string& what, const net::RemoteResponse& r) {
  PrintError(client.base_url() + ": " + what + ": " + net::RemoteErrorMessage(r));
  if (r.status == 400 || r.status == 401 || r.status == 404 || r.status == 409) return kExitUsage;
  return kExitFailed;
}

// A workflow's "prices" map ({model: {input, output, cache_read?, cache_write?}}).
std::map<std::string, engine::ModelPrice> PricesFromJson(const Json& prices) {
  std::map<std::string, engine::ModelPrice> out;
  if (!prices.is_object()) return out;
  for (const auto& [model, p] : prices.items()) {
    if (!p.is_object()) continue;
    JsonReader in(p);
    engine::ModelPrice price{in.OptNumber("input").value_or(0), in.OptNumber("output").value_or(0),
                             in.OptNumber("cache_read").value_or(0),
                             in.OptNumber("cache_write").value_or(0)};
    if (in.ok()) out[model] = price;  // a server's price it cannot read is not shown
  }
  return out;
}

int Drive(net::RemoteClient* client, engine::EventLoop* loop, const std::string& id,
          RemoteSession::Kind kind, int64_t caught_up_at,
          const std::map<std::string, engine::ModelPrice>& prices, const SessionFlags& flags) {
  auto options = MakeDriveOptions(flags, prices);
  if (!options.ok()) {
    PrintError(options.status().message());
    return kExitUsage;
  }
  RemoteSession session(client, loop, id, kind, caught_up_at);
  return DriveSession(&session, loop, *options);
}

}  // namespace

RemoteSession::RemoteSession(net::RemoteClient* client, engine::EventLoop* loop, std::string id,
                             Kind kind, int64_t caught_up_at)
    : client_(client), loop_(loop), id_(std::move(id)), kind_(kind), caught_up_at_(caught_up_at) {}

void RemoteSession::Start(engine::EventSink* sink, std::function<void(const Json&)> on_ask,
                          std::function<void(const engine::SessionEnd&)> done) {
  sink_ = sink;
  on_ask_ = std::move(on_ask);
  done_ = std::move(done);
  net::FollowCallbacks callbacks;
  callbacks.on_events = [this](std::vector<engine::EventPtr> events) {
    OnEvents(std::move(events));
  };
  callbacks.on_reconnecting = [this](const std::string& why, int64_t position) {
    std::fprintf(stderr, "scaffold: %s: %s; reconnecting after position %lld\n",
                 client_->base_url().c_str(), why.c_str(), static_cast<long long>(position));
  };
  callbacks.on_end = [this](const Status& s) {
    if (s.ok() || ended_) return;
    PrintError("session " + id_ + " on " + client_->base_url() + ": " + s.message());
    std::fprintf(stderr, "  reattach: %s\n", ReattachCommand().c_str());
    End(engine::SessionEnd::Cancelled());
  };
  stream_ = client_->Follow(id_, 0, std::move(callbacks));
}

void RemoteSession::OnEvents(std::vector<engine::EventPtr> events) {
  if (ended_) return;
  const engine::Event* final_event = nullptr;
  for (const auto& e : events) {
    const std::string& name = e->name;
    if (name == engine::events::kInputRequested) {
      std::string ask = e->payload.value("id", "");
      requests_[ask] = e->payload;
      pending_ = ask;
    } else if (name == engine::events::kInputReceived) {
      if (pending_ && e->payload.value("id", "") == *pending_) pending_.reset();
    } else if (name == engine::events::kSessionPaused) {
      paused_ = true;
      pending_.reset();
    } else if (name == engine::events::kSessionResumed) {
      paused_ = false;
      if (e->payload.contains("waitingFor")) pending_ = e->payload["waitingFor"].get<std::string>();
    } else if (engine::IsFinalEvent(name)) {
      final_event = e.get();
    }
    last_ = e->position;
  }
  sink_->OnEvents(events);
  if (final_event) {
    const Json& p = final_event->payload;
    if (final_event->name == engine::events::kWorkflowCompleted) {
      return End(engine::SessionEnd::Completed(p.value("result", Json())));
    }
    // The event's shape was checked when it arrived (CheckEventShape).
    const Json error_json = p.value("error", Json::object());
    JsonReader error(error_json);
    return End(engine::SessionEnd::Failed(
        Status(ErrorCode::kAborted, error.OptString("message").value_or("the workflow failed")),
        error.OptString("code").value_or("")));
  }
  if (last_ < caught_up_at_) return;  // still replaying what happened before we joined
  if (paused_) return End(engine::SessionEnd::Paused());
  if (pending_ && !asked_.count(*pending_) && requests_.count(*pending_)) {
    asked_.insert(*pending_);
    on_ask_(requests_[*pending_]);
  }
}

void RemoteSession::End(const engine::SessionEnd& end) {
  if (ended_) return;
  ended_ = true;
  stream_.reset();
  done_(end);
}

void RemoteSession::SubmitInput(engine::InputAnswer answer,
                                std::function<void(const Status&)> reply) {
  Json body = {{"id", answer.id}, {"value", answer.value}};
  if (answer.approved) body["approved"] = *answer.approved;
  client_->Request("POST", "/sessions/" + id_ + "/input", body, [reply](net::RemoteResponse r) {
    if (r.status == 200) return reply(Status::Ok());
    std::string message = net::RemoteErrorMessage(r);
    if (r.status == 409) {
      // Someone else answered first; their answer arrives with the events.
      std::fprintf(stderr, "scaffold: not sent: %s\n", message.c_str());
      return reply(Status::Ok());
    }
    if (r.status == 400) return reply(InvalidArgument(message));
    reply(Status(ErrorCode::kUnavailable, message));
  });
}

bool RemoteSession::Interrupt() {
  if (kind_ == Kind::kAttached) {
    Leave();
    return false;
  }
  client_->Request(
      "POST", "/sessions/" + id_ + "/pause", Json::object(), [this](net::RemoteResponse r) {
        if (r.status == 200) return;  // session:paused comes with the events and ends the run
        PrintError("could not pause session " + id_ + ": " + net::RemoteErrorMessage(r));
        End(engine::SessionEnd::Cancelled());
      });
  return true;
}

void RemoteSession::Leave() {
  stream_.reset();
  loop_->Post([this] { End(engine::SessionEnd::Cancelled()); });
}

std::string RemoteSession::ResumeCommand() const {
  return "scaffold attach " + client_->base_url() + " " + id_ + " --resume";
}

std::string RemoteSession::AnswerCommand(const std::string& ask_id) const {
  return "scaffold attach " + client_->base_url() + " " + id_ + " --answer '" + ask_id + "=...'";
}

std::string RemoteSession::EventsCommand() const {
  return "curl -N '" + client_->base_url() + "/sessions/" + id_ + "/events?history=true'";
}

std::string RemoteSession::ForkCommand(int64_t position) const {
  return "curl -X POST " + client_->base_url() + "/sessions/" + id_ +
         "/fork -H 'Content-Type: application/json' -d " +
         "'{\"position\": " + std::to_string(position) + "}'";
}

std::string RemoteSession::ConsoleUrl() const {
  return client_->base_url() + "/#/sessions/" + id_;
}

std::string RemoteSession::ReattachCommand() const {
  return "scaffold attach " + client_->base_url() + " " + id_;
}

Result<RemoteFlags> ResolveRemote(const std::string& url, const std::string& token,
                                  const std::string& flag) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return InvalidArgument(flag + " " + url + ": expected http://HOST:PORT");
  }
  RemoteFlags remote{url, token};
  if (remote.token.empty()) {
    if (const char* env = std::getenv("SCAFFOLD_TOKEN")) remote.token = env;
  }
  return remote;
}

int AttachRemote(const RemoteFlags& remote, const std::string& id, bool resume,
                 const SessionFlags& flags) {
  engine::EventLoop loop;
  net::CurlLoop curl;
  net::RemoteClient client(&curl, &loop, remote.url, remote.token);
  auto info = Call(&client, &loop, "GET", "/sessions/" + id);
  if (info.status != 200) return Report(client, "session " + id, info);
  static const Json kNone = Json::object();
  JsonReader body(info.body.is_object() ? info.body : kNone);
  int64_t caught_up_at = body.OptInt("eventCount", 0).value_or(0);
  if (!body.ok()) return Report(client, "session " + id, info);
  if (resume) {
    auto r = Call(&client, &loop, "POST", "/sessions/" + id + "/resume", Json::object());
    if (r.status != 200) return Report(client, "resume " + id, r);
    // The session:resumed about to be appended ends the pause the history shows.
    if (r.body.is_object() && r.body.value("wasResumed", Json(false)) == true) ++caught_up_at;
  }
  return Drive(&client, &loop, id, RemoteSession::Kind::kAttached, caught_up_at,
               PricesFromJson(info.body.value("prices", Json())), flags);
}

int RunRemote(const RemoteFlags& remote, const engine::Workflow& workflow,
              const std::string& workflow_sha256, const Json& input, const SessionFlags& flags) {
  engine::EventLoop loop;
  net::CurlLoop curl;
  net::RemoteClient client(&curl, &loop, remote.url, remote.token);
  auto created =
      Call(&client, &loop, "POST", "/sessions",
           {{"workflow", workflow.name}, {"input", input}, {"workflowSha256", workflow_sha256}});
  if (created.status != 201) return Report(client, "starting " + workflow.name, created);
  std::string id;
  if (created.body.is_object() && created.body.contains("sessionId") &&
      created.body["sessionId"].is_string())
    id = created.body["sessionId"].get<std::string>();
  if (id.empty()) return Report(client, "starting " + workflow.name + " (no sessionId)", created);
  return Drive(&client, &loop, id, RemoteSession::Kind::kStarted, 0, workflow.prices, flags);
}

}  // namespace scaffold::cli
