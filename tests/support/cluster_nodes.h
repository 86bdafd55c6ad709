// Several `scaffold serve` nodes on the tests' PostgreSQL, as real processes on loopback, and
// what the cluster tests ask of them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/json.h"
#include "net/sse_parser.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"
#include "tests/support/serve_process.h"

namespace scaffold::testing {

inline constexpr const char* kJsonContent = "Content-Type: application/json";

// A node serving the counter and release-checklist workflows (and what `extra` adds), with a
// lease of 2 s unless `extra` gives --lease-ms, so takeovers happen within a test's time.
std::unique_ptr<ServeProcess> StartNode(const TempDatabase& db, const std::string& name,
                                        std::vector<std::string> extra = {},
                                        const ProcessOptions& options = {});

// POST /sessions on `base`; the new session's id (REQUIRE 201).
std::string CreateSession(const std::string& base, const std::string& workflow, const Json& input);
// GET /sessions/:id on `base`.
Json SessionSummary(const std::string& base, const std::string& id);
// Waits until the session's status is `status` as `base` reports it.
bool WaitStatus(const std::string& base, const std::string& id, const std::string& status,
                int timeout_ms = 60000);

// The positions of the events of an SSE stream, in the order received.
std::vector<int64_t> Positions(const std::vector<net::SseEvent>& events);
// Checks that `positions` are 1..n, each once, in order.
void CheckExactlyOnce(const std::vector<int64_t>& positions, int64_t n);

}  // namespace scaffold::testing
