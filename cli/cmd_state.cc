// scaffold state ID [--at N]: a session's state, derived from its events.

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/state.h"

namespace scaffold::cli {
namespace {

struct StateOptions {
  std::string db;
  std::string id;
  int64_t at = 0;
};

int RunState(const StateOptions& o) {
  auto store = OpenStoreOrReport(o.db);
  if (!store) return kExitUsage;
  auto id = ResolveSessionId(store.get(), o.id);
  if (!id.ok()) {
    PrintError(id.status().message());
    return ExitCodeFor(id.status());
  }
  auto state = engine::StateAt(store.get(), *id, o.at > 0 ? std::optional<int64_t>(o.at) : std::nullopt);
  if (!state.ok()) {
    PrintError(state.status().message());
    return ExitCodeFor(state.status());
  }
  std::printf("%s\n", state->state.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  return kExitOk;
}

}  // namespace

void SetupState(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<StateOptions>();
  CLI::App* cmd = app.add_subcommand("state", "Print a session's state (as JSON) now or at a position");
  cmd->add_option("ID", o->id, "Session id (or a unique prefix)")->required();
  cmd->add_option("--at", o->at, "The state after event N")->check(CLI::PositiveNumber);
  cmd->add_option("--db", o->db, "Database file (default: $SCAFFOLD_DB or .scaffold/scaffold.db)");
  cmd->callback([o, exit_code] { *exit_code = RunState(*o); });
}

}  // namespace scaffold::cli
