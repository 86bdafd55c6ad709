// scaffold attach URL SESSION: follow a session on a scaffold server in this terminal.

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/interrupts.h"
#include "cli/remote_session.h"

namespace scaffold::cli {

int RunAttach(const AttachOptions& o) {
  InitInterrupts();
  auto remote = ResolveRemote(o.url, o.token, "URL");
  if (!remote.ok()) {
    PrintError(remote.status().message());
    return kExitUsage;
  }
  return AttachRemote(*remote, o.id, o.resume, o.session);
}

}  // namespace scaffold::cli
