#include "cli/session_runtime.h"

#include "cli/common.h"
#include "cli/session_driver.h"
#include "net/llm_provider.h"

namespace scaffold::cli {

SessionRuntime::SessionRuntime(const SessionFlags& flags) {
  options.provider_override = flags.provider;
  options.model_override = flags.model;
  options.redact = flags.redact;
}

engine::SessionDeps SessionRuntime::Deps() {
  if (!recorder) {
    recorder = std::make_unique<recordings::RecordingProvider>(
        store.get(), live.get(), recordings::RecordingProvider::Options{mode, false});
  }
  return {store.get(), recorder.get(), tools.get(), &loop, &clock};
}

bool OpenStore(SessionRuntime* rt, const SessionFlags& flags) {
  rt->store = OpenStoreOrReport(flags.db);
  return rt->store != nullptr;
}

bool PrepareProviders(SessionRuntime* rt, const engine::Workflow& workflow,
                      const SessionFlags& flags, const std::string& provider_override) {
  auto mode = recordings::ParseRecordMode(flags.mode);
  if (!mode.ok()) {
    PrintError(mode.status().message());
    return false;
  }
  rt->mode = *mode;
  rt->tools = std::make_unique<engine::NoToolHost>();
  if (rt->mode == recordings::RecordMode::kPlayback) return true;
  auto endpoints = net::ResolveEndpoints(workflow, provider_override, net::ProcessEnvironment());
  if (!endpoints.ok()) {
    std::string hint = rt->mode == recordings::RecordMode::kAuto
                           ? " (auto mode may call the provider; --mode playback needs no key)"
                           : "";
    PrintError(endpoints.status().message() + hint);
    return false;
  }
  rt->live = std::make_unique<net::LlmProvider>(std::move(*endpoints));
  return true;
}

int Drive(SessionRuntime* rt, engine::Session* session, const engine::Workflow& workflow,
          const SessionFlags& flags) {
  auto options = MakeDriveOptions(flags, workflow.prices);
  if (!options.ok()) {
    PrintError(options.status().message());
    return kExitUsage;
  }
  LocalSession local(session, &rt->loop);
  return DriveSession(&local, &rt->loop, *options);
}

}  // namespace scaffold::cli
