// Running one session in the terminal: the shared core of `run`, `resume` and `fork`.
//
// Streams the session's events (rendered, or as NDJSON with --json), answers asks from
// --answer values or by prompting on a terminal, turns Ctrl-C into a pause, and prints a final
// summary with the commands to continue. Without a terminal and without an answer, an ask
// stops the run (exit 2) and says how to answer it; the session stays waiting.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cli/run_flags.h"
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

// The options the flags ask for, with prices from the built-in table, then the workflow's
// `prices`, then --price flags. Fails naming a malformed flag.
Result<DriveOptions> MakeDriveOptions(
    const SessionFlags& flags, const std::map<std::string, engine::ModelPrice>& workflow_prices);

// What the terminal drives: a session of this process (LocalSession) or one on a server
// (remote_session.h). Everything is called, and calls back, on the driver's event loop.
class DrivenSession {
 public:
  virtual ~DrivenSession() = default;
  virtual const std::string& id() const = 0;
  // Starts delivering the session's events to `sink`, calls `on_ask` with the input:requested
  // payload of each ask that waits for an answer, and `done` once at the end.
  virtual void Start(engine::EventSink* sink, std::function<void(const Json&)> on_ask,
                     std::function<void(const engine::SessionEnd&)> done) = 0;
  virtual void SubmitInput(engine::InputAnswer answer,
                           std::function<void(const Status&)> reply) = 0;
  // Ctrl-C: true when the session is being paused (done follows with kPaused), false when
  // this terminal just let go of it (done follows with kCancelled) and it goes on elsewhere.
  virtual bool Interrupt() = 0;
  // Stops driving, leaving the session as it is (waiting for an answer); done follows.
  virtual void Leave() = 0;

  // Shell commands for the summary (printed on stderr).
  virtual std::string ResumeCommand() const = 0;
  virtual std::string AnswerCommand(const std::string& ask_id) const = 0;
  virtual std::string EventsCommand() const = 0;
  virtual std::string ForkCommand(int64_t position) const = 0;  // "" when not available
  virtual std::string ReattachCommand() const { return ""; }
  // The web console's page for the session on its server; "" for a session run here.
  virtual std::string ConsoleUrl() const { return ""; }
};

// A session of this process, run on `loop`.
class LocalSession : public DrivenSession {
 public:
  // Borrowed; the session runs on the loop the driver is given.
  explicit LocalSession(engine::Session* session) : session_(session) {}
  const std::string& id() const override { return session_->id(); }
  void Start(engine::EventSink* sink, std::function<void(const Json&)> on_ask,
             std::function<void(const engine::SessionEnd&)> done) override;
  void SubmitInput(engine::InputAnswer answer, std::function<void(const Status&)> reply) override {
    session_->SubmitInput(std::move(answer), std::move(reply));
  }
  bool Interrupt() override {
    session_->Pause("interrupted");
    return true;
  }
  void Leave() override { session_->Cancel(); }
  std::string ResumeCommand() const override { return "scaffold resume " + id(); }
  std::string AnswerCommand(const std::string& ask_id) const override {
    return "scaffold resume " + id() + " --answer '" + ask_id + "=...'";
  }
  std::string EventsCommand() const override { return "scaffold events " + id(); }
  std::string ForkCommand(int64_t position) const override {
    return "scaffold fork " + id() + " --at " + std::to_string(position);
  }

 private:
  engine::Session* session_;
};

// Drives `session` on `loop` until it ends or needs an answer nobody can give here, and returns
// the exit code. What it prints comes from the session's events alone, so a local run and a
// remote one render the same.
int DriveSession(DrivenSession* session, engine::EventLoop* loop, const DriveOptions& options);

}  // namespace scaffold::cli
