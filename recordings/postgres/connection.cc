#include "recordings/postgres/connection.h"

#include <cstdlib>

namespace scaffold::recordings::pg {
namespace {

std::string Trimmed(const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

}  // namespace

std::string Rows::Text(int row, int column) const {
  return std::string(TextView(row, column));
}

std::string_view Rows::TextView(int row, int column) const {
  const char* v = PQgetvalue(result_.get(), row, column);
  return std::string_view(v, static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

int64_t Rows::Int(int row, int column) const {
  return std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

std::string DescribeUrl(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    PQfreemem(error);
    return "postgresql://(an unreadable URL)";
  }
  std::string user, host, port, db;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    std::string k = o->keyword;
    if (k == "user") user = o->val;
    if (k == "host") host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
  }
  PQconninfoFree(options);
  std::string out = "postgresql://";
  if (!user.empty()) out += user + "@";
  out += host.empty() ? "localhost" : host;
  if (!port.empty()) out += ":" + port;
  return out + "/" + db;
}

Status PgStatus(PGconn* conn, const PGresult* result, const std::string& what) {
  std::string message = Trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(conn));
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  if (!conn || PQstatus(conn) != CONNECTION_OK)
    return Status(ErrorCode::kUnavailable,
                  what + ": the database connection is lost (" + message + ")");
  if (code == "23505" || code == "23503" || code == "40001")  // unique, foreign key, serialization
    return Status(ErrorCode::kFailedPrecondition, what + ": " + message);
  if (code == "25006")
    return Status(ErrorCode::kFailedPrecondition, what + ": the store was opened read-only");
  if (code == "53100")
    return Status(ErrorCode::kStorageFull, what + ": the disk is full (" + message + ")");
  if (code.rfind("08", 0) == 0 || code.rfind("57", 0) == 0 || code == "53300")
    return Status(ErrorCode::kUnavailable, what + ": " + message);
  return Status(ErrorCode::kInternal, what + ": " + message);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url) {
  std::string conninfo = url;
  if (conninfo.find("connect_timeout") == std::string::npos)
    conninfo +=
        (conninfo.find('?') == std::string::npos ? "?" : "&") + std::string("connect_timeout=10");
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (!conn) {
    std::string why = LibpqLoadError();
    return Status(ErrorCode::kUnavailable,
                  "cannot connect to " + DescribeUrl(url) + ": " +
                      (why.empty() ? "out of memory" : "libpq cannot be loaded (" + why + ")"));
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Status(ErrorCode::kUnavailable,
                  "cannot connect to " + DescribeUrl(url) + ": " + message);
  }
  // Notices (CREATE TABLE IF NOT EXISTS, ...) are not the user's business.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(url, conn));
}

Connection::~Connection() {
  PQfinish(conn_);
}

Result<Rows> Connection::ExecOnce(const std::string& sql, const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(r);
  Status s = PgStatus(conn_, r, "PostgreSQL");
  PQclear(r);
  return s;
}

Result<Rows> Connection::Exec(const std::string& sql, const std::vector<Param>& params) {
  auto r = ExecOnce(sql, params);
  // A connection lost between statements (a restarted server, a dropped socket) is made again;
  // inside a transaction the transaction is gone with it, and the caller fails.
  if (!r.ok() && PQstatus(conn_) != CONNECTION_OK && !in_transaction_) {
    PQreset(conn_);
    if (PQstatus(conn_) == CONNECTION_OK && (setup_.empty() || ExecScript(setup_).ok()))
      r = ExecOnce(sql, params);
  }
  return r;
}

Status Connection::ExecScript(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  Status s = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK
                 ? Status::Ok()
                 : PgStatus(conn_, r, "PostgreSQL");
  PQclear(r);
  return s;
}

Status Connection::Setup(const std::string& sql) {
  setup_ = sql;
  return ExecScript(sql);
}

Status Connection::Transaction(const std::function<Status()>& body) {
  auto begin = Exec("BEGIN");
  if (!begin.ok()) return begin.status();
  in_transaction_ = true;
  Status s = body();
  if (s.ok()) {
    auto commit = ExecOnce("COMMIT", {});
    if (!commit.ok()) s = commit.status();
  }
  if (!s.ok()) ExecOnce("ROLLBACK", {});
  in_transaction_ = false;
  return s;
}

}  // namespace scaffold::recordings::pg
