// What a terminal command needs to run sessions: the event loop, the store, the provider and
// the tool host, built once per command from its flags.
#pragma once

#include <memory>

#include "cli/run_flags.h"
#include "engine/event_loop.h"
#include "engine/session.h"
#include "recordings/recording_provider.h"
#include "recordings/store.h"

namespace scaffold::cli {

// Calls go through a RecordingProvider (recording in live mode, playing back in playback mode,
// both in auto mode) in front of the real provider, which playback mode does not need.
struct SessionRuntime {
  engine::EventLoop loop;
  engine::SystemClock clock;
  std::unique_ptr<recordings::Store> store;
  std::unique_ptr<engine::Provider> live;  // null in playback mode
  std::unique_ptr<recordings::RecordingProvider> recorder;
  std::unique_ptr<engine::ToolHost> client_tools;  // --tool programs
  std::unique_ptr<engine::ToolHost> tools;

  recordings::RecordMode mode = recordings::RecordMode::kLive;
  engine::RunOptions options;

  explicit SessionRuntime(const SessionFlags& flags);
  // The dependencies of a session; the store must be open.
  engine::SessionDeps Deps();
};

// Opens the database named by the flags; prints the problem and returns false on failure.
bool OpenStore(SessionRuntime* rt, const SessionFlags& flags);

// Sets up the LLM providers the workflow's agents use (all of them `provider_override` when it
// is set) and the tools. Fails, printing why, on a bad --mode, an unknown provider or a missing
// API key — before any session starts. Playback mode needs no key.
bool PrepareProviders(SessionRuntime* rt, const engine::Workflow& workflow,
                      const SessionFlags& flags, const std::string& provider_override);

// Runs an opened or created session in the terminal with the flags' answers and output mode.
int Drive(SessionRuntime* rt, engine::Session* session, const engine::Workflow& workflow,
          const SessionFlags& flags);

}  // namespace scaffold::cli
