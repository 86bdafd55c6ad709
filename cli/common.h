// Helpers shared by the subcommands: the database, workflow files, session ids, errors.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "cli/exit_codes.h"
#include "engine/status.h"
#include "engine/workflow.h"
#include "recordings/store.h"

namespace scaffold::cli {

// Input files (--input-file) larger than this are refused.
inline constexpr size_t kMaxInputBytes = 16 * 1024 * 1024;

// --db, else $SCAFFOLD_DB, else .scaffold/scaffold.db under the current directory.
std::string ResolveDbPath(const std::string& flag);

// Where sessions' workspaces (files tools) live: beside an SQLite database; under .scaffold in
// the current directory for ":memory:" and PostgreSQL (each node has its own then: a files
// tool's workspace does not follow a session to another node).
std::string DataDirFor(const std::string& db_flag);

// Opens the database, creating the default .scaffold/ directory when needed. On failure prints
// the error and returns null.
// Opens the database of --db / SCAFFOLD_DB / the default, or prints why not. Commands that only
// read open it kReadOnly: they work on a read-only file or mount, and never create one.
std::unique_ptr<recordings::Store> OpenStoreOrReport(
    const std::string& db_flag,
    recordings::Store::Access access = recordings::Store::Access::kReadWrite);

// Reads a whole file, refusing files over `cap` bytes. `what` names the file in errors.
Result<std::string> ReadFileCapped(const std::string& path, size_t cap, const std::string& what);

// Loads and validates a workflow file, printing every problem as "FILE: /path: message".
// Returns null when the file cannot be used.
std::shared_ptr<const engine::Workflow> LoadWorkflowFileOrReport(const std::string& path);

// Loads the workflow a stored session was started with.
std::shared_ptr<const engine::Workflow> LoadStoredWorkflowOrReport(const engine::SessionInfo& info);

// Resolves a full session id or a unique prefix of one.
// Makes this process the driver of a stored session before it continues it. On PostgreSQL a
// running session is driven by the holder of its lease: a dead process's lease is waited out (at
// most the lease time, saying so on stderr); one a live node keeps renewing is refused. Nothing
// to do on SQLite.
Status ClaimToDrive(recordings::Store* store, const std::string& id);

Result<std::string> ResolveSessionId(engine::EventStore* store, const std::string& text);

// "scaffold: error: message" on stderr.
void PrintError(const std::string& message);

// The exit code for an error that stopped a command.
int ExitCodeFor(const Status& status);

// Parses --input/--input-file text as the workflow expects: JSON when its input schema asks
// for anything but a string, the text itself otherwise.
Result<Json> ParseSessionInput(const engine::Workflow& workflow, const std::string& text,
                               const std::string& origin);

}  // namespace scaffold::cli
