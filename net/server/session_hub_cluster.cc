// SessionHub with several nodes on one PostgreSQL (net/server/cluster.h): taking sessions over,
// following sessions driven elsewhere, and serving the operations other nodes send.
#include "engine/json_reader.h"
#include "net/server/session_hub.h"
#include "net/server/session_hub_entry.h"
#include "net/tools/cluster_tools.h"

namespace scaffold::net {
namespace {

// How long an operation sent to the driving node may take (an input is answered at once; a
// delete waits for the session to stop).
constexpr int64_t kPeerTimeoutMs = 15000;

Json StatusJson(const Status& s) {
  return {{"code", static_cast<int>(s.code())}, {"message", s.message()}};
}

}  // namespace

Status SessionHub::StartCluster() {
  Cluster* cluster = deps_.cluster;
  if (!cluster) return Status::Ok();
  Cluster::Handlers h;
  h.commit = [this](const std::string& id, int64_t last, int64_t lag_ms) {
    OnPeerCommit(id, last, lag_ms);
  };
  h.lease_lost = [this](const std::string& id) { OnLeaseLost(id); };
  h.claim_orphans = [this] { TakeOverOrphans(); };
  h.tick = [this] { CatchUpAll(); };  // the polling behind the notifications
  h.request = [this](const Json& request, std::function<void(Json)> reply) {
    OnPeerRequest(request, std::move(reply));
  };
  return cluster->Start(std::move(h));
}

Status SessionHub::Ready() {
  if (deps_.cluster) return deps_.cluster->Ready();
  engine::SessionFilter one;
  one.limit = 1;
  return deps_.store->ListSessions(one).status();
}

std::string SessionHub::DriverElsewhere(const std::string& id) {
  if (!deps_.cluster) return "";
  auto holder = deps_.cluster->Holder(id);
  if (!holder.ok() || *holder == deps_.cluster->node_id()) return "";
  return *holder;
}

void SessionHub::Forward(const std::string& node, Json request,
                         std::function<void(const Status&, const Json& value)> done) {
  ++deps_.metrics->peer_requests;
  deps_.cluster->Send(node, std::move(request), kPeerTimeoutMs,
                      [done = std::move(done)](Result<Json> reply) {
                        if (!reply.ok()) return done(reply.status(), Json());
                        JsonReader in(*reply);
                        int64_t code = in.OptInt("code", 0, 100).value_or(0);
                        std::string message = in.OptString("message").value_or("");
                        if (!in.ok())
                          return done(Internal("a malformed answer from a node"), Json());
                        if (code != 0)
                          return done(Status(static_cast<ErrorCode>(code), message), Json());
                        done(Status::Ok(), reply->contains("value") ? (*reply)["value"] : Json());
                      });
}

void SessionHub::OnPeerRequest(const Json& request, std::function<void(Json)> reply) {
  if (request.is_object() && request.value("op", Json()) == "client_tool") {
    if (!deps_.cluster_tools) return reply(StatusJson(InvalidArgument("no client tools here")));
    return deps_.cluster_tools->Serve(request, std::move(reply));
  }
  JsonReader in(request);
  std::string op = in.String("op");
  std::string owner = in.String("owner", true);
  std::string id = in.String("id");
  if (!in.ok()) return reply(StatusJson(in.status()));
  auto answer_status = [reply](const Status& s) { reply(StatusJson(s)); };
  auto answer_bool = [reply](Result<bool> r) {
    if (!r.ok()) return reply(StatusJson(r.status()));
    Json out = StatusJson(Status::Ok());
    out["value"] = *r;
    reply(std::move(out));
  };
  if (op == "input") {
    JsonReader a = in.Child("answer", true);
    engine::InputAnswer answer;
    answer.id = a.String("id");
    answer.value = a.Value("value");
    answer.approved = a.OptBool("approved");
    if (!in.ok()) return reply(StatusJson(in.status()));
    return SubmitInput(owner, id, std::move(answer), answer_status, true);
  }
  if (op == "tool") {
    std::string name = in.String("name");
    Json input = in.Value("input");
    if (!in.ok()) return reply(StatusJson(in.status()));
    return CallTool(
        owner, id, name, std::move(input),
        [reply](Result<engine::ToolCallOutcome> r) {
          if (!r.ok()) return reply(StatusJson(r.status()));
          Json out = StatusJson(Status::Ok());
          out["value"] = {{"callId", r->call_id},
                          {"output", r->result.output},
                          {"isError", r->result.is_error}};
          reply(std::move(out));
        },
        true);
  }
  if (op == "pause") return Pause(owner, id, answer_bool, true);
  if (op == "resume") return Resume(owner, id, answer_bool, true);
  if (op == "delete") return Delete(owner, id, answer_status, true);
  reply(StatusJson(InvalidArgument("unknown operation \"" + op + "\"")));
}

void SessionHub::OnPeerCommit(const std::string& id, int64_t last, int64_t lag_ms) {
  ++deps_.metrics->notify_count;
  deps_.metrics->notify_lag_ms_sum += lag_ms;
  int64_t seen = deps_.metrics->notify_lag_ms_max;
  while (lag_ms > seen && !deps_.metrics->notify_lag_ms_max.compare_exchange_weak(seen, lag_ms)) {
  }
  std::shared_ptr<Entry> e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;  // nobody here follows it
    e = it->second;
  }
  OnStrand(e, [this, last](Entry* entry) {
    if (entry && entry->following && last > entry->delivered) CatchUp(entry);
  });
}

void SessionHub::CatchUp(Entry* e) {
  constexpr int64_t kPage = 1000;
  while (e->following && !e->subscribers.empty()) {
    auto page = deps_.store->ReadEvents(e->id, e->delivered, kPage);
    if (!page.ok()) {
      if (page.status().code() == ErrorCode::kNotFound) {
        Forget(e);  // deleted through another node
      }
      return;
    }
    e->Fanout(*page);
    if (static_cast<int64_t>(page->size()) < kPage) return;
  }
}

void SessionHub::CatchUpAll() {
  std::vector<std::shared_ptr<Entry>> followed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, e] : entries_) followed.push_back(e);
  }
  for (auto& e : followed) {
    OnStrand(e, [this](Entry* entry) {
      if (entry && entry->following && !entry->ended) CatchUp(entry);
    });
  }
}

void SessionHub::OnLeaseLost(const std::string& id) {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    e = it->second;
  }
  OnStrand(e, [](Entry* entry) {
    if (!entry || !entry->session) return;
    // Its appends are refused from now on (fencing): stop it without recording anything.
    entry->lease_lost = true;
    entry->session->Cancel();
  });
}

int SessionHub::RunningHere() {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (auto& [id, e] : entries_) n += e->running ? 1 : 0;
  return n;
}

void SessionHub::TakeOverOrphans() {
  Cluster* cluster = deps_.cluster;
  deps_.metrics->leases_held = cluster->LeasesHeld();
  int room = deps_.max_running > 0 ? deps_.max_running - RunningHere() : 1000;
  if (room <= 0) return;
  auto claimed = cluster->ClaimOrphans(room);
  if (!claimed.ok()) return;  // the database is away: the next round tries again
  for (const auto& id : *claimed) {
    auto info = deps_.store->GetSession(id);
    if (!info.ok()) {
      (void)cluster->Release(id);
      continue;
    }
    ++deps_.metrics->takeovers;
    OnStrand(GetEntry(id, info->owner), [this](Entry* e) {
      if (!e || e->session) return;
      CatchUp(e);  // what its followers here had not heard yet, before this node appends
      e->following = false;
      ContinueOrFail(e);
    });
  }
}

}  // namespace scaffold::net
