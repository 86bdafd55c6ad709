#include "cli/postgres_cluster.h"

#include <poll.h>

#include <chrono>
#include <vector>

#include "recordings/postgres/schema.h"

namespace scaffold::cli {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ChannelOf(const std::string& node) {
  return "scaffold_node_" + node;
}

// A LISTEN target: node ids are checked to be [A-Za-z0-9_-] (serve --node-id), so quoting is
// enough.
std::string Quoted(const std::string& channel) {
  return "\"" + channel + "\"";
}

struct Message {
  int64_t id;
  std::string from;
  std::string kind;
  Json body;
};

}  // namespace

Result<std::unique_ptr<PostgresCluster>> PostgresCluster::Open(recordings::PostgresStore* store,
                                                               const std::string& url) {
  auto db = recordings::pg::Connection::Open(url);
  if (!db.ok()) return db.status();
  return std::unique_ptr<PostgresCluster>(new PostgresCluster(store, std::move(*db)));
}

PostgresCluster::PostgresCluster(recordings::PostgresStore* store,
                                 std::unique_ptr<recordings::pg::Connection> db)
    : store_(store), channel_(ChannelOf(store->node_id())), db_(std::move(db)) {}

PostgresCluster::~PostgresCluster() {
  Stop();
}

Status PostgresCluster::Listen() {
  for (const std::string& channel : {std::string("scaffold_events"),
                                     std::string("scaffold_leases"), channel_}) {
    auto r = db_->Exec("LISTEN " + Quoted(channel));
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

Status PostgresCluster::Start(Handlers handlers) {
  {
    std::lock_guard lock(mu_);
    handlers_ = std::move(handlers);
    SCAFFOLD_RETURN_IF_ERROR(Listen());
    // Messages left for a node of this name before it (re)started are stale.
    auto stale = db_->Exec("DELETE FROM node_messages WHERE to_node = $1", {store_->node_id()});
    if (!stale.ok()) return stale.status();
    auto tools = db_->Exec("DELETE FROM tool_clients WHERE node = $1", {store_->node_id()});
    if (!tools.ok()) return tools.status();
    Heartbeat();
  }
  auto on_lost = handlers_.lease_lost;
  store_->OnLeaseLost([on_lost](const std::string& id) {
    if (on_lost) on_lost(id);
  });
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void PostgresCluster::Stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  store_->OnLeaseLost(nullptr);
  std::vector<Pending> abandoned;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, p] : pending_) abandoned.push_back(std::move(p));
    pending_.clear();
  }
  for (auto& p : abandoned)
    p.done(Status(ErrorCode::kUnavailable, "this node is stopping"));
}

void PostgresCluster::Loop() {
  int64_t last_drain = 0;
  int64_t last_claim = 0;
  int64_t last_tick = 0;
  while (!stopping_) {
    int sock;
    {
      std::lock_guard lock(mu_);
      if (PQstatus(db_->handle()) != CONNECTION_OK) {
        PQreset(db_->handle());
        if (PQstatus(db_->handle()) == CONNECTION_OK && Listen().ok()) last_claim = 0;
      }
      sock = PQsocket(db_->handle());
    }
    if (sock < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      continue;
    }
    pollfd pfd{sock, POLLIN, 0};
    ::poll(&pfd, 1, 200);

    struct Commit {
      std::string id;
      int64_t last;
      int64_t lag;
    };
    std::vector<Commit> commits;
    std::vector<Message> messages;
    std::vector<Pending> expired;
    bool claim = false;
    bool drain = false;
    bool tick = false;
    int64_t now = NowMs();
    {
      std::lock_guard lock(mu_);
      PQconsumeInput(db_->handle());
      while (PGnotify* n = PQnotifies(db_->handle())) {
        std::string channel = n->relname;
        std::string payload = n->extra ? n->extra : "";
        PQfreemem(n);
        if (channel == "scaffold_events") {
          // "<session id>:<last position>:<last event's timestamp>"
          auto a = payload.find(':');
          auto b = payload.find(':', a == std::string::npos ? a : a + 1);
          if (a == std::string::npos || b == std::string::npos) continue;
          int64_t last = std::strtoll(payload.c_str() + a + 1, nullptr, 10);
          int64_t at = std::strtoll(payload.c_str() + b + 1, nullptr, 10);
          commits.push_back({payload.substr(0, a), last, at > 0 ? std::max<int64_t>(0, now - at) : 0});
        } else if (channel == "scaffold_leases") {
          claim = true;
        } else if (channel == channel_) {
          drain = true;
        }
      }
      // Polled as well: a notification lost (a reconnect) only delays a message.
      if (drain || now - last_drain >= 1000) {
        last_drain = now;
        auto rows = db_->Exec(
            "DELETE FROM node_messages WHERE to_node = $1 RETURNING id, from_node, kind, body",
            {store_->node_id()});
        if (rows.ok()) {
          for (int i = 0; i < rows->size(); ++i) {
            auto body = ParseJson(rows->TextView(i, 3));
            if (!body.ok()) continue;
            messages.push_back({rows->Int(i, 0), rows->Text(i, 1), rows->Text(i, 2),
                                std::move(*body)});
          }
        }
      }
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline_ms > now) {
          ++it;
          continue;
        }
        expired.push_back(std::move(it->second));
        it = pending_.erase(it);
      }
      if (now - last_tick >= 1000) {
        tick = true;
        last_tick = now;
        Heartbeat();
      }
      // Periodically, and when a node gave leases up: look for sessions no node drives.
      if (claim || now - last_claim >= std::max<int64_t>(store_->lease_ms() / 2, 250)) {
        claim = true;
        last_claim = now;
      }
    }
    for (const auto& c : commits) {
      if (handlers_.commit) handlers_.commit(c.id, c.last, c.lag);
    }
    for (auto& m : messages) {
      if (m.kind == "reply") {
        std::function<void(Result<Json>)> done;
        {
          std::lock_guard lock(mu_);
          auto it = pending_.find(m.body.value("re", int64_t{0}));
          if (it == pending_.end()) continue;  // answered too late
          done = std::move(it->second.done);
          pending_.erase(it);
        }
        done(m.body.contains("reply") ? m.body["reply"] : Json::object());
      } else if (m.kind == "request" && handlers_.request) {
        std::string from = m.from;
        int64_t id = m.id;
        handlers_.request(m.body, [this, from, id](Json reply) {
          (void)Post(from, "reply", Json{{"re", id}, {"reply", std::move(reply)}});
        });
      }
    }
    for (auto& p : expired) {
      p.done(Status(ErrorCode::kUnavailable,
                    "node " + p.node + " drives the session and did not answer in time"));
    }
    if (claim && handlers_.claim_orphans) handlers_.claim_orphans();
    if (tick && handlers_.tick) handlers_.tick();
  }
}

Status PostgresCluster::Post(const std::string& to, const std::string& kind, const Json& body) {
  std::lock_guard lock(mu_);
  auto r = db_->Exec(
      "WITH m AS (INSERT INTO node_messages (to_node, from_node, kind, body, created_at) VALUES "
      "($1, $2, $3, $4, $5) RETURNING id) SELECT id, pg_notify($6, '') FROM m",
      {to, store_->node_id(), kind, DumpJson(body), std::to_string(NowMs()), ChannelOf(to)});
  return r.status();
}

void PostgresCluster::Send(const std::string& node, Json request, int64_t timeout_ms,
                           std::function<void(Result<Json>)> done) {
  Status failed;
  {
    std::lock_guard lock(mu_);
    auto r = db_->Exec(
        "WITH m AS (INSERT INTO node_messages (to_node, from_node, kind, body, created_at) VALUES "
        "($1, $2, 'request', $3, $4) RETURNING id) SELECT id, pg_notify($5, '') FROM m",
        {node, store_->node_id(), DumpJson(request), std::to_string(NowMs()), ChannelOf(node)});
    if (r.ok()) {
      pending_[r->Int(0, 0)] = Pending{std::move(done), NowMs() + timeout_ms, node};
      return;
    }
    failed = r.status();
  }
  done(failed);
}

Result<bool> PostgresCluster::Claim(const std::string& session_id) {
  return store_->ClaimLease(session_id);
}

Result<std::vector<std::string>> PostgresCluster::ClaimOrphans(int max) {
  return store_->ClaimOrphans(max);
}

Status PostgresCluster::Release(const std::string& session_id) {
  return store_->ReleaseLease(session_id);
}

Status PostgresCluster::ReleaseAll() {
  return store_->ReleaseAll();
}

Result<std::string> PostgresCluster::Holder(const std::string& session_id) {
  return store_->LeaseHolder(session_id);
}

int64_t PostgresCluster::LeasesHeld() const {
  return static_cast<int64_t>(store_->HeldLeases().size());
}

void PostgresCluster::Heartbeat() {
  (void)db_->Exec(std::string("INSERT INTO nodes (id, started_at, seen_at) VALUES ($1, ") + recordings::pg::kDbNow +
                      ", " + recordings::pg::kDbNow + ") ON CONFLICT (id) DO UPDATE SET seen_at = " + recordings::pg::kDbNow,
                  {store_->node_id()});
}

Status PostgresCluster::PublishTools(const Json& offers) {
  std::lock_guard lock(mu_);
  return db_->Transaction([&]() -> Status {
    auto cleared = db_->Exec("DELETE FROM tool_clients WHERE node = $1", {store_->node_id()});
    if (!cleared.ok()) return cleared.status();
    int n = 0;
    for (const auto& offer : offers) {
      auto r = db_->Exec(
          "INSERT INTO tool_clients (node, connection, owner, seq, tools) VALUES ($1, $2, $3, "
          "$4, $5)",
          {store_->node_id(), std::to_string(++n), offer.value("owner", ""),
           std::to_string(offer.value("registeredMs", int64_t{0})),
           DumpJson(offer.value("tools", Json::array()))});
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  });
}

Result<std::string> PostgresCluster::ToolNode(const std::string& owner, const std::string& tool) {
  std::lock_guard lock(mu_);
  // Nodes not heard of for a lease are dead: their clients went with them.
  auto r = db_->Exec(std::string("SELECT t.node FROM tool_clients t JOIN nodes n ON n.id = t.node "
                                 "WHERE t.owner = $1 AND t.node <> $2 AND n.seen_at > ") +
                         recordings::pg::kDbNow +
                         " - $3 AND (t.tools::jsonb ? $4) ORDER BY t.seq DESC LIMIT 1",
                     {owner, store_->node_id(), std::to_string(store_->lease_ms()), tool});
  if (!r.ok()) return r.status();
  return r->empty() ? std::string() : r->Text(0, 0);
}

Status PostgresCluster::Ready() {
  std::lock_guard lock(mu_);
  auto r = db_->Exec("SELECT 1 FROM scaffold_meta LIMIT 1");
  return r.status();
}

}  // namespace scaffold::cli
