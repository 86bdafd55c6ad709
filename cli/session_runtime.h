// What a terminal command needs to run sessions: the event loop, the store, the provider and
// the tool host, built once per command from its flags.
#pragma once

#include <memory>

#include "cli/run_flags.h"
#include "engine/event_loop.h"
#include "engine/session.h"
#include "recordings/sqlite_store.h"

namespace scaffold::cli {

struct SessionRuntime {
  engine::EventLoop loop;
  engine::SystemClock clock;
  std::unique_ptr<recordings::SqliteStore> store;
  std::unique_ptr<engine::Provider> provider;
  std::unique_ptr<engine::ToolHost> tools;
  engine::RunOptions options;

  explicit SessionRuntime(const SessionFlags& flags);
  engine::SessionDeps Deps() { return {store.get(), provider.get(), tools.get(), &loop, &clock}; }
};

// Opens the database named by the flags; prints the problem and returns false on failure.
bool OpenStore(SessionRuntime* rt, const SessionFlags& flags);

// Sets up the LLM providers the workflow's agents use (after --provider) and the tools. Fails,
// printing why, when a provider is unknown or its API key is missing — before any session
// starts.
bool PrepareProviders(SessionRuntime* rt, const engine::Workflow& workflow,
                      const SessionFlags& flags);

// Runs an opened or created session in the terminal with the flags' answers and output mode.
int Drive(SessionRuntime* rt, engine::Session* session, const engine::Workflow& workflow,
          const SessionFlags& flags);

}  // namespace scaffold::cli
