// The libpq functions scaffold calls, forwarded to libpq opened on first use
// (engine/lazy_library.h): only a postgresql:// --db loads it. Without libpq, PQconnectdb
// returns null (pg::Connection::Open reports LibpqLoadError()) and the rest do nothing.
#include <libpq-fe.h>

#include <string>

#include "engine/lazy_library.h"
#include "recordings/postgres/connection.h"

namespace {

scaffold::engine::LazyLibrary& Pq() {
  static scaffold::engine::LazyLibrary library({"libpq.so.5"});
  return library;
}

#define SCAFFOLD_PQ(name) static const auto real = Pq().Function<decltype(&::name)>(#name)

}  // namespace

namespace scaffold::recordings::pg {

std::string LibpqLoadError() {
  Pq().Symbol("PQconnectdb");
  return Pq().error();
}

}  // namespace scaffold::recordings::pg

extern "C" {

PGconn* PQconnectdb(const char* conninfo) {
  SCAFFOLD_PQ(PQconnectdb);
  return real ? real(conninfo) : nullptr;
}

void PQfinish(PGconn* conn) {
  SCAFFOLD_PQ(PQfinish);
  if (real) real(conn);
}

void PQreset(PGconn* conn) {
  SCAFFOLD_PQ(PQreset);
  if (real) real(conn);
}

ConnStatusType PQstatus(const PGconn* conn) {
  SCAFFOLD_PQ(PQstatus);
  return real ? real(conn) : CONNECTION_BAD;
}

char* PQerrorMessage(const PGconn* conn) {
  SCAFFOLD_PQ(PQerrorMessage);
  static char none[] = "libpq cannot be loaded";
  return real ? real(conn) : none;
}

int PQsocket(const PGconn* conn) {
  SCAFFOLD_PQ(PQsocket);
  return real ? real(conn) : -1;
}

PQnoticeProcessor PQsetNoticeProcessor(PGconn* conn, PQnoticeProcessor proc, void* arg) {
  SCAFFOLD_PQ(PQsetNoticeProcessor);
  return real ? real(conn, proc, arg) : nullptr;
}

PQconninfoOption* PQconninfoParse(const char* conninfo, char** errmsg) {
  SCAFFOLD_PQ(PQconninfoParse);
  if (errmsg) *errmsg = nullptr;
  return real ? real(conninfo, errmsg) : nullptr;
}

void PQconninfoFree(PQconninfoOption* options) {
  SCAFFOLD_PQ(PQconninfoFree);
  if (real) real(options);
}

void PQfreemem(void* p) {
  SCAFFOLD_PQ(PQfreemem);
  if (real) real(p);
}

PGresult* PQexec(PGconn* conn, const char* query) {
  SCAFFOLD_PQ(PQexec);
  return real ? real(conn, query) : nullptr;
}

PGresult* PQexecParams(PGconn* conn, const char* command, int count, const Oid* types,
                       const char* const* values, const int* lengths, const int* formats,
                       int result_format) {
  SCAFFOLD_PQ(PQexecParams);
  return real ? real(conn, command, count, types, values, lengths, formats, result_format)
              : nullptr;
}

ExecStatusType PQresultStatus(const PGresult* result) {
  SCAFFOLD_PQ(PQresultStatus);
  return real ? real(result) : PGRES_FATAL_ERROR;
}

char* PQresultErrorMessage(const PGresult* result) {
  SCAFFOLD_PQ(PQresultErrorMessage);
  static char none[] = "";
  return real ? real(result) : none;
}

char* PQresultErrorField(const PGresult* result, int field) {
  SCAFFOLD_PQ(PQresultErrorField);
  return real ? real(result, field) : nullptr;
}

int PQntuples(const PGresult* result) {
  SCAFFOLD_PQ(PQntuples);
  return real ? real(result) : 0;
}

char* PQgetvalue(const PGresult* result, int row, int column) {
  SCAFFOLD_PQ(PQgetvalue);
  static char none[] = "";
  return real ? real(result, row, column) : none;
}

int PQgetlength(const PGresult* result, int row, int column) {
  SCAFFOLD_PQ(PQgetlength);
  return real ? real(result, row, column) : 0;
}

int PQgetisnull(const PGresult* result, int row, int column) {
  SCAFFOLD_PQ(PQgetisnull);
  return real ? real(result, row, column) : 1;
}

void PQclear(PGresult* result) {
  SCAFFOLD_PQ(PQclear);
  if (real) real(result);
}

int PQconsumeInput(PGconn* conn) {
  SCAFFOLD_PQ(PQconsumeInput);
  return real ? real(conn) : 0;
}

PGnotify* PQnotifies(PGconn* conn) {
  SCAFFOLD_PQ(PQnotifies);
  return real ? real(conn) : nullptr;
}

}  // extern "C"
