#include "recordings/postgres/postgres_store.h"

#include <random>

#include "engine/uuid.h"
#include "recordings/postgres/schema.h"
#include "recordings/sha256.h"
#include "recordings/stored_rows.h"

namespace scaffold::recordings {

using engine::EventPtr;
using engine::SessionInfo;

namespace {

using pg::kDbNow;

constexpr int kEventsPerInsert = 1000;

bool Runs(engine::SessionStatus s) {
  return s == engine::SessionStatus::kRunning || s == engine::SessionStatus::kWaiting;
}

std::string RandomNodeId() {
  return "node-" + engine::NewUuid().substr(0, 8);
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url, Access access,
                                                           Options options) {
  auto db = pg::Connection::Open(url);
  if (!db.ok()) return db.status();
  SCAFFOLD_RETURN_IF_ERROR(pg::PrepareSchema(**db, access == Access::kReadOnly));
  if (access == Access::kReadOnly) {
    // The database itself refuses every write on this connection.
    auto ro = (*db)->Exec("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
    if (!ro.ok()) return ro.status();
  }
  if (options.lease_ms < 300) options.lease_ms = 300;
  std::unique_ptr<pg::Connection> lease_db;
  if (access == Access::kReadWrite) {
    // A process stopped in the middle of a transaction (SIGSTOP, a stall, a paused VM) would
    // keep the session row locked, and no other node could take the session over: the server
    // ends such a transaction well within the lease time, and fencing refuses the rest.
    Status limit = (*db)->Setup("SET idle_in_transaction_session_timeout = " +
                                std::to_string(std::max<int64_t>(options.lease_ms / 2, 150)));
    if (!limit.ok()) return limit;
    auto second = pg::Connection::Open(url);
    if (!second.ok()) return second.status();
    lease_db = std::move(*second);
  }
  if (options.node_id.empty()) options.node_id = RandomNodeId();
  return std::unique_ptr<PostgresStore>(
      new PostgresStore(url, std::move(options), std::move(*db), std::move(lease_db)));
}

PostgresStore::PostgresStore(std::string url, Options options, std::unique_ptr<pg::Connection> db,
                             std::unique_ptr<pg::Connection> lease_db)
    : url_(std::move(url)),
      options_(std::move(options)),
      db_(std::move(db)),
      lease_db_(std::move(lease_db)) {
  if (lease_db_) renewer_ = std::thread([this] { RenewLoop(); });
}

PostgresStore::~PostgresStore() {
  {
    std::lock_guard lock(leases_mu_);
    stopping_ = true;
  }
  renew_cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
}

std::string PostgresStore::Describe() const {
  return pg::DescribeUrl(url_);
}

Result<int64_t> PostgresStore::SessionSeq(const std::string& id) {
  auto r = db_->Exec("SELECT seq FROM sessions WHERE id = $1", {id});
  if (!r.ok()) return r.status();
  if (r->empty()) return Status(ErrorCode::kNotFound, "no session " + id);
  return r->Int(0, 0);
}

Status PostgresStore::InsertSession(const SessionInfo& info, bool leased) {
  std::string sha =
      info.workflow_sha256.empty() ? Sha256Hex(info.workflow_source) : info.workflow_sha256;
  auto r = db_->Exec(
      std::string("INSERT INTO sessions (id, owner, workflow_name, workflow_source, "
                  "workflow_sha256, input, status, parent_id, fork_position, created_at, "
                  "updated_at, redact, lease_owner, lease_until, lease_epoch) VALUES ($1, $2, $3, "
                  "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text, CASE WHEN $13::text IS NULL THEN 0 "
                  "ELSE ") +
          kDbNow + " + $14::bigint END, CASE WHEN $13::text IS NULL THEN 0 ELSE 1 END)",
      {info.id, info.owner, info.workflow_name, info.workflow_source, sha, DumpJson(info.input),
       engine::SessionStatusName(info.status),
       info.parent_id.empty() ? pg::Param() : pg::Param(info.parent_id),
       std::to_string(info.fork_position), std::to_string(info.created_at),
       std::to_string(info.updated_at), DumpJson(Json(info.redact)),
       leased ? pg::Param(options_.node_id) : pg::Param(), std::to_string(options_.lease_ms)});
  if (r.status().code() == ErrorCode::kFailedPrecondition)
    return Status(ErrorCode::kAlreadyExists, "a session with id " + info.id + " already exists");
  return r.status();
}

Status PostgresStore::CreateSession(const SessionInfo& info) {
  // The creator of a session that runs drives it, so it holds its lease from the start.
  bool leased = Runs(info.status) && lease_db_;
  {
    std::lock_guard lock(mu_);
    SCAFFOLD_RETURN_IF_ERROR(InsertSession(info, leased));
  }
  if (leased) {
    std::lock_guard lock(leases_mu_);
    leases_[info.id] = 1;
  }
  return Status::Ok();
}

Status PostgresStore::Append(const std::string& session_id, std::span<const EventPtr> events) {
  if (events.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  return db_->Transaction([&] { return AppendLocked(session_id, events, true); });
}

Status PostgresStore::AppendLocked(const std::string& session_id, std::span<const EventPtr> events,
                                   bool fenced) {
  auto row = db_->Exec(std::string("SELECT seq, event_count, status, lease_owner, lease_epoch, "
                                   "lease_until < ") +
                           kDbNow + " FROM sessions WHERE id = $1 FOR UPDATE",
                       {session_id});
  if (!row.ok()) return row.status();
  if (row->empty()) return Status(ErrorCode::kNotFound, "no session " + session_id);
  int64_t seq = row->Int(0, 0);
  int64_t count = row->Int(0, 1);
  auto status =
      engine::ParseSessionStatus(row->TextView(0, 2)).value_or(engine::SessionStatus::kRunning);
  std::string holder = row->IsNull(0, 3) ? "" : row->Text(0, 3);
  int64_t epoch = row->Int(0, 4);
  bool expired = row->Text(0, 5) == "t";

  if (fenced) {
    std::optional<int64_t> mine;
    {
      std::lock_guard lock(leases_mu_);
      if (auto it = leases_.find(session_id); it != leases_.end()) mine = it->second;
    }
    if (mine) {
      // Fencing: the lease must still be this process's, with the epoch it claimed.
      if (holder != options_.node_id || epoch != *mine) {
        {
          std::lock_guard lock(leases_mu_);
          leases_.erase(session_id);
        }
        return Status(ErrorCode::kFailedPrecondition,
                      "session " + session_id + " is now driven by " +
                          (holder.empty() ? std::string("no node") : "node " + holder) +
                          ": this process lost its lease and may not write to it");
      }
    } else if (!holder.empty() && holder != options_.node_id && !expired) {
      return Status(ErrorCode::kFailedPrecondition,
                    "session " + session_id + " is driven by node " + holder +
                        " (it holds the session's lease)");
    } else if (lease_db_) {
      auto claimed = db_->Exec(std::string("UPDATE sessions SET lease_owner = $1, lease_until = ") +
                                   kDbNow + " + $2, lease_epoch = lease_epoch + 1 WHERE seq = $3 "
                                          "RETURNING lease_epoch",
                               {options_.node_id, std::to_string(options_.lease_ms),
                                std::to_string(seq)});
      if (!claimed.ok()) return claimed.status();
      std::lock_guard lock(leases_mu_);
      leases_[session_id] = claimed->Int(0, 0);
    }
  }

  int64_t expected = count + 1;
  std::vector<int64_t> checkpoints;
  for (const auto& e : events) {
    if (e->position != expected) {
      return Status(ErrorCode::kFailedPrecondition,
                    "session " + session_id + " has another writer: expected event position " +
                        std::to_string(expected) + ", got " + std::to_string(e->position));
    }
    ++expected;
    if (e->name == engine::events::kStateCheckpoint) checkpoints.push_back(e->position);
    status = engine::StatusAfter(status, *e);
  }
  for (size_t start = 0; start < events.size(); start += kEventsPerInsert) {
    size_t end = std::min(events.size(), start + kEventsPerInsert);
    std::string sql = "INSERT INTO events (session, position, name, data) VALUES ";
    std::vector<pg::Param> params = {std::to_string(seq)};
    for (size_t i = start; i < end; ++i) {
      size_t n = params.size();
      sql += (i == start ? "" : ",") + std::string("($1,$") + std::to_string(n + 1) + ",$" +
             std::to_string(n + 2) + ",$" + std::to_string(n + 3) + ")";
      params.push_back(std::to_string(events[i]->position));
      params.push_back(events[i]->name);
      params.push_back(events[i]->wire);
    }
    auto inserted = db_->Exec(sql, params);
    if (!inserted.ok()) return inserted.status();
  }
  for (int64_t position : checkpoints) {
    auto snap = db_->Exec("INSERT INTO snapshots (session, position) VALUES ($1, $2)",
                          {std::to_string(seq), std::to_string(position)});
    if (!snap.ok()) return snap.status();
  }
  const auto& last = *events.back();
  bool keeps_running = Runs(status);
  auto updated = db_->Exec(
      "UPDATE sessions SET event_count = $1, status = $2, last_event_at = $3, updated_at = $3, "
      "lease_owner = CASE WHEN $4 THEN lease_owner ELSE NULL END WHERE seq = $5",
      {std::to_string(last.position), engine::SessionStatusName(status),
       std::to_string(last.timestamp), keeps_running ? "true" : "false", std::to_string(seq)});
  if (!updated.ok()) return updated.status();
  auto notified = db_->Exec("SELECT pg_notify('scaffold_events', $1)",
                            {session_id + ":" + std::to_string(last.position) + ":" +
                             std::to_string(last.timestamp)});
  if (!notified.ok()) return notified.status();
  if (!keeps_running) {
    std::lock_guard lock(leases_mu_);
    leases_.erase(session_id);
  }
  return Status::Ok();
}

Result<std::vector<EventPtr>> PostgresStore::ReadEvents(const std::string& session_id,
                                                        int64_t after, int64_t limit) {
  pg::Rows rows(nullptr);
  {
    std::lock_guard lock(mu_);
    auto seq = SessionSeq(session_id);
    if (!seq.ok()) return seq.status();
    auto r = db_->Exec(
        "SELECT data FROM events WHERE session = $1 AND position > $2 ORDER BY position LIMIT $3",
        {std::to_string(*seq), std::to_string(after), std::to_string(limit)});
    if (!r.ok()) return r.status();
    rows = std::move(*r);
  }
  std::vector<std::string_view> texts;
  texts.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) texts.push_back(rows.TextView(i, 0));
  std::vector<EventPtr> out;
  size_t bad = 0;
  Status s = engine::ParseEvents(texts, &out, &bad);
  if (!s.ok()) return s.WithContext("a stored event is corrupt");
  return out;
}

Result<std::optional<int64_t>> PostgresStore::FindEvent(const std::string& session_id,
                                                        const std::string& event_id) {
  std::lock_guard lock(mu_);
  auto seq = SessionSeq(session_id);
  if (!seq.ok()) return seq.status();
  // Rare (a reconnect naming an event by id): a scan of the session's rows in the database.
  auto r = db_->Exec(
      "SELECT position FROM events WHERE session = $1 AND (data::json ->> 'id') = $2 LIMIT 1",
      {std::to_string(*seq), event_id});
  if (!r.ok()) return r.status();
  if (r->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(r->Int(0, 0));
}

Result<std::optional<EventPtr>> PostgresStore::LatestCheckpoint(const std::string& session_id,
                                                                int64_t position) {
  std::lock_guard lock(mu_);
  auto seq = SessionSeq(session_id);
  if (!seq.ok()) return seq.status();
  auto r = db_->Exec(
      "SELECT e.data FROM snapshots s JOIN events e ON e.session = s.session AND "
      "e.position = s.position WHERE s.session = $1 AND s.position <= $2 "
      "ORDER BY s.position DESC LIMIT 1",
      {std::to_string(*seq), std::to_string(position)});
  if (!r.ok()) return r.status();
  if (r->empty()) return std::optional<EventPtr>();
  auto e = ParseStoredEvent(r->TextView(0, 0));
  if (!e.ok()) return e.status();
  return std::optional<EventPtr>(std::move(*e));
}

Result<SessionInfo> PostgresStore::GetSession(const std::string& id) {
  std::lock_guard lock(mu_);
  auto r = db_->Exec(std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = $1",
                     {id});
  if (!r.ok()) return r.status();
  if (r->empty()) return Status(ErrorCode::kNotFound, "no session " + id);
  return SessionFromRow(pg::RowOf{*r, 0});
}

Result<std::vector<SessionInfo>> PostgresStore::ListSessions(const engine::SessionFilter& filter) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kSessionColumns + " FROM sessions";
  std::vector<pg::Param> params;
  if (filter.owner) {
    sql += " WHERE owner = $1";
    params.push_back(*filter.owner);
  }
  sql += " ORDER BY created_at DESC, seq DESC LIMIT $" + std::to_string(params.size() + 1);
  params.push_back(std::to_string(filter.limit));
  auto r = db_->Exec(sql, params);
  if (!r.ok()) return r.status();
  std::vector<SessionInfo> out;
  for (int i = 0; i < r->size(); ++i) out.push_back(SessionFromRow(pg::RowOf{*r, i}));
  return out;
}

Result<std::map<engine::SessionStatus, int64_t>> PostgresStore::CountSessions(
    const engine::SessionFilter& filter) {
  std::lock_guard lock(mu_);
  std::vector<pg::Param> params;
  std::string sql = "SELECT status, count(*) FROM sessions";
  if (filter.owner) {
    sql += " WHERE owner = $1";
    params.push_back(*filter.owner);
  }
  auto r = db_->Exec(sql + " GROUP BY status", params);
  if (!r.ok()) return r.status();
  std::map<engine::SessionStatus, int64_t> out;
  for (int i = 0; i < r->size(); ++i) {
    if (auto s = engine::ParseSessionStatus(r->TextView(i, 0))) out[*s] = r->Int(i, 1);
  }
  return out;
}

Status PostgresStore::DeleteSession(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    auto r = db_->Exec("DELETE FROM sessions WHERE id = $1 RETURNING seq", {id});
    if (!r.ok()) return r.status();
    if (r->empty()) return Status(ErrorCode::kNotFound, "no session " + id);
  }
  std::lock_guard lock(leases_mu_);
  leases_.erase(id);
  return Status::Ok();
}

}  // namespace scaffold::recordings
