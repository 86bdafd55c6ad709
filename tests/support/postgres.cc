#include "tests/support/postgres.h"

#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "engine/uuid.h"

namespace scaffold::testing {
namespace {

std::string RunSql(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  INFO("PostgreSQL at " << url);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    FAIL("cannot connect: " << message);
  }
  PGresult* r = PQexec(conn, sql.c_str());
  ExecStatusType status = PQresultStatus(r);
  std::string out;
  if (status == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
  std::string message = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(conn);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) FAIL(sql << ": " << message);
  return out;
}

// The URL with its database replaced by `db`.
std::string WithDatabase(const std::string& url, const std::string& db) {
  auto slash = url.find("@/");
  auto query = url.find('?');
  return url.substr(0, slash + 2) + db + url.substr(query);
}

}  // namespace

std::string PostgresServerUrl() {
  std::ifstream file(SCAFFOLD_TEST_POSTGRES_URLFILE);
  std::string url;
  std::getline(file, url);
  if (url.empty()) {
    FAIL("the tests' PostgreSQL server is not running: run this test through ctest, which "
         "starts it (fixture \"postgres\"), or tests/support/postgres-server start "
         << SCAFFOLD_TEST_POSTGRES_URLFILE);
  }
  return url;
}

TempDatabase::TempDatabase() {
  server_ = PostgresServerUrl();
  std::string id = engine::NewUuid();
  name_ = "t_";
  for (char c : id) {
    if (c != '-') name_ += c;
  }
  RunSql(server_, "CREATE DATABASE " + name_);
  url_ = WithDatabase(server_, name_);
}

TempDatabase::~TempDatabase() {
  PGconn* conn = PQconnectdb(server_.c_str());
  PQclear(PQexec(conn, ("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)").c_str()));
  PQfinish(conn);
}

void TempDatabase::Drop() {
  RunSql(server_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

std::string TempDatabase::Sql(const std::string& sql) const {
  return RunSql(url_, sql);
}

}  // namespace scaffold::testing
