#include "cli/session_driver.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>

#include "cli/common.h"
#include "cli/interrupts.h"
#include "cli/renderer.h"
#include "engine/ask.h"

namespace scaffold::cli {
namespace {

// One line of standard input, without its newline; false at the end of input before any of it.
bool ReadStdinLine(std::string* line) {
  char* data = nullptr;
  size_t capacity = 0;
  ssize_t n = ::getline(&data, &capacity, stdin);
  if (n > 0 && data[n - 1] == '\n') --n;
  if (n >= 0) line->assign(data, n);
  std::free(data);
  return n >= 0;
}

class Driver : public engine::EventSink {
 public:
  Driver(DrivenSession* session, engine::EventLoop* loop, const DriveOptions& options)
      : session_(session),
        loop_(loop),
        options_(options),
        style_(DetectTerminal(options.no_color)),
        err_style_(DetectTerminal(options.no_color, STDERR_FILENO)),
        renderer_(stdout, style_, options.quiet, &options.prices),
        answers_(options.answers),
        interactive_(isatty(STDIN_FILENO) == 1) {}

  int Run() {
    OnInterrupt([this] { loop_->Post([this] { Interrupt(); }); });
    // Guidance, not output: stderr, so that --json on stdout stays clean.
    if (std::string url = session_->ConsoleUrl(); !url.empty() && !options_.quiet) {
      std::fprintf(stderr, "%s %s\n",
                   Paint(err_style_, Tint::kDim, "watch it in a browser:").c_str(), url.c_str());
    }
    session_->Start(
        this, [this](const Json& request) { HandleAsk(request); },
        [this](const engine::SessionEnd& end) {
          end_ = end;
          loop_->Stop();
        });
    if (style_.tty && !options_.json && !options_.quiet) ScheduleTick();
    loop_->Run();
    tick_.reset();
    OnInterrupt(nullptr);
    return Summarize();
  }

  void OnEvents(std::span<const engine::EventPtr> events) override {
    for (const auto& e : events) {
      last_position_ = e->position;
      // The run's duration, from its events: the same for everyone who watches the session.
      if (e->name == engine::events::kWorkflowStarted ||
          e->name == engine::events::kSessionResumed) {
        started_at_ = e->timestamp;
      }
      if (started_at_ == 0) started_at_ = e->timestamp;
      last_at_ = e->timestamp;
      if (e->name == engine::events::kPhaseEntered) last_phase_entered_ = e->position;
      if (options_.json) {
        std::fwrite(e->wire.data(), 1, e->wire.size(), stdout);
        std::fputc('\n', stdout);
      } else {
        renderer_.Render(*e);
      }
      if (e->name == engine::events::kInputRequested)
        shown_requests_.insert(e->payload.value("id", ""));
    }
    std::fflush(stdout);
  }

 private:
  void ScheduleTick() {
    tick_ = loop_->RunAfter(std::chrono::milliseconds(100), [this] {
      renderer_.Tick();
      ScheduleTick();
    });
  }

  void Interrupt() {
    if (end_ || interrupted_) return;
    interrupted_ = true;
    detached_ = !session_->Interrupt();
  }

  // What the ask expects, from its input:requested payload (the terminal may not have the
  // workflow: attach).
  static engine::AskSpec AskFor(const Json& request) {
    engine::AskSpec ask;
    std::string type = request.value("type", "text");
    for (auto t : {engine::AskType::kApproval, engine::AskType::kChoice, engine::AskType::kText,
                   engine::AskType::kJson}) {
      if (type == engine::AskTypeName(t)) ask.type = t;
    }
    if (auto it = request.find("options"); it != request.end() && it->is_array()) {
      for (const auto& o : *it)
        ask.options.push_back(o.is_string() ? o.get<std::string>() : DumpJson(o));
    }
    return ask;
  }

  void HandleAsk(const Json& request) {
    std::string id = request.value("id", "");
    asks_[id] = AskFor(request);
    const engine::AskSpec* ask = &asks_[id];
    if (!shown_requests_.count(id) && !options_.json) {
      // Asked before this process started (a resumed session): show the question again.
      engine::Event shown;
      shown.name = engine::events::kInputRequested;
      shown.payload = request;
      renderer_.Render(shown);
      shown_requests_.insert(id);
    }
    auto given = answers_.find(id);
    if (given != answers_.end()) {
      std::string text = given->second;
      answers_.erase(given);
      Submit(id, *ask, text, /*from_flag=*/true);
      return;
    }
    if (interactive_) return Prompt(id, *ask);
    Wait(id);
  }

  // Leaves the session waiting for `id` and ends the run.
  void Wait(const std::string& id) {
    waiting_for_ = id;
    session_->Leave();
  }

  void Submit(const std::string& id, const engine::AskSpec& ask, const std::string& text,
              bool from_flag) {
    auto value = engine::ParseTypedAnswer(ask, text);
    auto on_reply = [this, id, &ask, from_flag, text](const Status& s) {
      if (s.ok()) return;
      if (from_flag) {
        PrintError("--answer " + id + "=" + text + ": " + s.message());
        bad_answer_ = true;
        session_->Leave();
      } else {
        std::fprintf(stderr, "%s\n", s.message().c_str());
        Prompt(id, ask);
      }
    };
    if (!value.ok()) return on_reply(value.status());
    session_->SubmitInput({id, *value, std::nullopt}, on_reply);
  }

  void Prompt(const std::string& id, const engine::AskSpec& ask) {
    renderer_.EndLine();
    std::string hint;
    switch (ask.type) {
      case engine::AskType::kApproval:
        hint = "approve? [y/n] ";
        break;
      case engine::AskType::kChoice:
        hint = "choose 1-" + std::to_string(ask.options.size()) + ": ";
        break;
      case engine::AskType::kText:
        hint = "answer: ";
        break;
      case engine::AskType::kJson:
        hint = "JSON: ";
        break;
    }
    std::fprintf(stderr, "%s", hint.c_str());
    std::fflush(stderr);
    // Reading blocks, so it happens on a thread of its own; the answer is posted back.
    std::thread([this, id, &ask] {
      std::string line;
      bool ok = ReadStdinLine(&line);
      loop_->Post([this, id, &ask, line, ok] {
        if (end_) return;
        if (!ok) return Wait(id);
        Submit(id, ask, line, false);
      });
    }).detach();
  }

  int Summarize() {
    renderer_.EndLine();
    const std::string& id = session_->id();
    int64_t duration = last_at_ - started_at_;
    std::FILE* out = options_.json ? stderr : stdout;
    // The commands to go on from here are guidance, not the session's output: stderr.
    auto hint = [&](const std::string& label, const std::string& command) {
      if (command.empty()) return;
      std::fprintf(stderr, "  %s %s\n", Paint(err_style_, Tint::kDim, label).c_str(),
                   command.c_str());
    };
    if (bad_answer_) return kExitUsage;
    if (!waiting_for_.empty()) {
      std::fprintf(stderr,
                   "session %s is waiting for input \"%s\" and there is no terminal to ask on\n",
                   id.c_str(), waiting_for_.c_str());
      std::fprintf(stderr, "  answer it with: %s\n", session_->AnswerCommand(waiting_for_).c_str());
      return kExitUsage;
    }
    if (detached_) {
      std::fprintf(out, "%s at position %lld · session %s goes on without this terminal\n",
                   Paint(style_, Tint::kYellow, "⏏ detached").c_str(),
                   static_cast<long long>(last_position_), id.c_str());
      hint("reattach:", session_->ReattachCommand());
      return kExitInterrupted;
    }
    if (!end_) return kExitFailed;
    std::string tokens =
        FormatCount(renderer_.input_tokens() + renderer_.output_tokens()) + " tokens";
    if (renderer_.cost() > 0) tokens += " · " + engine::FormatCost(renderer_.cost());
    if (!renderer_.unpriced_models().empty()) {
      tokens += " (no price for " + *renderer_.unpriced_models().begin() + "; see --price)";
    }
    switch (end_->outcome) {
      case engine::SessionOutcome::kCompleted:
        if (!options_.json) {
          std::fprintf(out, "%s in %s · %lld agent call%s · %s · session %s\n",
                       Paint(style_, Tint::kGreen, "✓ completed").c_str(),
                       FormatDuration(duration).c_str(),
                       static_cast<long long>(renderer_.agent_calls()),
                       renderer_.agent_calls() == 1 ? "" : "s", tokens.c_str(), id.c_str());
          if (!end_->result.is_null()) {
            std::fprintf(out, "  %s %s\n", Paint(style_, Tint::kDim, "result").c_str(),
                         Shorten(end_->result.is_string() ? end_->result.get<std::string>()
                                                          : DumpJson(end_->result),
                                 style_.width - 10)
                             .c_str());
          }
          hint("events:", session_->EventsCommand());
        }
        return kExitOk;
      case engine::SessionOutcome::kFailed:
        if (end_->error.code() != ErrorCode::kAborted && end_->failure_code.empty()) {
          // The log could not be written (a full disk, a lost database): the workflow did not
          // fail, and everything committed is kept, so the session continues from there.
          std::fprintf(
              out, "%s after %s · session %s\n",
              Paint(style_, Tint::kRed, "✗ stopped: the session could not be recorded").c_str(),
              FormatDuration(duration).c_str(), id.c_str());
          PrintError(end_->error.message());
          hint("continue it once that is fixed:", session_->ResumeCommand());
          return kExitFailed;
        }
        std::fprintf(out, "%s after %s · session %s\n",
                     Paint(style_, Tint::kRed, "✗ failed").c_str(),
                     FormatDuration(duration).c_str(), id.c_str());
        if (end_->error.code() != ErrorCode::kAborted) PrintError(end_->error.message());
        hint("events:", session_->EventsCommand());
        if (end_->failure_code == "missing_recording") return kExitRecordingMissing;
        if (last_phase_entered_ > 1)
          hint("retry the failed phase:", session_->ForkCommand(last_phase_entered_ - 1));
        return kExitFailed;
      case engine::SessionOutcome::kPaused:
        std::fprintf(out, "%s at position %lld · session %s\n",
                     Paint(style_, Tint::kYellow, "⏸ paused").c_str(),
                     static_cast<long long>(last_position_), id.c_str());
        hint("resume:", session_->ResumeCommand());
        return interrupted_ ? kExitInterrupted : kExitOk;
      case engine::SessionOutcome::kCancelled:
        return kExitFailed;
    }
    return kExitFailed;
  }

  DrivenSession* session_;
  engine::EventLoop* loop_;
  const DriveOptions& options_;
  TerminalStyle style_;
  TerminalStyle err_style_;
  Renderer renderer_;
  std::map<std::string, std::string> answers_;
  std::map<std::string, engine::AskSpec> asks_;  // by input:requested id
  std::set<std::string> shown_requests_;         // input:requested ids rendered in this run
  bool interactive_;

  std::optional<engine::SessionEnd> end_;
  std::unique_ptr<engine::TimerHandle> tick_;
  std::string waiting_for_;
  bool interrupted_ = false;
  bool detached_ = false;
  bool bad_answer_ = false;
  int64_t last_position_ = 0;
  int64_t last_phase_entered_ = 0;
  int64_t started_at_ = 0;  // timestamp of this run's workflow:started or session:resumed
  int64_t last_at_ = 0;     // timestamp of the latest event
};

}  // namespace

void LocalSession::Start(engine::EventSink* sink, std::function<void(const Json&)> on_ask,
                         std::function<void(const engine::SessionEnd&)> done) {
  session_->AddSink(sink);
  session_->SetInputListener(std::move(on_ask));
  session_->Start([this, sink, done = std::move(done)](const engine::SessionEnd& end) {
    session_->RemoveSink(sink);
    done(end);
  });
}

Result<std::map<std::string, std::string>> ParseAnswers(const std::vector<std::string>& flags) {
  std::map<std::string, std::string> out;
  for (const auto& f : flags) {
    size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--answer " + f +
                             ": expected ID=VALUE, for example --answer review=yes");
    }
    out[f.substr(0, eq)] = f.substr(eq + 1);
  }
  return out;
}

Result<DriveOptions> MakeDriveOptions(
    const SessionFlags& flags, const std::map<std::string, engine::ModelPrice>& workflow_prices) {
  auto answers = ParseAnswers(flags.answers);
  if (!answers.ok()) return answers.status();
  DriveOptions options;
  options.prices = engine::PriceTable::BuiltIn(workflow_prices);
  for (const auto& flag : flags.prices) SCAFFOLD_RETURN_IF_ERROR(options.prices.SetFromFlag(flag));
  options.json = flags.json;
  options.quiet = flags.quiet;
  options.no_color = flags.no_color;
  options.answers = std::move(*answers);
  return options;
}

int DriveSession(DrivenSession* session, engine::EventLoop* loop, const DriveOptions& options) {
  Driver driver(session, loop, options);
  return driver.Run();
}

}  // namespace scaffold::cli
