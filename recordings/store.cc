#include "recordings/store.h"

#include "recordings/postgres/postgres_store.h"
#include "recordings/sqlite/sqlite_store.h"

namespace scaffold::recordings {

bool IsPostgresUrl(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

Result<std::vector<std::string>> Store::RedactPatterns(const std::string& session_id) {
  auto info = GetSession(session_id);
  if (!info.ok()) return info.status();
  return info->redact;
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& location, Store::Access access) {
  if (IsPostgresUrl(location)) {
    auto pg = PostgresStore::Open(location, access);
    if (!pg.ok()) return pg.status();
    return std::unique_ptr<Store>(std::move(pg).value());
  }
  auto sqlite = SqliteStore::Open(location, access);
  if (!sqlite.ok()) return sqlite.status();
  return std::unique_ptr<Store>(std::move(sqlite).value());
}

}  // namespace scaffold::recordings
