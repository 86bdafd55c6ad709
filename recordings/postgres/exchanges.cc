// PostgresStore: recorded provider exchanges.

#include "recordings/postgres/postgres_store.h"
#include "recordings/stored_rows.h"

namespace scaffold::recordings {
namespace {

std::vector<Exchange> ReadExchanges(const pg::Rows& r) {
  std::vector<Exchange> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(ExchangeFromRow(pg::RowOf{r, i}));
  return out;
}

}  // namespace

Status PostgresStore::InsertExchange(int64_t session_seq, int64_t seq, const Exchange& x) {
  auto r = db_->Exec(
      "INSERT INTO exchanges (session, seq, key, occurrence, agent, request, response) VALUES "
      "($1, $2, $3, $4, $5, $6, $7)",
      {std::to_string(session_seq), std::to_string(seq), x.key, std::to_string(x.occurrence),
       x.agent, DumpJson(x.request), DumpJson(x.response)});
  return r.status();
}

Status PostgresStore::AppendExchange(const Exchange& exchange) {
  std::lock_guard lock(mu_);
  return db_->Transaction([&]() -> Status {
    auto session = SessionSeq(exchange.session_id);
    if (!session.ok()) return session.status();
    // The session row is locked, so two appends to one session number their exchanges apart.
    auto locked = db_->Exec("SELECT seq FROM sessions WHERE seq = $1 FOR UPDATE",
                            {std::to_string(*session)});
    if (!locked.ok()) return locked.status();
    auto next = db_->Exec("SELECT coalesce(max(seq), 0) + 1 FROM exchanges WHERE session = $1",
                          {std::to_string(*session)});
    if (!next.ok()) return next.status();
    return InsertExchange(*session, next->Int(0, 0), exchange);
  });
}

Result<int64_t> PostgresStore::CountExchanges(const std::string& session_id,
                                              const std::string& key) {
  std::lock_guard lock(mu_);
  auto session = SessionSeq(session_id);
  if (!session.ok()) return session.status();
  auto r = db_->Exec("SELECT count(*) FROM exchanges WHERE session = $1 AND key = $2",
                     {std::to_string(*session), key});
  if (!r.ok()) return r.status();
  return r->Int(0, 0);
}

Result<std::optional<Exchange>> PostgresStore::FindExchange(
    const std::string& key, int64_t occurrence, const std::optional<std::string>& session_id) {
  std::lock_guard lock(mu_);
  std::vector<pg::Param> params = {key, std::to_string(occurrence)};
  std::string sql = std::string("SELECT ") + kExchangeColumns +
                    " FROM exchanges x JOIN sessions s ON s.seq = x.session WHERE x.key = $1 AND "
                    "x.occurrence = $2";
  if (session_id) {
    sql += " AND s.id = $3";
    params.push_back(*session_id);
  }
  auto r = db_->Exec(sql + " ORDER BY s.created_at DESC, x.session DESC LIMIT 1", params);
  if (!r.ok()) return r.status();
  auto found = ReadExchanges(*r);
  if (found.empty()) return std::optional<Exchange>();
  return std::optional<Exchange>(std::move(found.front()));
}

Result<std::vector<Exchange>> PostgresStore::ListExchanges(const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto r = db_->Exec(std::string("SELECT ") + kExchangeColumns +
                         " FROM exchanges x JOIN sessions s ON s.seq = x.session WHERE s.id = $1 "
                         "ORDER BY x.seq",
                     {session_id});
  if (!r.ok()) return r.status();
  return ReadExchanges(*r);
}

Result<std::vector<Exchange>> PostgresStore::ExchangesForAgent(
    const std::string& agent, const std::optional<std::string>& session_id, int64_t limit) {
  std::lock_guard lock(mu_);
  std::vector<pg::Param> params = {agent};
  std::string sql = std::string("SELECT ") + kExchangeColumns +
                    " FROM exchanges x JOIN sessions s ON s.seq = x.session WHERE x.agent = $1";
  if (session_id) {
    sql += " AND s.id = $2";
    params.push_back(*session_id);
  }
  sql += " ORDER BY s.created_at DESC, x.seq DESC LIMIT $" + std::to_string(params.size() + 1);
  params.push_back(std::to_string(limit));
  auto r = db_->Exec(sql, params);
  if (!r.ok()) return r.status();
  return ReadExchanges(*r);
}

Status PostgresStore::ImportSession(const engine::SessionInfo& info,
                                    std::span<const engine::EventPtr> events,
                                    const std::vector<Exchange>& exchanges) {
  std::lock_guard lock(mu_);
  return db_->Transaction([&]() -> Status {
    engine::SessionInfo fresh = info;
    fresh.event_count = 0;
    fresh.status = engine::SessionStatus::kRunning;  // the events decide the rest
    // Imported sessions are nobody's to drive until a node claims them.
    SCAFFOLD_RETURN_IF_ERROR(InsertSession(fresh, false));
    if (!events.empty()) SCAFFOLD_RETURN_IF_ERROR(AppendLocked(info.id, events, false));
    auto session = SessionSeq(info.id);
    if (!session.ok()) return session.status();
    for (const auto& x : exchanges) SCAFFOLD_RETURN_IF_ERROR(InsertExchange(*session, x.seq, x));
    return Status::Ok();
  });
}

}  // namespace scaffold::recordings
