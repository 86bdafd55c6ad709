#include "net/server/strand_executor.h"

#include <boost/asio.hpp>

namespace scaffold::net {

namespace asio = boost::asio;

struct StrandExecutor::Impl {
  explicit Impl(asio::io_context* io) : io(io), strand(asio::make_strand(*io)) {}
  asio::io_context* io;
  asio::strand<asio::io_context::executor_type> strand;
};

namespace {

class AsioTimer : public engine::TimerHandle {
 public:
  AsioTimer(asio::strand<asio::io_context::executor_type> strand, std::chrono::milliseconds delay,
            std::function<void()> fn)
      : state_(std::make_shared<State>(strand)) {
    state_->timer.expires_after(delay);
    state_->fn = std::move(fn);
    // The state outlives the handle until the wait completes; `cancelled` is only touched on
    // the strand.
    state_->timer.async_wait(
        asio::bind_executor(strand, [state = state_](boost::system::error_code ec) {
          if (ec || state->cancelled) return;
          auto fn = std::move(state->fn);
          state->fn = nullptr;
          if (fn) fn();
        }));
  }
  ~AsioTimer() override { Cancel(); }
  void Cancel() override {
    state_->cancelled = true;
    state_->fn = nullptr;
    state_->timer.cancel();
  }

 private:
  struct State {
    explicit State(asio::strand<asio::io_context::executor_type> s) : timer(s) {}
    asio::steady_timer timer;
    std::function<void()> fn;
    bool cancelled = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace

StrandExecutor::StrandExecutor(asio::io_context* io) : impl_(std::make_unique<Impl>(io)) {}
StrandExecutor::~StrandExecutor() = default;

void StrandExecutor::Post(std::function<void()> fn) {
  asio::post(impl_->strand, std::move(fn));
}

std::unique_ptr<engine::TimerHandle> StrandExecutor::RunAfter(std::chrono::milliseconds delay,
                                                              std::function<void()> fn) {
  return std::make_unique<AsioTimer>(impl_->strand, delay, std::move(fn));
}

bool StrandExecutor::InStrand() const {
  return impl_->strand.running_in_this_thread();
}

}  // namespace scaffold::net
