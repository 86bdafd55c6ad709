// scaffold events ID [--follow] [--from N] [--json]: a session's event log.

#include <CLI/CLI.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "cli/time_format.h"

namespace scaffold::cli {
namespace {

struct EventsOptions {
  std::string db;
  std::string id;
  int64_t from = 1;
  bool follow = false;
  bool json = false;
  bool no_color = false;
};

void PrintEvent(const engine::Event& e, bool json, const TerminalStyle& style) {
  if (json) {
    std::fwrite(e.wire.data(), 1, e.wire.size(), stdout);
    std::fputc('\n', stdout);
    return;
  }
  std::string payload = Shorten(DumpJson(e.payload), static_cast<size_t>(std::max(20, style.width - 48)));
  std::printf("%6lld  %s  %s %s\n", static_cast<long long>(e.position),
              Paint(style, Tint::kDim, FormatTimeOfDay(e.timestamp)).c_str(),
              Paint(style, Tint::kCyan, e.name + std::string(e.name.size() < 18 ? 18 - e.name.size() : 0, ' ')).c_str(),
              payload.c_str());
}

int RunEvents(const EventsOptions& o) {
  auto store = OpenStoreOrReport(o.db);
  if (!store) return kExitUsage;
  auto id = ResolveSessionId(store.get(), o.id);
  if (!id.ok()) {
    PrintError(id.status().message());
    return ExitCodeFor(id.status());
  }
  TerminalStyle style = DetectTerminal(o.no_color);
  int64_t after = o.from - 1;
  bool finished = false;
  while (true) {
    auto page = store->ReadEvents(*id, after, 4096);
    if (!page.ok()) {
      PrintError(page.status().message());
      return kExitFailed;
    }
    for (const auto& e : *page) {
      PrintEvent(*e, o.json, style);
      after = e->position;
      finished |= engine::IsFinalEvent(e->name);
    }
    std::fflush(stdout);
    if (page->size() == 4096) continue;
    if (!o.follow || finished) break;
    // Another process appends; poll the database until the session finishes (or Ctrl-C).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!finished) {
      auto info = store->GetSession(*id);
      if (!info.ok()) {
        PrintError(info.status().message());
        return kExitFailed;
      }
    }
  }
  return kExitOk;
}

}  // namespace

void SetupEvents(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<EventsOptions>();
  CLI::App* cmd = app.add_subcommand("events", "Print a session's events");
  cmd->add_option("ID", o->id, "Session id (or a unique prefix)")->required();
  cmd->add_option("--from", o->from, "Start at this position (default 1)")->check(CLI::PositiveNumber);
  cmd->add_flag("--follow,-f", o->follow, "Keep printing new events until the session finishes");
  cmd->add_flag("--json", o->json, "One event per line, as NDJSON");
  cmd->add_flag("--no-color", o->no_color, "Never colour the output");
  cmd->add_option("--db", o->db, "Database file (default: $SCAFFOLD_DB or .scaffold/scaffold.db)");
  cmd->callback([o, exit_code] { *exit_code = RunEvents(*o); });
}

}  // namespace scaffold::cli
