// PostgresStore's leases: claims, hand-overs, renewal (postgres_store.h).
#include <set>

#include "recordings/postgres/postgres_store.h"
#include "recordings/postgres/schema.h"

namespace scaffold::recordings {
namespace {

// A text[] literal: {"a","b"} with quotes and backslashes escaped.
std::string ArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

void PostgresStore::EndStalledHoldersLocked() {
  // The row's xmax names the transaction that locks it; pg_locks, the backend holding that
  // transaction. Only a backend stuck mid-statement (waiting to read the rest of a message from
  // its client) for more than half a lease on a session whose lease expired is ended: a live
  // node never takes that long to send one statement, and its lease is gone anyway.
  (void)db_->Exec(std::string("SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a WHERE "
                              "a.datname = current_database() AND a.pid <> pg_backend_pid() AND "
                              "a.state = 'active' AND a.wait_event = 'ClientRead' AND "
                              "a.state_change < clock_timestamp() - $1::bigint * interval '1 "
                              "millisecond' AND a.pid IN (SELECT l.pid FROM pg_locks l JOIN "
                              "sessions s ON l.locktype = 'transactionid' AND l.granted AND "
                              "l.transactionid = s.xmax WHERE s.status IN ('running', 'waiting') "
                              "AND s.lease_until < ") +
                      pg::kDbNow + ")",
                  {std::to_string(std::max<int64_t>(options_.lease_ms / 2, 150))});
}

Result<bool> PostgresStore::ClaimLease(const std::string& session_id) {
  if (!lease_db_) return Status(ErrorCode::kFailedPrecondition, "the store is read-only");
  pg::Rows rows(nullptr);
  {
    std::lock_guard lock(mu_);
    EndStalledHoldersLocked();
    // A row another transaction locks is not waited for: its holder is appending (so the lease
    // is live) or stalled, and ended above once that has lasted.
    auto r = db_->Exec(std::string("UPDATE sessions SET lease_owner = $1, lease_until = ") + pg::kDbNow +
                           " + $2, lease_epoch = lease_epoch + 1 WHERE seq = (SELECT seq FROM "
                           "sessions WHERE id = $3 AND (lease_owner IS NULL OR lease_owner = $1 "
                           "OR lease_until < " +
                           pg::kDbNow + ") FOR UPDATE SKIP LOCKED) RETURNING lease_epoch",
                       {options_.node_id, std::to_string(options_.lease_ms), session_id});
    if (!r.ok()) return r.status();
    rows = std::move(*r);
  }
  if (rows.empty()) return false;
  std::lock_guard lock(leases_mu_);
  leases_[session_id] = rows.Int(0, 0);
  return true;
}

Result<std::vector<std::string>> PostgresStore::ClaimOrphans(int max) {
  if (!lease_db_) return Status(ErrorCode::kFailedPrecondition, "the store is read-only");
  if (max <= 0) return std::vector<std::string>();
  pg::Rows rows(nullptr);
  {
    std::lock_guard lock(mu_);
    EndStalledHoldersLocked();
    auto r = db_->Exec(std::string("UPDATE sessions SET lease_owner = $1, lease_until = ") + pg::kDbNow +
                           " + $2, lease_epoch = lease_epoch + 1 WHERE seq IN (SELECT seq FROM "
                           "sessions WHERE status IN ('running', 'waiting') AND (lease_owner IS "
                           "NULL OR lease_until < " +
                           pg::kDbNow +
                           ") ORDER BY updated_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id, "
                           "lease_epoch",
                       {options_.node_id, std::to_string(options_.lease_ms), std::to_string(max)});
    if (!r.ok()) return r.status();
    rows = std::move(*r);
  }
  std::vector<std::string> out;
  std::lock_guard lock(leases_mu_);
  for (int i = 0; i < rows.size(); ++i) {
    leases_[rows.Text(i, 0)] = rows.Int(i, 1);
    out.push_back(rows.Text(i, 0));
  }
  return out;
}

Status PostgresStore::ReleaseLease(const std::string& session_id) {
  int64_t epoch = 0;
  {
    std::lock_guard lock(leases_mu_);
    auto it = leases_.find(session_id);
    if (it == leases_.end()) return Status::Ok();
    epoch = it->second;
    leases_.erase(it);
  }
  std::lock_guard lock(mu_);
  auto r = db_->Exec(
      "UPDATE sessions SET lease_owner = NULL, lease_until = 0 WHERE id = $1 AND lease_owner = $2 "
      "AND lease_epoch = $3",
      {session_id, options_.node_id, std::to_string(epoch)});
  if (!r.ok()) return r.status();
  auto notified = db_->Exec("SELECT pg_notify('scaffold_leases', $1)", {session_id});
  return notified.status();
}

Status PostgresStore::ReleaseAll() {
  for (const auto& id : HeldLeases()) SCAFFOLD_RETURN_IF_ERROR(ReleaseLease(id));
  return Status::Ok();
}

std::vector<std::string> PostgresStore::HeldLeases() const {
  std::lock_guard lock(leases_mu_);
  std::vector<std::string> out;
  for (const auto& [id, epoch] : leases_) out.push_back(id);
  return out;
}

Result<std::string> PostgresStore::LeaseHolder(const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto r = db_->Exec(std::string("SELECT CASE WHEN lease_until >= ") + pg::kDbNow +
                         " THEN lease_owner END FROM sessions WHERE id = $1",
                     {session_id});
  if (!r.ok()) return r.status();
  if (r->empty()) return Status(ErrorCode::kNotFound, "no session " + session_id);
  return r->IsNull(0, 0) ? std::string() : r->Text(0, 0);
}

void PostgresStore::OnLeaseLost(std::function<void(const std::string&)> callback) {
  std::lock_guard lock(leases_mu_);
  on_lease_lost_ = std::move(callback);
}

void PostgresStore::StopRenewingForTest() {
  renewing_ = false;
}

void PostgresStore::RenewLoop() {
  std::unique_lock lock(leases_mu_);
  while (!stopping_) {
    renew_cv_.wait_for(lock, std::chrono::milliseconds(options_.lease_ms / 3));
    if (stopping_) break;
    if (leases_.empty() || !renewing_) continue;
    std::vector<std::string> ids;
    std::vector<std::string> epochs;
    for (const auto& [id, epoch] : leases_) {
      ids.push_back(id);
      epochs.push_back(std::to_string(epoch));
    }
    lock.unlock();
    auto r = lease_db_->Exec(
        std::string("UPDATE sessions s SET lease_until = ") + pg::kDbNow +
            " + $2 FROM unnest($3::text[], $4::bigint[]) AS l(id, epoch) WHERE s.id = l.id AND "
            "s.lease_owner = $1 AND s.lease_epoch = l.epoch RETURNING s.id",
        {options_.node_id, std::to_string(options_.lease_ms), ArrayLiteral(ids),
         ArrayLiteral(epochs)});
    lock.lock();
    if (!r.ok()) continue;  // the database is away: the leases expire, and appends are fenced
    std::set<std::string> renewed;
    for (int i = 0; i < r->size(); ++i) renewed.insert(r->Text(i, 0));
    std::vector<std::string> lost;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = leases_.find(ids[i]);
      // Renewed, or released or re-claimed meanwhile: nothing was lost.
      if (renewed.count(ids[i]) || it == leases_.end() || std::to_string(it->second) != epochs[i])
        continue;
      leases_.erase(it);
      lost.push_back(ids[i]);
    }
    auto callback = on_lease_lost_;
    lock.unlock();
    if (callback) {
      for (const auto& id : lost) callback(id);
    }
    lock.lock();
  }
}

}  // namespace scaffold::recordings
