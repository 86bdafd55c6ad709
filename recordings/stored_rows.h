// What both stores read back the same way: a session row (the columns of kSessionColumns, in
// that order), an exchange row (kExchangeColumns) and a stored event's text.
#pragma once

#include <memory>
#include <string_view>

#include "engine/event.h"
#include "engine/event_store.h"
#include "engine/json.h"
#include "recordings/exchange.h"

namespace scaffold::recordings {

inline constexpr const char* kSessionColumns =
    "id, owner, workflow_name, workflow_source, workflow_sha256, input, status, parent_id, "
    "fork_position, created_at, updated_at, event_count, last_event_at, redact";

// `row` reads column i of the current row: Text(i), TextView(i), IsNull(i), Int(i).
template <typename Row>
engine::SessionInfo SessionFromRow(const Row& row) {
  engine::SessionInfo info;
  info.id = row.Text(0);
  info.owner = row.Text(1);
  info.workflow_name = row.Text(2);
  info.workflow_source = row.Text(3);
  info.workflow_sha256 = row.Text(4);
  auto input = ParseJson(row.TextView(5));
  info.input = input.ok() ? std::move(input).value() : Json();
  info.status =
      engine::ParseSessionStatus(row.TextView(6)).value_or(engine::SessionStatus::kRunning);
  info.parent_id = row.IsNull(7) ? "" : row.Text(7);
  info.fork_position = row.Int(8);
  info.created_at = row.Int(9);
  info.updated_at = row.Int(10);
  info.event_count = row.Int(11);
  info.last_event_at = row.Int(12);
  auto redact = ParseJson(row.TextView(13));
  if (redact.ok() && redact->is_array()) {
    for (const Json& p : *redact) {
      if (p.is_string()) info.redact.push_back(p.get<std::string>());
    }
  }
  return info;
}

// Exchanges joined with their session: x the exchanges table, s the sessions table.
inline constexpr const char* kExchangeColumns =
    "s.id, x.seq, x.key, x.occurrence, x.agent, x.request, x.response";

template <typename Row>
Exchange ExchangeFromRow(const Row& row) {
  Exchange x;
  x.session_id = row.Text(0);
  x.seq = row.Int(1);
  x.key = row.Text(2);
  x.occurrence = row.Int(3);
  x.agent = row.Text(4);
  auto request = ParseJson(row.TextView(5));
  auto response = ParseJson(row.TextView(6));
  x.request = request.ok() ? std::move(request).value() : Json();
  x.response = response.ok() ? std::move(response).value() : Json();
  return x;
}

// A stored event, parsed; a corrupt one says so.
inline Result<engine::EventPtr> ParseStoredEvent(std::string_view data) {
  auto event = engine::Event::Parse(data);
  if (!event.ok()) return event.status().WithContext("a stored event is corrupt");
  return engine::EventPtr(std::make_shared<const engine::Event>(std::move(*event)));
}

}  // namespace scaffold::recordings
