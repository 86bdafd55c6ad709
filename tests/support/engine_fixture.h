// Shared setup for engine tests: an in-memory SQLite store, a manual executor with virtual
// time, a scripted provider and fake tools, and helpers to run sessions and read their events.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine/session.h"
#include "engine/workflow.h"
#include "recordings/sqlite/sqlite_store.h"
#include "tests/support/fake_provider.h"
#include "tests/support/fake_tools.h"
#include "tests/support/manual_executor.h"

namespace scaffold::testing {

class CollectingSink : public engine::EventSink {
 public:
  void OnEvents(std::span<const engine::EventPtr> events) override {
    for (const auto& e : events) this->events.push_back(e);
  }
  std::vector<engine::EventPtr> events;
};

struct RunResult {
  std::unique_ptr<engine::Session> session;
  std::optional<engine::SessionEnd> end;
  std::shared_ptr<CollectingSink> sink = std::make_shared<CollectingSink>();
  std::string id() const { return session->id(); }
};

class EngineFixture {
 public:
  EngineFixture() {
    auto s = recordings::SqliteStore::Open(":memory:");
    REQUIRE(s.ok());
    store = std::move(*s);
    options.retry_base_ms = 100;
  }

  std::shared_ptr<const engine::Workflow> Load(const std::string& text) {
    auto loaded = engine::LoadWorkflow(text);
    std::string problems;
    for (const auto& d : loaded.diagnostics) problems += d.ToString() + "\n";
    INFO(problems);
    REQUIRE(loaded.workflow);
    return loaded.workflow;
  }

  engine::SessionDeps Deps(engine::ToolHost* tool_host = nullptr) {
    return {store.get(), &provider, tool_host ? tool_host : &tools, &exec, &exec};
  }

  // Creates a session and runs it until nothing is left to do (done, or waiting).
  std::unique_ptr<RunResult> Start(std::shared_ptr<const engine::Workflow> wf,
                                   Json input = nullptr) {
    auto run = std::make_unique<RunResult>();
    auto created = engine::Session::Create(Deps(), wf, std::move(input), options);
    INFO(created.status().ToString());
    REQUIRE(created.ok());
    run->session = std::move(*created);
    Attach(run.get());
    exec.RunUntilIdle();
    return run;
  }

  // Opens a stored session and runs it.
  std::unique_ptr<RunResult> Resume(std::shared_ptr<const engine::Workflow> wf,
                                    const std::string& id) {
    auto run = std::make_unique<RunResult>();
    auto opened = engine::Session::Open(Deps(), wf, id, options);
    INFO(opened.status().ToString());
    REQUIRE(opened.ok());
    run->session = std::move(*opened);
    Attach(run.get());
    exec.RunUntilIdle();
    return run;
  }

  std::vector<engine::EventPtr> Stored(const std::string& id) {
    auto events = store->ReadEvents(id, 0, 1000000);
    REQUIRE(events.ok());
    return *events;
  }

  static std::vector<std::string> Names(const std::vector<engine::EventPtr>& events) {
    std::vector<std::string> names;
    for (const auto& e : events) names.push_back(e->name);
    return names;
  }

  static std::vector<engine::EventPtr> Named(const std::vector<engine::EventPtr>& events,
                                             const std::string& name) {
    std::vector<engine::EventPtr> out;
    for (const auto& e : events) {
      if (e->name == name) out.push_back(e);
    }
    return out;
  }

  Json FinalState(const std::string& id) {
    auto events = Stored(id);
    auto done = Named(events, "workflow:completed");
    REQUIRE(done.size() == 1);
    return done[0]->payload["finalState"];
  }

  ManualExecutor exec;
  FakeProvider provider;
  FakeTools tools;
  std::unique_ptr<recordings::SqliteStore> store;
  engine::RunOptions options;

 private:
  void Attach(RunResult* run) {
    run->session->AddSink(run->sink.get());
    run->session->Start([run](const engine::SessionEnd& end) { run->end = end; });
  }
};

}  // namespace scaffold::testing
