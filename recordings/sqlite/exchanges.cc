// SqliteStore: recorded provider exchanges and whole-session imports.

#include "recordings/sha256.h"
#include "recordings/sqlite/sqlite_store.h"
#include "recordings/stored_rows.h"

namespace scaffold::recordings {
namespace {

// Runs a query returning exchanges; binds are applied by `bind`.
template <typename Bind>
Result<std::vector<Exchange>> Query(Result<Statement*> prepared, Bind bind) {
  if (!prepared.ok()) return prepared.status();
  Statement& q = **prepared;
  bind(q);
  std::vector<Exchange> out;
  while (q.Step()) out.push_back(ExchangeFromRow(q));
  Status error = q.error();
  q.Reset();
  if (!error.ok()) return error;
  return out;
}

}  // namespace

Result<Statement*> SqliteStore::Cached(const std::string& sql) {
  auto it = cached_.find(sql);
  if (it == cached_.end()) {
    auto q = db_->Prepare(sql);
    if (!q.ok()) return q.status();
    it = cached_.emplace(sql, std::move(*q)).first;
  }
  return &it->second;
}

std::string ExchangeKey(const Json& request) {
  return Sha256Hex(DumpJson(request));
}

Status SqliteStore::InsertExchange(int64_t session_seq, int64_t seq, const Exchange& x) {
  auto q = Cached(
      "INSERT INTO exchanges (session, seq, key, occurrence, agent, request, response) VALUES "
      "(?,?,?,?,?,?,?)");
  if (!q.ok()) return q.status();
  (*q)->Bind(1, session_seq).Bind(2, seq).Bind(3, x.key).Bind(4, x.occurrence).Bind(5, x.agent);
  (*q)->Bind(6, DumpJson(x.request)).Bind(7, DumpJson(x.response));
  return (*q)->Run();
}

Status SqliteStore::AppendExchange(const Exchange& exchange) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction([&]() -> Status {
    auto session = SessionSeq(exchange.session_id);
    if (!session.ok()) return session.status();
    auto next = Cached("SELECT coalesce(max(seq), 0) + 1 FROM exchanges WHERE session = ?");
    if (!next.ok()) return next.status();
    Statement& q = **next;
    q.Bind(1, *session);
    int64_t seq = q.Step() ? q.Int(0) : 0;
    Status error = q.error();
    q.Reset();
    if (!error.ok()) return error;
    return InsertExchange(*session, seq, exchange);
  });
}

Result<int64_t> SqliteStore::CountExchanges(const std::string& session_id, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto session = SessionSeq(session_id);
  if (!session.ok()) return session.status();
  auto q = db_->Prepare("SELECT count(*) FROM exchanges WHERE session = ? AND key = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, *session).Bind(2, key);
  int64_t n = q->Step() ? q->Int(0) : 0;
  if (!q->error().ok()) return q->error();
  return n;
}

Result<std::optional<Exchange>> SqliteStore::FindExchange(
    const std::string& key, int64_t occurrence, const std::optional<std::string>& session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = std::string("SELECT ") + kExchangeColumns +
                    " FROM exchanges x JOIN sessions s ON s.seq = x.session WHERE x.key = ? AND "
                    "x.occurrence = ?" +
                    (session_id ? " AND s.id = ?" : "") +
                    " ORDER BY s.created_at DESC, x.session DESC LIMIT 1";
  auto rows = Query(Cached(sql), [&](Statement& q) {
    q.Bind(1, key).Bind(2, occurrence);
    if (session_id) q.Bind(3, *session_id);
  });
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Exchange>();
  return std::optional<Exchange>(std::move(rows->front()));
}

Result<std::vector<Exchange>> SqliteStore::ListExchanges(const std::string& session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return Query(
      Cached(std::string("SELECT ") + kExchangeColumns +
             " FROM exchanges x JOIN sessions s ON s.seq = x.session WHERE s.id = ? ORDER BY x.seq"),
      [&](Statement& q) { q.Bind(1, session_id); });
}

Result<std::vector<Exchange>> SqliteStore::ExchangesForAgent(
    const std::string& agent, const std::optional<std::string>& session_id, int64_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = std::string("SELECT ") + kExchangeColumns +
                    " FROM exchanges x JOIN sessions s ON s.seq = x.session WHERE x.agent = ?" +
                    (session_id ? " AND s.id = ?" : "") +
                    " ORDER BY s.created_at DESC, x.seq DESC LIMIT ?";
  return Query(Cached(sql), [&](Statement& q) {
    q.Bind(1, agent);
    if (session_id) {
      q.Bind(2, *session_id).Bind(3, limit);
    } else {
      q.Bind(2, limit);
    }
  });
}

Status SqliteStore::ImportSession(const engine::SessionInfo& info,
                                  std::span<const engine::EventPtr> events,
                                  const std::vector<Exchange>& exchanges) {
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction([&]() -> Status {
    engine::SessionInfo fresh = info;
    fresh.event_count = 0;
    fresh.status = engine::SessionStatus::kRunning;  // the events decide the rest
    SCAFFOLD_RETURN_IF_ERROR(InsertSession(fresh));
    if (!events.empty()) SCAFFOLD_RETURN_IF_ERROR(AppendLocked(info.id, events));
    auto session = SessionSeq(info.id);
    if (!session.ok()) return session.status();
    for (const auto& x : exchanges) SCAFFOLD_RETURN_IF_ERROR(InsertExchange(*session, x.seq, x));
    return Status::Ok();
  });
}

}  // namespace scaffold::recordings
