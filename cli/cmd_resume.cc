// scaffold resume ID and scaffold fork ID --at N: continue a stored session, or a copy of its
// first N events, in this terminal.

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/interrupts.h"
#include "cli/session_runtime.h"

namespace scaffold::cli {
// Opens session `id` and runs it on.
static int Continue(SessionRuntime* rt, const std::string& id, const SessionFlags& flags) {
  auto info = rt->store->GetSession(id);
  if (!info.ok()) {
    PrintError(info.status().message());
    return ExitCodeFor(info.status());
  }
  if (Status claimed = ClaimToDrive(rt->store.get(), id); !claimed.ok()) {
    PrintError(claimed.message());
    return ExitCodeFor(claimed);
  }
  auto workflow = LoadStoredWorkflowOrReport(*info);
  if (!workflow) return kExitFailed;
  // Without --provider the session keeps the provider it was started with.
  std::string provider = flags.provider;
  if (provider.empty()) {
    auto first = rt->store->ReadEvents(id, 0, 1);
    if (first.ok() && !first->empty())
      provider = (*first)[0]->payload.value("overrides", Json::object()).value("provider", "");
  }
  if (!PrepareProviders(rt, *workflow, flags, provider)) return kExitUsage;
  auto session = engine::Session::Open(rt->Deps(), workflow, id, rt->options);
  if (!session.ok()) {
    PrintError(session.status().message());
    return session.status().code() == ErrorCode::kFailedPrecondition
               ? kExitUsage
               : ExitCodeFor(session.status());
  }
  return Drive(rt, session->get(), *workflow, flags);
}

int RunResume(const ResumeOptions& o) {
  InitInterrupts();
  auto rt = std::make_unique<SessionRuntime>(o.session);
  if (!OpenStore(rt.get(), o.session)) return kExitUsage;
  auto id = ResolveSessionId(rt->store.get(), o.id);
  if (!id.ok()) {
    PrintError(id.status().message());
    return ExitCodeFor(id.status());
  }
  return Continue(rt.get(), *id, o.session);
}

int RunFork(const ForkOptions& o) {
  InitInterrupts();
  auto rt = std::make_unique<SessionRuntime>(o.session);
  if (!OpenStore(rt.get(), o.session)) return kExitUsage;
  auto id = ResolveSessionId(rt->store.get(), o.id);
  if (!id.ok()) {
    PrintError(id.status().message());
    return ExitCodeFor(id.status());
  }
  auto fork = engine::ForkSession(rt->store.get(), &rt->clock, *id, o.at);
  if (!fork.ok()) {
    PrintError(fork.status().message());
    return ExitCodeFor(fork.status());
  }
  std::fprintf(o.session.json ? stderr : stdout, "forked %s at position %lld: %s\n", id->c_str(),
               static_cast<long long>(o.at), fork->session_id.c_str());
  if (o.no_run) {
    std::fprintf(o.session.json ? stderr : stdout, "  run it with: scaffold resume %s\n",
                 fork->session_id.c_str());
    return kExitOk;
  }
  return Continue(rt.get(), fork->session_id, o.session);
}

}  // namespace scaffold::cli
