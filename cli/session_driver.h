// Running one session in the terminal: the shared core of `run`, `resume` and `fork`.
//
// Streams the session's events (rendered, or as NDJSON with --json), answers asks from
// --answer values or by prompting on a terminal, turns Ctrl-C into a pause, and prints a final
// summary with the commands to continue. Without a terminal and without an answer, an ask
// stops the run (exit 2) and says how to answer it; the session stays waiting.
#pragma once

#include <map>
#include <string>

#include "engine/event_loop.h"
#include "engine/pricing.h"
#include "engine/session.h"

namespace scaffold::cli {

struct DriveOptions {
  bool json = false;
  bool quiet = false;
  bool no_color = false;
  std::map<std::string, std::string> answers;  // ask id -> typed answer
  engine::PriceTable prices;                   // for the cost in the summary
};

// Parses repeated --answer ID=VALUE flags. Fails naming the malformed flag.
Result<std::map<std::string, std::string>> ParseAnswers(const std::vector<std::string>& flags);

// Runs `session` (created or opened with `loop` as its executor) until it ends or needs an
// answer nobody can give, and returns the exit code.
int DriveSession(engine::Session* session, const engine::Workflow& workflow,
                 engine::EventLoop* loop, const DriveOptions& options);

}  // namespace scaffold::cli
