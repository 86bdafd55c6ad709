#include "cli/session_runtime.h"

#include "cli/common.h"
#include "cli/session_driver.h"

namespace scaffold::cli {
namespace {

// Every model call fails: this build has no LLM provider clients. Workflows made of set, ask,
// each-free and terminal phases run; agents fail with this message.
class NoProvider : public engine::Provider {
 public:
  std::unique_ptr<engine::ModelCall> Start(const engine::ModelRequest& request,
                                           engine::Executor* executor,
                                           engine::ModelStreamHandler* handler) override {
    auto alive = std::make_shared<bool>(true);
    std::string message = "no LLM provider client is available in this build (agent \"" +
                          request.agent + "\" needs provider \"" + request.provider + "\")";
    executor->Post([alive, handler, message] {
      if (*alive)
        handler->OnError(
            {engine::ProviderErrorKind::kInvalidRequest, message, 0, std::nullopt, false});
    });
    return std::make_unique<Call>(alive);
  }

 private:
  class Call : public engine::ModelCall {
   public:
    explicit Call(std::shared_ptr<bool> alive) : alive_(std::move(alive)) {}
    void Cancel() override { *alive_ = false; }

   private:
    std::shared_ptr<bool> alive_;
  };
};

}  // namespace

std::unique_ptr<SessionRuntime> MakeRuntime(const SessionFlags& flags) {
  auto rt = std::make_unique<SessionRuntime>();
  rt->store = OpenStoreOrReport(flags.db);
  if (!rt->store) return nullptr;
  rt->provider = std::make_unique<NoProvider>();
  rt->tools = std::make_unique<engine::NoToolHost>();
  rt->options.provider_override = flags.provider;
  rt->options.model_override = flags.model;
  return rt;
}

int Drive(SessionRuntime* rt, engine::Session* session, const engine::Workflow& workflow,
          const SessionFlags& flags) {
  auto answers = ParseAnswers(flags.answers);
  if (!answers.ok()) {
    PrintError(answers.status().message());
    return kExitUsage;
  }
  DriveOptions options;
  options.json = flags.json;
  options.quiet = flags.quiet;
  options.no_color = flags.no_color;
  options.answers = *answers;
  return DriveSession(session, workflow, &rt->loop, options);
}

}  // namespace scaffold::cli
