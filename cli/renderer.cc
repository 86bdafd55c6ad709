#include "cli/renderer.h"

#include "engine/json.h"

namespace scaffold::cli {
namespace {

const char* kSpinner[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};

std::string Compact(const Json& value) {
  return value.is_string() ? value.get<std::string>() : DumpJson(value);
}

}  // namespace

Renderer::Renderer(std::FILE* out, TerminalStyle style, bool quiet,
                   const engine::PriceTable* prices)
    : out_(out), style_(style), quiet_(quiet), usage_(prices ? *prices : engine::PriceTable()) {}

void Renderer::Print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), out_);
  if (!text.empty()) at_line_start_ = text.back() == '\n';
}

void Renderer::EndLine() {
  ClearSpinner();
  if (!at_line_start_) Print("\n");
  stream_key_.clear();
}

void Renderer::Line(const std::string& text) {
  EndLine();
  Print(text + "\n");
}

void Renderer::ClearSpinner() {
  if (!spinner_shown_) return;
  Print("\r\x1b[K");
  at_line_start_ = true;
  spinner_shown_ = false;
}

void Renderer::Tick() {
  if (spinner_label_.empty() || !style_.tty || quiet_ || !at_line_start_) return;
  spinner_frame_ = (spinner_frame_ + 1) % 10;
  Print("\r\x1b[K" +
        Paint(style_, Tint::kDim, std::string(kSpinner[spinner_frame_]) + " " + spinner_label_));
  at_line_start_ = true;  // the spinner line is erased before anything else is printed
  spinner_shown_ = true;
  std::fflush(out_);
}

std::string Renderer::AgentLabel(const Json& payload) const {
  std::string label = payload.value("agent", "");
  if (payload.contains("index"))
    label += "[" + std::to_string(payload["index"].get<int64_t>()) + "]";
  return label;
}

void Renderer::StreamText(const std::string& key, const std::string& label,
                          const std::string& delta, bool dim) {
  ClearSpinner();
  spinner_label_.clear();
  if (stream_key_ != key) {
    EndLine();
    Print("  " + Paint(style_, Tint::kCyan, label) +
          Paint(style_, Tint::kDim, dim ? " ∴ " : " › "));
    stream_key_ = key;
  }
  std::string text;
  for (char c : delta) {
    text += c;
    if (c == '\n') text += "    ";
  }
  Print(dim ? Paint(style_, Tint::kDim, text) : text);
}

void Renderer::Render(const engine::Event& e) {
  namespace ev = engine::events;
  const Json& p = e.payload;
  const std::string& name = e.name;

  if (name == ev::kInputRequested) {
    // Asks are shown even when quiet: someone has to answer them.
    spinner_label_.clear();
    Line(Paint(style_, Tint::kYellow, "? ") + Paint(style_, Tint::kBold, p.value("id", "")) +
         Paint(style_, Tint::kDim, " (" + p.value("type", "text") + ")"));
    std::string prompt = p.value("prompt", "");
    while (!prompt.empty() && (prompt.back() == '\n' || prompt.back() == ' ')) prompt.pop_back();
    std::string indented = "  ";
    for (char c : prompt) {
      indented += c;
      if (c == '\n') indented += "  ";
    }
    Line(indented);
    if (p.contains("options")) {
      int i = 1;
      for (const auto& o : p["options"]) Line("  " + std::to_string(i++) + ") " + Compact(o));
    }
    std::fflush(out_);
    return;
  }
  usage_.Add(e);
  if (name == ev::kWorkflowError) {
    const Json& err = p.value("error", Json::object());
    std::string where = err.contains("path") ? " (at " + err["path"].get<std::string>() + ")" : "";
    Line(Paint(style_, Tint::kRed, "✗ " + err.value("code", "error") + ": ") +
         err.value("message", "") + where);
    std::fflush(out_);
    return;
  }
  if (quiet_) return;

  if (name == ev::kWorkflowStarted) {
    Line(Paint(style_, Tint::kBold, "scaffold ▸ " + p.value("workflow", "")) +
         Paint(style_, Tint::kDim, "  session " + p.value("sessionId", "")));
  } else if (name == ev::kPhaseEntered) {
    Line(Paint(style_, Tint::kBold, Paint(style_, Tint::kBlue, "▸ " + p.value("phase", ""))));
  } else if (name == ev::kAgentStarted) {
    spinner_label_ = AgentLabel(p) + " thinking…";
  } else if (name == ev::kTextDelta) {
    StreamText(AgentLabel(p), AgentLabel(p), p.value("delta", ""), false);
  } else if (name == ev::kThinkingDelta) {
    StreamText(AgentLabel(p) + "∴", AgentLabel(p), p.value("delta", ""), true);
  } else if (name == ev::kTextComplete || name == ev::kThinkingComplete) {
    EndLine();
  } else if (name == ev::kAgentCompleted) {
    spinner_label_.clear();
    EndLine();
    const Json& output = p.value("output", Json());
    if (!output.is_string())
      Line("  " + Paint(style_, Tint::kDim, "output ") +
           Shorten(DumpJson(output), style_.width - 10));
    std::string usage;
    if (p.contains("usage")) {
      usage = "  " + FormatCount(p["usage"].value("inputTokens", int64_t{0})) + " in · " +
              FormatCount(p["usage"].value("outputTokens", int64_t{0})) + " out";
    }
    Line("  " + Paint(style_, Tint::kGreen, "✓ ") + AgentLabel(p) +
         Paint(style_, Tint::kDim,
               "  " + FormatDuration(p.value("durationMs", int64_t{0})) + usage));
  } else if (name == ev::kAgentRetry) {
    spinner_label_ = AgentLabel(p) + " retrying…";
    Line("  " + Paint(style_, Tint::kYellow, "↻ ") + AgentLabel(p) + " retry " +
         std::to_string(p.value("attempt", 0)) + " (" + p.value("reason", "") + ", after " +
         FormatDuration(p.value("delayMs", int64_t{0})) +
         "): " + Shorten(p.value("error", ""), style_.width - 40));
  } else if (name == ev::kToolCalled) {
    std::string who = p.contains("agent") ? AgentLabel(p) : p.value("phase", "");
    Line("  " + Paint(style_, Tint::kMagenta, "⚙ ") + who + " → " + p.value("toolName", "") + " " +
         Paint(style_, Tint::kDim,
               Shorten(DumpJson(p.value("input", Json::object())), style_.width - 30)));
  } else if (name == ev::kToolListed) {
    std::string head = "  " + Paint(style_, Tint::kMagenta, "⚙ ") + AgentLabel(p) + " uses " +
                       p.value("tool", "") + ": ";
    if (p.contains("error")) {
      Line(head + Paint(style_, Tint::kRed, Shorten(p.value("error", ""), style_.width - 30)));
    } else {
      size_t tools = p.value("tools", Json::array()).size();
      size_t skipped = p.value("skipped", Json::array()).size();
      Line(head + std::to_string(tools) + (tools == 1 ? " tool" : " tools") +
           (skipped ? Paint(style_, Tint::kYellow, " (" + std::to_string(skipped) + " left out)")
                    : ""));
    }
  } else if (name == ev::kToolResult) {
    bool error = p.value("isError", false);
    std::string text = Shorten(Compact(p.value("output", Json())), style_.width - 12);
    Line("    " + (error ? Paint(style_, Tint::kRed, "← error: " + text)
                         : Paint(style_, Tint::kDim, "← " + text)));
    if (p.contains("agent")) spinner_label_ = AgentLabel(p) + " thinking…";
  } else if (name == ev::kStateIntent) {
    for (const auto& op : p.value("patches", Json::array())) {
      std::string path = op.value("path", "");
      std::string text =
          op.value("op", "") == "remove" ? " removed" : " = " + DumpJson(op.value("value", Json()));
      Line("  " + Paint(style_, Tint::kDim, "state ") + Shorten(path + text, style_.width - 10));
    }
  } else if (name == ev::kInputReceived) {
    std::string answer =
        p.contains("approved") ? (p["approved"].get<bool>() ? "approved" : "rejected") : "";
    if (!p.value("value", Json()).is_null())
      answer += (answer.empty() ? "" : ": ") + Compact(p["value"]);
    if (p.value("timedOut", false)) answer += " (timed out: default)";
    Line("  " + Paint(style_, Tint::kGreen, "✓ ") + p.value("id", "") + ": " +
         Shorten(answer, style_.width - 20));
  } else if (name == ev::kSessionPaused) {
    Line(Paint(style_, Tint::kYellow, "⏸ paused") +
         Paint(style_, Tint::kDim, " (" + p.value("reason", "") + ")"));
  } else if (name == ev::kSessionResumed) {
    Line(Paint(style_, Tint::kYellow, "↻ resumed") +
         Paint(style_, Tint::kDim,
               " after position " + std::to_string(p.value("fromPosition", int64_t{0}))));
  } else if (name == ev::kSessionForked) {
    Line(Paint(style_, Tint::kYellow, "⑂ forked") +
         Paint(style_, Tint::kDim,
               " from " + p.value("parentSessionId", "") + " at position " +
                   std::to_string(p.value("forkIndex", int64_t{0}))));
  }
  std::fflush(out_);
}

}  // namespace scaffold::cli
