// scaffold events ID [--follow] [--from N] [--json]: a session's event log.

#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "cli/time_format.h"

namespace scaffold::cli {
static void PrintEvent(const engine::Event& e, bool json, const TerminalStyle& style) {
  if (json) {
    std::fwrite(e.wire.data(), 1, e.wire.size(), stdout);
    std::fputc('\n', stdout);
    return;
  }
  std::string payload =
      Shorten(DumpJson(e.payload), static_cast<size_t>(std::max(20, style.width - 48)));
  std::printf("%6lld  %s  %s %s\n", static_cast<long long>(e.position),
              Paint(style, Tint::kDim, FormatTimeOfDay(e.timestamp)).c_str(),
              Paint(style, Tint::kCyan,
                    e.name + std::string(e.name.size() < 18 ? 18 - e.name.size() : 0, ' '))
                  .c_str(),
              payload.c_str());
}

int RunEvents(const EventsOptions& o) {
  auto store = OpenStoreOrReport(o.db, recordings::Store::Access::kReadOnly);
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

}  // namespace scaffold::cli
