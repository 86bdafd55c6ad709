// scaffold sessions [list | show ID | rm ID]: what the database holds.

#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/fd_ostream.h"
#include "cli/terminal.h"
#include "cli/time_format.h"
#include "engine/pricing.h"
#include "engine/usage_tally.h"
#include "recordings/postgres/connection.h"
#include "recordings/recording_file.h"

namespace scaffold::cli {
static Json SessionJson(const engine::SessionInfo& s) {
  Json out = {{"sessionId", s.id},
              {"workflow", s.workflow_name},
              {"workflowSha256", s.workflow_sha256},
              {"status", engine::SessionStatusName(s.status)},
              {"eventCount", s.event_count},
              {"createdAt", s.created_at},
              {"updatedAt", s.updated_at},
              {"lastEventAt", s.last_event_at},
              {"input", s.input}};
  if (!s.owner.empty()) out["owner"] = s.owner;
  if (!s.parent_id.empty()) {
    out["parentSessionId"] = s.parent_id;
    out["forkPosition"] = s.fork_position;
  }
  return out;
}

int RunList(const SessionsOptions& o) {
  auto store = OpenStoreOrReport(o.db, recordings::Store::Access::kReadOnly);
  if (!store) return kExitUsage;
  engine::SessionFilter filter;
  filter.limit = o.limit;
  auto sessions = store->ListSessions(filter);
  if (!sessions.ok()) {
    PrintError(sessions.status().message());
    return kExitFailed;
  }
  if (o.json) {
    for (const auto& s : *sessions) std::printf("%s\n", DumpJson(SessionJson(s)).c_str());
    return kExitOk;
  }
  if (sessions->empty()) {
    // The database asked for: one not created yet was opened as an empty one in memory.
    std::string where = ResolveDbPath(o.db);
    if (recordings::IsPostgresUrl(where)) where = recordings::pg::DescribeUrl(where);
    std::printf("no sessions in %s\n", where.c_str());
    return kExitOk;
  }
  TerminalStyle style = DetectTerminal(false);
  std::printf(
      "%s\n",
      Paint(
          style, Tint::kBold,
          "SESSION                               WORKFLOW              STATUS     EVENTS  UPDATED")
          .c_str());
  for (const auto& s : *sessions) {
    std::printf("%-37s %-21s %-10s %6lld  %s\n", s.id.c_str(), Shorten(s.workflow_name, 21).c_str(),
                engine::SessionStatusName(s.status), static_cast<long long>(s.event_count),
                FormatDateTime(s.updated_at).c_str());
  }
  return kExitOk;
}

int RunShow(const SessionsOptions& o) {
  auto store = OpenStoreOrReport(o.db, recordings::Store::Access::kReadOnly);
  if (!store) return kExitUsage;
  auto id = ResolveSessionId(store.get(), o.id);
  if (!id.ok()) {
    PrintError(id.status().message());
    return ExitCodeFor(id.status());
  }
  auto info = store->GetSession(*id);
  if (!info.ok()) {
    PrintError(info.status().message());
    return kExitFailed;
  }
  auto events = store->ReadEvents(*id, 0, info->event_count + 1);
  if (!events.ok()) {
    PrintError(events.status().message());
    return kExitFailed;
  }
  auto loaded = engine::LoadWorkflow(info->workflow_source);
  engine::UsageTally tally(loaded.workflow ? engine::PriceTable::BuiltIn(loaded.workflow->prices)
                                           : engine::PriceTable::BuiltIn());
  Json result, error;
  for (const auto& e : *events) {
    tally.Add(*e);
    if (e->name == engine::events::kWorkflowCompleted && e->payload.contains("result")) {
      result = e->payload["result"];
    } else if (e->name == engine::events::kWorkflowError) {
      error = e->payload["error"];
    }
  }
  const engine::UsageTally::Totals& total = tally.total();
  int64_t calls = total.calls, out = total.usage.output_tokens;
  int64_t in =
      total.usage.input_tokens + total.usage.cache_read_tokens + total.usage.cache_write_tokens;
  if (o.json) {
    Json j = SessionJson(*info);
    j["usage"] = {{"agentCalls", calls}, {"inputTokens", in}, {"outputTokens", out}};
    if (calls > 0 && total.unpriced.empty()) j["usage"]["costUsd"] = total.cost;
    if (!result.is_null()) j["result"] = result;
    if (!error.is_null()) j["error"] = error;
    std::printf("%s\n", DumpJson(j).c_str());
    return kExitOk;
  }
  auto row = [](const char* label, const std::string& value) {
    std::printf("%-9s %s\n", label, value.c_str());
  };
  row("session", info->id);
  row("workflow", info->workflow_name + " (sha256 " + info->workflow_sha256.substr(0, 12) + ")");
  row("status", engine::SessionStatusName(info->status));
  if (!info->owner.empty()) row("owner", info->owner);
  row("input",
      Shorten(info->input.is_string() ? info->input.get<std::string>() : DumpJson(info->input),
              100));
  row("created", FormatDateTime(info->created_at));
  row("updated", FormatDateTime(info->updated_at));
  row("events", std::to_string(info->event_count));
  if (!info->parent_id.empty())
    row("forked",
        "from " + info->parent_id + " at position " + std::to_string(info->fork_position));
  std::string cost_text;
  if (calls > 0) {
    cost_text = total.unpriced.empty() ? " · " + engine::FormatCost(total.cost)
                                       : " · no price for " + *total.unpriced.begin();
  }
  row("agents", FormatCount(calls) + " call" + (calls == 1 ? "" : "s") + " · " + FormatCount(in) +
                    " tokens in · " + FormatCount(out) + " out" + cost_text);
  if (!result.is_null())
    row("result", Shorten(result.is_string() ? result.get<std::string>() : DumpJson(result), 100));
  if (!error.is_null()) {
    row("error",
        error.value("code", "") + ": " + error.value("message", "") +
            (error.contains("path") ? " (at " + error["path"].get<std::string>() + ")" : ""));
  }
  return kExitOk;
}

int RunRemove(const SessionsOptions& o) {
  auto store = OpenStoreOrReport(o.db);
  if (!store) return kExitUsage;
  auto info = store->GetSession(o.id);  // the full id: no prefixes for deletion
  if (!info.ok()) {
    PrintError(info.status().message() + " (rm needs the full session id)");
    return ExitCodeFor(info.status());
  }
  Status s = store->DeleteSession(o.id);
  if (!s.ok()) {
    PrintError(s.message());
    return kExitFailed;
  }
  std::printf("removed session %s (%lld events)\n", o.id.c_str(),
              static_cast<long long>(info->event_count));
  return kExitOk;
}

}  // namespace scaffold::cli

namespace scaffold::cli {

int RunExport(const SessionsOptions& o) {
  auto store = OpenStoreOrReport(o.db, recordings::Store::Access::kReadOnly);
  if (!store) return kExitUsage;
  auto id = ResolveSessionId(store.get(), o.id);
  if (!id.ok()) {
    PrintError(id.status().message());
    return ExitCodeFor(id.status());
  }
  if (o.output.empty()) {
    FdOstream out(STDOUT_FILENO);
    Status s = recordings::ExportRecording(store.get(), *id, out);
    if (!s.ok()) PrintError(s.message());
    return s.ok() ? kExitOk : kExitFailed;
  }
  // Written next to the target and renamed, so a failed export never leaves half a file.
  std::string temp = o.output + ".partial";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) {
      PrintError("cannot write " + o.output + ": " + std::strerror(errno));
      return kExitFailed;
    }
    Status s = recordings::ExportRecording(store.get(), *id, out);
    if (!s.ok()) {
      PrintError(s.message());
      std::remove(temp.c_str());
      return kExitFailed;
    }
  }
  if (std::rename(temp.c_str(), o.output.c_str()) != 0) {
    PrintError("cannot write " + o.output + ": " + std::strerror(errno));
    return kExitFailed;
  }
  std::fprintf(stderr, "exported session %s to %s\n", id->c_str(), o.output.c_str());
  return kExitOk;
}

int RunImport(const SessionsOptions& o) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) {
    PrintError("cannot read " + o.file + ": " + std::strerror(errno));
    return kExitUsage;
  }
  auto recording = recordings::ReadRecording(in);
  if (!recording.ok()) {
    PrintError(o.file + ": " + recording.status().message() + "; nothing was imported");
    return kExitUsage;
  }
  auto store = OpenStoreOrReport(o.db);
  if (!store) return kExitUsage;
  if (Status s = recordings::ImportRecording(store.get(), *recording); !s.ok()) {
    PrintError(s.message() + "; nothing was imported");
    return ExitCodeFor(s) == kExitOk ? kExitFailed : kExitUsage;
  }
  std::printf("imported session %s (%s, %zu events, %zu exchanges)\n", recording->info.id.c_str(),
              recording->info.workflow_name.c_str(), recording->events.size(),
              recording->exchanges.size());
  return kExitOk;
}

}  // namespace scaffold::cli
