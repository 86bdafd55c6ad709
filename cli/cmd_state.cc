// scaffold state ID [--at N]: a session's state, derived from its events.

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/state.h"

namespace scaffold::cli {
int RunState(const StateOptions& o) {
  auto store = OpenStoreOrReport(o.db, recordings::Store::Access::kReadOnly);
  if (!store) return kExitUsage;
  auto id = ResolveSessionId(store.get(), o.id);
  if (!id.ok()) {
    PrintError(id.status().message());
    return ExitCodeFor(id.status());
  }
  auto state =
      engine::StateAt(store.get(), *id, o.at > 0 ? std::optional<int64_t>(o.at) : std::nullopt);
  if (!state.ok()) {
    PrintError(state.status().message());
    return ExitCodeFor(state.status());
  }
  std::printf("%s\n", state->state.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  return kExitOk;
}

}  // namespace scaffold::cli
