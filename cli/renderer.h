// Renderer: turns a session's events into what a person reads in the terminal — phase headers,
// streamed agent text, tool calls, a compact line per state change, asks, retries and errors.
//
// It works from events alone, so a local run and a remote session (attach) render the same.
// Not thread-safe; feed it from one thread.
#pragma once

#include <cstdio>
#include <set>
#include <string>

#include "cli/terminal.h"
#include "engine/event.h"
#include "engine/pricing.h"
#include "engine/usage_tally.h"

namespace scaffold::cli {

class Renderer {
 public:
  // `out` is borrowed; `prices` (null: none) is copied. In quiet mode only asks and errors are
  // printed.
  Renderer(std::FILE* out, TerminalStyle style, bool quiet, const engine::PriceTable* prices);

  void Render(const engine::Event& event);

  // Redraws the waiting spinner, if one is showing. Call every ~100 ms on a TTY.
  void Tick();

  // Totals over the events rendered so far; input tokens include cached and cache-written ones.
  int64_t agent_calls() const { return usage_.total().calls; }
  int64_t input_tokens() const {
    const engine::Usage& u = usage_.total().usage;
    return u.input_tokens + u.cache_read_tokens + u.cache_write_tokens;
  }
  int64_t output_tokens() const { return usage_.total().usage.output_tokens; }
  // Cost of the calls whose model has a price; models without one are listed.
  double cost() const { return usage_.total().cost; }
  const std::set<std::string>& unpriced_models() const { return usage_.total().unpriced; }

  // Ends a streamed line, if one is open, before something else is printed.
  void EndLine();

 private:
  void Print(const std::string& text);
  void Line(const std::string& text);
  void ClearSpinner();
  void StreamText(const std::string& key, const std::string& label, const std::string& delta,
                  bool dim);
  std::string AgentLabel(const Json& payload) const;

  std::FILE* out_;
  TerminalStyle style_;
  bool quiet_;

  bool at_line_start_ = true;
  std::string stream_key_;     // agent (and index) whose text is on the current line
  std::string spinner_label_;  // non-empty while waiting for an agent's first token
  int spinner_frame_ = 0;
  bool spinner_shown_ = false;

  engine::UsageTally usage_;
};

}  // namespace scaffold::cli
