#include "recordings/sqlite/sqlite_store.h"

#include <unistd.h>

#include <filesystem>

#include <chrono>
#include <fstream>
#include <thread>

#include "recordings/sha256.h"
#include "recordings/sqlite/schema.h"
#include "recordings/stored_rows.h"

namespace scaffold::recordings {

using engine::EventPtr;
using engine::SessionInfo;

namespace {

// The first bytes of every SQLite 3 database file.
constexpr char kSqliteHeader[] = "SQLite format 3";

// Checks a file that already exists before SQLite touches it.
Status CheckFileHeader(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Ok();  // does not exist yet
  char header[16] = {};
  in.read(header, sizeof header);
  if (in.gcount() == 0) return Status::Ok();  // empty file: SQLite treats it as a new database
  if (in.gcount() < 16 || std::string_view(header, 15) != kSqliteHeader) {
    return Status(ErrorCode::kDataLoss,
                  path +
                      " is not a scaffold database (it is not an SQLite file); "
                      "it was left untouched");
  }
  return Status::Ok();
}

// Switches the file to WAL mode. The switch needs a moment of exclusive access, and SQLite
// reports a busy database at once instead of waiting, so another process opening the same new
// file at the same moment is waited out here (for up to ~10 s).
Status EnableWal(Connection& db, const std::string& path) {
  Status last;
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto mode = db.Prepare("PRAGMA journal_mode=WAL");
    if (!mode.ok()) return mode.status();
    if (mode->Step() && mode->TextView(0) == "wal") return Status::Ok();
    last = mode->error();
    if (last.ok()) return Status(ErrorCode::kUnavailable, "cannot switch " + path + " to WAL mode");
    if (last.code() != ErrorCode::kUnavailable) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 * (attempt + 1), 100)));
  }
  return last.WithContext("cannot switch " + path + " to WAL mode");
}

}  // namespace

// Events stored by one INSERT statement when a batch has that many.
constexpr int kEventsPerInsert = 32;

struct SqliteStore::Statements {
  Statement insert_session, session_seq, session_state, insert_event, insert_events,
      insert_snapshot,
      update_session, read_events, latest_checkpoint, get_session, list_all, list_owner, begin,
      commit, rollback;
};

SqliteStore::SqliteStore(std::string path, std::unique_ptr<Connection> db)
    : path_(std::move(path)), db_(std::move(db)) {}

SqliteStore::~SqliteStore() {
  cached_.clear();
  stmts_.reset();
  db_.reset();
}

namespace {

struct Identity {
  int64_t tables = 0, app_id = 0, version = 0;
};

// The three facts that identify a scaffold database, read in one transaction: one snapshot,
// even while another process is creating or migrating the same file.
Result<Identity> ReadIdentity(Connection& db) {
  SCAFFOLD_RETURN_IF_ERROR(db.Exec("BEGIN"));
  auto tables = db.QueryInt("SELECT count(*) FROM sqlite_master");
  auto app_id = tables.ok() ? db.QueryInt("PRAGMA application_id") : tables.status();
  auto version = app_id.ok() ? db.QueryInt("PRAGMA user_version") : app_id.status();
  db.Exec("COMMIT");
  if (!version.ok()) return version.status();
  return Identity{*tables, *app_id, *version};
}

Status ReadOnlyRefusal(const std::string& path) {
  return Status(ErrorCode::kUnavailable,
                path + " cannot be written (no write permission on it or its directory, or a "
                       "read-only mount); this command writes to the database. scaffold "
                       "sessions list/show/export, events, state and replay can read it");
}

bool Writable(const std::string& path) {
  std::filesystem::path p(path);
  std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  return ::access(dir.c_str(), W_OK) == 0 &&
         (::access(path.c_str(), F_OK) != 0 || ::access(path.c_str(), W_OK) == 0);
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, Access access) {
  bool memory = path == ":memory:";
  bool read_only = access == Access::kReadOnly && !memory;
  if (read_only && ::access(path.c_str(), F_OK) != 0)
    return Status(ErrorCode::kNotFound, "no database at " + path);
  if (!memory) SCAFFOLD_RETURN_IF_ERROR(CheckFileHeader(path));
  if (!read_only && !memory && !Writable(path)) return ReadOnlyRefusal(path);
  auto conn = Connection::Open(path, read_only ? Connection::Mode::kReadOnly
                                               : Connection::Mode::kCreate);
  if (!conn.ok()) return conn.status();
  sqlite3_busy_timeout((*conn)->handle(), 10000);
  if (!read_only && sqlite3_db_readonly((*conn)->handle(), "main") == 1)
    return ReadOnlyRefusal(path);

  // Identify the database with read-only queries before changing anything.
  auto identity = ReadIdentity(**conn);
  if (!identity.ok() && read_only &&
      (identity.status().code() == ErrorCode::kUnavailable)) {
    // A WAL database on a read-only mount: SQLite cannot make its shared-memory file there.
    // Nothing can write to it, so it is read as immutable.
    conn = Connection::Open(path, Connection::Mode::kImmutable);
    if (!conn.ok()) return conn.status();
    identity = ReadIdentity(**conn);
  }
  // A file another process is creating at this very moment reads as empty or as scaffold's,
  // never as foreign; a foreign-looking one is looked at twice more before it is refused.
  for (int retry = 0; retry < 2 && identity.ok() && identity->tables > 0 &&
                      identity->app_id != kApplicationId;
       ++retry) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    identity = ReadIdentity(**conn);
  }
  if (!identity.ok()) {
    if (identity.status().code() == ErrorCode::kDataLoss) {
      return Status(ErrorCode::kDataLoss, path + " is not a scaffold database: " +
                                              identity.status().message() +
                                              "; it was left untouched");
    }
    return identity.status().WithContext("cannot read " + path);
  }
  Connection& db = **conn;
  auto tables = identity->tables;
  auto app_id = identity->app_id;
  auto version = identity->version;
  bool fresh = tables == 0 && app_id == 0 && version == 0;
  if (!fresh && app_id != kApplicationId) {
    return Status(ErrorCode::kDataLoss,
                  path + " is an SQLite database but not a scaffold one; it was left untouched");
  }
  if (version > kSchemaVersion) {
    return Status(ErrorCode::kFailedPrecondition,
                  path + " was written by a newer scaffold (schema version " +
                      std::to_string(version) + "; this build reads up to " +
                      std::to_string(kSchemaVersion) +
                      "); it was left untouched. Upgrade scaffold to use it");
  }
  if (read_only) {
    if (version < kSchemaVersion) {
      return Status(ErrorCode::kFailedPrecondition,
                    path + " has schema version " + std::to_string(version) +
                        ", older than this build's " + std::to_string(kSchemaVersion) +
                        "; a command that writes (run, resume) upgrades it, after which it "
                        "can be read");
    }
  } else {
    if (!memory) SCAFFOLD_RETURN_IF_ERROR(EnableWal(db, path));
    SCAFFOLD_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=NORMAL"));
    if (version < kSchemaVersion)
      SCAFFOLD_RETURN_IF_ERROR(MigrateSchema(db, static_cast<int>(version), path));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, std::move(*conn)));
  SCAFFOLD_RETURN_IF_ERROR(store->Prepare());
  return store;
}

Status SqliteStore::Prepare() {
  stmts_ = std::make_unique<Statements>();
  auto prep = [&](Statement* out, const std::string& sql) -> Status {
    auto s = db_->Prepare(sql);
    if (!s.ok()) return s.status().WithContext("preparing \"" + sql + "\"");
    *out = std::move(*s);
    return Status::Ok();
  };
  Statements& s = *stmts_;
  SCAFFOLD_RETURN_IF_ERROR(
      prep(&s.insert_session,
           "INSERT INTO sessions (id, owner, workflow_name, workflow_source, workflow_sha256, "
           "input, status, parent_id, fork_position, created_at, updated_at, redact) "
           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"));
  SCAFFOLD_RETURN_IF_ERROR(prep(&s.session_seq, "SELECT seq FROM sessions WHERE id = ?"));
  SCAFFOLD_RETURN_IF_ERROR(
      prep(&s.session_state, "SELECT seq, event_count, status FROM sessions WHERE id = ?"));
  SCAFFOLD_RETURN_IF_ERROR(
      prep(&s.insert_event, "INSERT INTO events (session, position, name, data) VALUES (?,?,?,?)"));
  {
    std::string many = "INSERT INTO events (session, position, name, data) VALUES (?,?,?,?)";
    for (int i = 1; i < kEventsPerInsert; ++i) many += ",(?,?,?,?)";
    SCAFFOLD_RETURN_IF_ERROR(prep(&s.insert_events, many.c_str()));
  }
  SCAFFOLD_RETURN_IF_ERROR(
      prep(&s.insert_snapshot, "INSERT INTO snapshots (session, position) VALUES (?,?)"));
  SCAFFOLD_RETURN_IF_ERROR(
      prep(&s.update_session,
           "UPDATE sessions SET event_count = ?, status = ?, last_event_at = ?, updated_at = ? "
           "WHERE seq = ?"));
  SCAFFOLD_RETURN_IF_ERROR(
      prep(&s.read_events,
           "SELECT data FROM events WHERE session = ? AND position > ? ORDER BY position LIMIT ?"));
  SCAFFOLD_RETURN_IF_ERROR(
      prep(&s.latest_checkpoint,
           "SELECT e.data FROM snapshots s JOIN events e ON e.session = s.session AND "
           "e.position = s.position WHERE s.session = ? AND s.position <= ? "
           "ORDER BY s.position DESC LIMIT 1"));
  SCAFFOLD_RETURN_IF_ERROR(prep(
      &s.get_session, std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = ?"));
  SCAFFOLD_RETURN_IF_ERROR(
      prep(&s.list_all, std::string("SELECT ") + kSessionColumns +
                            " FROM sessions ORDER BY created_at DESC, seq DESC LIMIT ?"));
  SCAFFOLD_RETURN_IF_ERROR(
      prep(&s.list_owner, std::string("SELECT ") + kSessionColumns +
                              " FROM sessions WHERE owner = ? ORDER BY created_at DESC, seq DESC "
                              "LIMIT ?"));
  SCAFFOLD_RETURN_IF_ERROR(prep(&s.begin, "BEGIN IMMEDIATE"));
  SCAFFOLD_RETURN_IF_ERROR(prep(&s.commit, "COMMIT"));
  SCAFFOLD_RETURN_IF_ERROR(prep(&s.rollback, "ROLLBACK"));
  return Status::Ok();
}

Status SqliteStore::Transaction(const std::function<Status()>& body) {
  SCAFFOLD_RETURN_IF_ERROR(stmts_->begin.Run());
  Status s = body();
  if (s.ok()) s = stmts_->commit.Run();
  if (!s.ok()) stmts_->rollback.Run();
  return s;
}

Result<int64_t> SqliteStore::SessionSeq(const std::string& id) {
  Statement& q = stmts_->session_seq;
  q.Bind(1, id);
  bool found = q.Step();
  int64_t seq = found ? q.Int(0) : 0;
  Status error = q.error();
  q.Reset();
  if (!error.ok()) return error;
  if (!found) return Status(ErrorCode::kNotFound, "no session " + id);
  return seq;
}

Status SqliteStore::CreateSession(const SessionInfo& info) {
  std::lock_guard<std::mutex> lock(mu_);
  return InsertSession(info);
}

Status SqliteStore::InsertSession(const SessionInfo& info) {
  Statement& s = stmts_->insert_session;
  std::string sha =
      info.workflow_sha256.empty() ? Sha256Hex(info.workflow_source) : info.workflow_sha256;
  s.Bind(1, info.id)
      .Bind(2, info.owner)
      .Bind(3, info.workflow_name)
      .Bind(4, info.workflow_source)
      .Bind(5, sha);
  s.Bind(6, DumpJson(info.input)).Bind(7, engine::SessionStatusName(info.status));
  if (info.parent_id.empty()) {
    s.BindNull(8);
  } else {
    s.Bind(8, info.parent_id);
  }
  s.Bind(9, info.fork_position).Bind(10, info.created_at).Bind(11, info.updated_at);
  s.Bind(12, DumpJson(Json(info.redact)));
  Status st = s.Run();
  if (st.code() == ErrorCode::kFailedPrecondition) {
    return Status(ErrorCode::kAlreadyExists, "a session with id " + info.id + " already exists");
  }
  return st;
}

Status SqliteStore::Append(const std::string& session_id, std::span<const EventPtr> events) {
  if (events.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  return Transaction([&]() -> Status { return AppendLocked(session_id, events); });
}

Status SqliteStore::AppendLocked(const std::string& session_id, std::span<const EventPtr> events) {
  {
    Statement& q = stmts_->session_state;
    q.Bind(1, session_id);
    bool found = q.Step();
    int64_t seq = found ? q.Int(0) : 0;
    int64_t count = found ? q.Int(1) : 0;
    auto status = engine::ParseSessionStatus(found ? q.TextView(2) : "")
                      .value_or(engine::SessionStatus::kRunning);
    Status err = q.error();
    q.Reset();
    SCAFFOLD_RETURN_IF_ERROR(err);
    if (!found) return Status(ErrorCode::kNotFound, "no session " + session_id);
    int64_t expected = count + 1;
    for (const auto& e : events) {
      if (e->position != expected) {
        return Status(ErrorCode::kFailedPrecondition,
                      "session " + session_id + " has another writer: expected event position " +
                          std::to_string(expected) + ", got " + std::to_string(e->position) +
                          " (is the session running in another process?)");
      }
      ++expected;
      if (e->name == engine::events::kStateCheckpoint) {
        SCAFFOLD_RETURN_IF_ERROR(stmts_->insert_snapshot.Bind(1, seq).Bind(2, e->position).Run());
      }
      status = engine::StatusAfter(status, *e);
    }
    // Rows go in kEventsPerInsert at a time (one statement costs about as much as its rows),
    // the rest one by one; the events outlive the statements, so their text is not copied.
    size_t i = 0;
    for (; i + kEventsPerInsert <= events.size(); i += kEventsPerInsert) {
      Statement& ins = stmts_->insert_events;
      for (int k = 0; k < kEventsPerInsert; ++k) {
        const auto& e = *events[i + k];
        int at = 4 * k;
        ins.Bind(at + 1, seq).Bind(at + 2, e.position).BindStatic(at + 3, e.name);
        ins.BindStatic(at + 4, e.wire);
      }
      SCAFFOLD_RETURN_IF_ERROR(ins.Run());
    }
    for (; i < events.size(); ++i) {
      const auto& e = *events[i];
      Statement& ins = stmts_->insert_event;
      ins.Bind(1, seq).Bind(2, e.position).BindStatic(3, e.name).BindStatic(4, e.wire);
      SCAFFOLD_RETURN_IF_ERROR(ins.Run());
    }
    const auto& last = *events.back();
    Statement& up = stmts_->update_session;
    up.Bind(1, last.position).Bind(2, engine::SessionStatusName(status)).Bind(3, last.timestamp);
    up.Bind(4, last.timestamp).Bind(5, seq);
    return up.Run();
  }
}

Result<std::vector<EventPtr>> SqliteStore::ReadEvents(const std::string& session_id, int64_t after,
                                                      int64_t limit) {
  // The rows are read under the lock and parsed after it, so a long read (a replay, an
  // export, a state fold) does not hold up appends and other readers while it parses.
  std::vector<std::string> rows;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto seq = SessionSeq(session_id);
    if (!seq.ok()) return seq.status();
    Statement& q = stmts_->read_events;
    q.Bind(1, *seq).Bind(2, after).Bind(3, limit);
    while (q.Step()) rows.emplace_back(q.TextView(0));
    Status err = q.error();
    q.Reset();
    if (!err.ok()) return err;
  }
  std::vector<EventPtr> out;
  if (rows.size() >= 2 * engine::kEventsPerParseThread) {
    // A whole long log: parsed on several threads.
    std::vector<std::string_view> texts(rows.begin(), rows.end());
    size_t bad = 0;
    Status s = engine::ParseEvents(texts, &out, &bad);
    if (!s.ok()) return s.WithContext("a stored event is corrupt");
    return out;
  }
  out.reserve(rows.size());
  for (const auto& row : rows) {
    auto e = ParseStoredEvent(row);
    if (!e.ok()) return e.status();
    out.push_back(std::move(*e));
  }
  return out;
}

Result<std::optional<int64_t>> SqliteStore::FindEvent(const std::string& session_id,
                                                       const std::string& event_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto seq = SessionSeq(session_id);
  if (!seq.ok()) return seq.status();
  // Rare (a reconnect naming an event by id): a scan of the session's rows inside SQLite.
  auto q = db_->Prepare(
      "SELECT position FROM events WHERE session = ? AND json_extract(data, '$.id') = ? "
      "LIMIT 1");
  if (!q.ok()) return q.status();
  q->Bind(1, *seq).Bind(2, event_id);
  std::optional<int64_t> position;
  if (q->Step()) position = q->Int(0);
  if (!q->error().ok()) return q->error();
  return position;
}

Result<std::optional<EventPtr>> SqliteStore::LatestCheckpoint(const std::string& session_id,
                                                              int64_t position) {
  std::lock_guard<std::mutex> lock(mu_);
  auto seq = SessionSeq(session_id);
  if (!seq.ok()) return seq.status();
  Statement& q = stmts_->latest_checkpoint;
  q.Bind(1, *seq).Bind(2, position);
  std::optional<EventPtr> out;
  if (q.Step()) {
    auto e = ParseStoredEvent(q.TextView(0));
    if (!e.ok()) {
      q.Reset();
      return e.status();
    }
    out = std::move(*e);
  }
  Status err = q.error();
  q.Reset();
  if (!err.ok()) return err;
  return out;
}

Result<SessionInfo> SqliteStore::GetSession(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement& q = stmts_->get_session;
  q.Bind(1, id);
  bool found = q.Step();
  SessionInfo info;
  if (found) info = SessionFromRow(q);
  Status err = q.error();
  q.Reset();
  if (!err.ok()) return err;
  if (!found) return Status(ErrorCode::kNotFound, "no session " + id);
  return info;
}

Result<std::vector<SessionInfo>> SqliteStore::ListSessions(const engine::SessionFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement& q = filter.owner ? stmts_->list_owner : stmts_->list_all;
  if (filter.owner) {
    q.Bind(1, *filter.owner).Bind(2, filter.limit);
  } else {
    q.Bind(1, filter.limit);
  }
  std::vector<SessionInfo> out;
  while (q.Step()) out.push_back(SessionFromRow(q));
  Status err = q.error();
  q.Reset();
  if (!err.ok()) return err;
  return out;
}

Status SqliteStore::DeleteSession(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto seq = SessionSeq(id);
  if (!seq.ok()) return seq.status();
  return Transaction([&]() -> Status {
    std::string n = std::to_string(*seq);
    return db_->Exec("DELETE FROM events WHERE session = " + n +
                     "; DELETE FROM snapshots WHERE session = " + n +
                     "; DELETE FROM exchanges WHERE session = " + n +
                     "; DELETE FROM sessions WHERE seq = " + n + ";");
  });
}

}  // namespace scaffold::recordings

namespace scaffold::recordings {

Result<std::map<engine::SessionStatus, int64_t>> SqliteStore::CountSessions(
    const engine::SessionFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  auto q = db_->Prepare(
      filter.owner ? "SELECT status, count(*) FROM sessions WHERE owner = ? GROUP BY status"
                   : "SELECT status, count(*) FROM sessions GROUP BY status");
  if (!q.ok()) return q.status();
  if (filter.owner) q->Bind(1, *filter.owner);
  std::map<engine::SessionStatus, int64_t> out;
  while (q->Step()) {
    if (auto s = engine::ParseSessionStatus(q->TextView(0))) out[*s] = q->Int(1);
  }
  if (!q->error().ok()) return q->error();
  return out;
}

}  // namespace scaffold::recordings
