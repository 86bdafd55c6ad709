// scaffold replay SESSION|FILE: re-run a recorded session with no LLM and check its events.

#include <filesystem>
#include <fstream>
#include <optional>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/renderer.h"
#include "recordings/recording_file.h"
#include "recordings/replay.h"

namespace scaffold::cli {
namespace {

// Renders the replay as it runs, like a live session.
class RenderSink : public engine::EventSink {
 public:
  RenderSink(TerminalStyle style, const engine::PriceTable* prices)
      : renderer_(stdout, style, false, prices) {}
  void OnEvents(std::span<const engine::EventPtr> events) override {
    for (const auto& e : events) renderer_.Render(*e);
  }
  Renderer& renderer() { return renderer_; }

 private:
  Renderer renderer_;
};

}  // namespace

int RunReplay(const ReplayOptions& o) {
  // A recording file is replayed as read; a session id is looked up in the database.
  std::optional<recordings::RecordingText> recording;
  std::unique_ptr<recordings::Store> store;
  std::string id;
  std::error_code ec;
  if (std::filesystem::is_regular_file(o.target, ec)) {
    std::ifstream in(o.target, std::ios::binary);
    auto read = recordings::ReadRecordingText(in);
    if (!read.ok()) {
      PrintError(o.target + ": " + read.status().message());
      return kExitUsage;
    }
    recording = std::move(read).value();
  } else {
    store = OpenStoreOrReport(o.db, recordings::Store::Access::kReadOnly);
    if (!store) return kExitUsage;
    auto resolved = ResolveSessionId(store.get(), o.target);
    if (!resolved.ok()) {
      PrintError(resolved.status().message() + " (and there is no file " + o.target + ")");
      return ExitCodeFor(resolved.status());
    }
    id = *resolved;
  }

  recordings::ReplayOptions options;
  if (!o.workflow.empty()) {
    options.workflow = LoadWorkflowFileOrReport(o.workflow);
    if (!options.workflow) return kExitUsage;
  }
  TerminalStyle style = DetectTerminal(o.no_color);
  engine::PriceTable prices = engine::PriceTable::BuiltIn();
  std::unique_ptr<RenderSink> view;
  if (!o.json && !o.quiet) {
    view = std::make_unique<RenderSink>(style, &prices);
    options.view = view.get();
  }
  auto report = recording ? recordings::ReplayRecording(*recording, options)
                          : recordings::ReplaySession(store.get(), id, options);
  if (!report.ok()) {
    // A recording's events are parsed as the replay reaches them: one the file has damaged is
    // reported like any other problem of the file, with its line ("line N: ...").
    const Status& s = report.status();
    if (recording && s.code() == ErrorCode::kInvalidArgument && s.message().starts_with("line ")) {
      PrintError(o.target + ": " + s.message());
      return kExitUsage;
    }
    PrintError(s.message());
    return kExitFailed;
  }
  if (view) view->renderer().EndLine();
  if (o.json) {
    std::printf("%s\n", DumpJson(report->ToJson()).c_str());
  } else {
    std::string text = report->ToText();
    Tint tint = report->verdict == recordings::ReplayReport::Verdict::kIdentical ? Tint::kGreen
                                                                                 : Tint::kRed;
    std::printf("%s\n", Paint(style, tint, text).c_str());
  }
  switch (report->verdict) {
    case recordings::ReplayReport::Verdict::kIdentical:
      return kExitOk;
    case recordings::ReplayReport::Verdict::kDiverged:
      return kExitDiverged;
    case recordings::ReplayReport::Verdict::kMissingExchange:
      return kExitRecordingMissing;
  }
  return kExitFailed;
}

}  // namespace scaffold::cli
