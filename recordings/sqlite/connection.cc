#include "recordings/sqlite/connection.h"

#include <cerrno>
#include <cstdio>

namespace scaffold::recordings {

Status SqliteStatus(int code, const std::string& message, int system_errno) {
  if (code != SQLITE_OK && code != SQLITE_ROW && code != SQLITE_DONE &&
      (system_errno == ENOSPC || system_errno == EDQUOT)) {
    return Status(ErrorCode::kStorageFull, "the disk is full (" + message + ")");
  }
  switch (code & 0xFF) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return Status::Ok();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status(ErrorCode::kUnavailable, message + " (the database is busy)");
    case SQLITE_CONSTRAINT:
      return Status(ErrorCode::kFailedPrecondition, message);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Status(ErrorCode::kDataLoss, message);
    case SQLITE_FULL:
      return Status(ErrorCode::kStorageFull, "the disk is full (" + message + ")");
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Status(ErrorCode::kUnavailable, message);
    default:
      return Status(ErrorCode::kInternal, message);
  }
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

void Statement::CheckBind(int rc, int index) {
  if (rc != SQLITE_OK && error_.ok()) {
    error_ =
        SqliteStatus(rc, "binding parameter " + std::to_string(index) + ": " + sqlite3_errmsg(db_));
    if (error_.ok())
      error_ = Status(ErrorCode::kInternal, "binding parameter " + std::to_string(index));
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  CheckBind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  CheckBind(
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
      index);
  return *this;
}

Statement& Statement::BindStatic(int index, std::string_view text) {
  CheckBind(
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC),
      index);
  return *this;
}

Statement& Statement::BindNull(int index) {
  CheckBind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

bool Statement::Step() {
  if (!error_.ok()) return false;  // a bind failed
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) error_ = SqliteStatus(rc, sqlite3_errmsg(db_), sqlite3_system_errno(db_));
  return false;
}

Status Statement::Run() {
  while (Step()) {
  }
  Status s = error_;
  Reset();
  return s;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  error_ = Status::Ok();
}

std::string Statement::Text(int column) const {
  return std::string(TextView(column));
}

std::string_view Statement::TextView(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (!p) return {};
  return std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Mode mode) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX;
  std::string name = path;
  switch (mode) {
    case Mode::kCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case Mode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case Mode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
    case Mode::kImmutable: {
      // A URI, so the file name is percent-encoded where it could be read as URI syntax.
      flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
      name = "file:";
      for (unsigned char c : path) {
        if (c == '%' || c == '?' || c == '#' || c < 0x20) {
          char hex[4];
          std::snprintf(hex, sizeof hex, "%%%02X", c);
          name += hex;
        } else {
          name += static_cast<char>(c);
        }
      }
      name += "?immutable=1";
      break;
    }
  }
  int rc = sqlite3_open_v2(name.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    int system_errno = db ? sqlite3_system_errno(db) : 0;
    if (db) sqlite3_close(db);
    return SqliteStatus(rc, "cannot open " + path + ": " + message, system_errno);
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  sqlite3_close_v2(db_);
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, sqlite3_errmsg(db_));
  return Statement(db_, stmt);
}

Status Connection::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  return SqliteStatus(rc, message, sqlite3_system_errno(db_));
}

Result<int64_t> Connection::QueryInt(const std::string& sql) {
  auto stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  int64_t value = 0;
  if (stmt->Step()) value = stmt->Int(0);
  if (!stmt->error().ok()) return stmt->error();
  return value;
}

Status Connection::LastError(const std::string& what) const {
  return SqliteStatus(sqlite3_errcode(db_), what + ": " + sqlite3_errmsg(db_),
                      sqlite3_system_errno(db_));
}

}  // namespace scaffold::recordings
