// The tests' PostgreSQL: the private server ctest starts for the "postgres" fixture
// (tests/support/postgres-server), and a fresh database on it for each test that wants one.
// Without that server the tests fail, with a message saying how to run them: they never skip.
#pragma once

#include <string>

namespace scaffold::testing {

// The server's URL (its `postgres` database), read from the file the fixture wrote. Fails the
// test when the server is not there.
std::string PostgresServerUrl();

// A database of its own on the tests' server, dropped with everything in it when this goes away.
class TempDatabase {
 public:
  TempDatabase();
  ~TempDatabase();
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  // Runs SQL on it (as the superuser), failing the test on an error; returns the first column of
  // the first row, or "" when there is none.
  std::string Sql(const std::string& sql) const;
  // Drops it now, cutting every connection to it (as a lost database would).
  void Drop();

 private:
  std::string server_;
  std::string name_;
  std::string url_;
};

}  // namespace scaffold::testing
