// Store: where sessions, their events and their recorded provider exchanges live. Two
// implementations, with the same semantics (DESIGN §5): one SQLite file (recordings/sqlite/,
// the default) and PostgreSQL (recordings/postgres/, for several `scaffold serve` nodes).
//
// Every event is committed before Append returns, and so before anyone sees it; the events of
// one Append are one transaction (group commit); positions have no gaps. Implementations are
// thread-safe; calls are synchronous and durable on return.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/event_store.h"
#include "recordings/exchange.h"

namespace scaffold::recordings {

class Store : public engine::EventStore, public ExchangeBook {
 public:
  enum class Access { kReadWrite, kReadOnly };

  // ---- Recorded provider exchanges (ExchangeBook, plus) ----

  // A session's exchanges in recording order.
  virtual Result<std::vector<Exchange>> ListExchanges(const std::string& session_id) = 0;
  // The session's row says.
  Result<std::vector<std::string>> RedactPatterns(const std::string& session_id) override;

  // Stores a whole session at once — its row, events and exchanges — or nothing. For imports.
  virtual Status ImportSession(const engine::SessionInfo& info,
                               std::span<const engine::EventPtr> events,
                               const std::vector<Exchange>& exchanges) = 0;

  // Where the data is, for messages: a file path, or "postgresql://user@host:port/db" (never a
  // password).
  virtual std::string Describe() const = 0;
};

// True when `location` is a libpq connection URL (postgresql:// or postgres://) rather than an
// SQLite file path.
bool IsPostgresUrl(const std::string& location);

// Opens the store at `location` (--db, SCAFFOLD_DB): a PostgreSQL URL or an SQLite path
// (":memory:" for a private in-memory one). kReadOnly never creates, migrates or writes.
// Errors say what is wrong with that location.
Result<std::unique_ptr<Store>> OpenStore(const std::string& location,
                                         Store::Access access = Store::Access::kReadWrite);

}  // namespace scaffold::recordings
