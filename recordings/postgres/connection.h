// A thin RAII layer over libpq: a connection, results, and statements run with text parameters,
// whose errors come back as Status values that say what failed (never a password).
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.h"

namespace scaffold::recordings::pg {

// One query's result rows (text format).
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result, PQclear) {}
  int size() const { return PQntuples(result_.get()); }
  bool empty() const { return size() == 0; }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column); }
  std::string Text(int row, int column) const;
  std::string_view TextView(int row, int column) const;
  int64_t Int(int row, int column) const;

 private:
  std::shared_ptr<PGresult> result_;
};

// One row of a result, read by column like an SQLite statement's current row.
struct RowOf {
  const Rows& rows;
  int row;
  std::string Text(int column) const { return rows.Text(row, column); }
  std::string_view TextView(int column) const { return rows.TextView(row, column); }
  bool IsNull(int column) const { return rows.IsNull(row, column); }
  int64_t Int(int column) const { return rows.Int(row, column); }
};

// A parameter: text, or SQL NULL.
using Param = std::optional<std::string>;

// Where a connection URL points, for messages: "postgresql://user@host:port/db".
std::string DescribeUrl(const std::string& url);

// Why libpq, loaded on first use (pq_shim.cc), could not be opened; "" when it was.
std::string LibpqLoadError();

class Connection {
 public:
  // Connects (connect timeout 10 s unless the URL sets one). The error names host and database.
  static Result<std::unique_ptr<Connection>> Open(const std::string& url);
  ~Connection();

  // Runs one statement with $1.. parameters. A lost connection is re-established once.
  Result<Rows> Exec(const std::string& sql, const std::vector<Param>& params = {});
  // Runs several statements, without parameters (schema scripts).
  Status ExecScript(const std::string& sql);
  // Runs `sql` (session settings) now and again after every reconnection.
  Status Setup(const std::string& sql);
  // Runs `body` between BEGIN and COMMIT, rolling back when it fails.
  Status Transaction(const std::function<Status()>& body);

  PGconn* handle() const { return conn_; }
  const std::string& url() const { return url_; }

 private:
  Connection(std::string url, PGconn* conn) : url_(std::move(url)), conn_(conn) {}
  Result<Rows> ExecOnce(const std::string& sql, const std::vector<Param>& params);

  const std::string url_;
  PGconn* conn_;
  bool in_transaction_ = false;
  std::string setup_;
};

// A Status for a failed result or connection: unique and foreign-key violations are
// kFailedPrecondition, a disk full kStorageFull, a lost or refused connection kUnavailable.
Status PgStatus(PGconn* conn, const PGresult* result, const std::string& what);

}  // namespace scaffold::recordings::pg
