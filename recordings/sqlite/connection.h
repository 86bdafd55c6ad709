// A thin RAII layer over the SQLite C API: a connection and prepared statements whose errors
// come back as Status values naming what failed.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace scaffold::recordings {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);
  // Binds `text` without copying it: it must stay unchanged until the statement is reset.
  Statement& BindStatic(int index, std::string_view text);
  Statement& BindNull(int index);

  // SQLITE_ROW: true; SQLITE_DONE: false; errors: false with error() set.
  bool Step();
  // Steps to completion (for statements returning no rows).
  Status Run();
  // Clears bindings and resets for reuse.
  void Reset();
  const Status& error() const { return error_; }

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string Text(int column) const;
  std::string_view TextView(int column) const;
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  void CheckBind(int rc, int index);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  Status error_;
};

class Connection {
 public:
  enum class Mode {
    kCreate,     // read-write, creating the file when missing
    kReadWrite,  // read-write, the file must exist
    kReadOnly,   // read only
    kImmutable,  // read only, from a medium nothing writes to (a read-only mount)
  };
  // Opens a file (or ":memory:").
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode);
  ~Connection();

  Result<Statement> Prepare(std::string_view sql);
  // Runs one or more statements that return no rows.
  Status Exec(const std::string& sql);
  // The first column of the first row of a query returning an integer.
  Result<int64_t> QueryInt(const std::string& sql);

  sqlite3* handle() const { return db_; }
  Status LastError(const std::string& what) const;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// Maps an SQLite result code to a Status: busy/locked are kUnavailable, constraint violations
// kFailedPrecondition, "not a database" and corruption kDataLoss, a full disk kStorageFull.
// `system_errno` (sqlite3_system_errno) tells a full disk behind an I/O error apart.
Status SqliteStatus(int code, const std::string& message, int system_errno = 0);

}  // namespace scaffold::recordings
