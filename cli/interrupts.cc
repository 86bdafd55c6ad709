#include "cli/interrupts.h"

#include <signal.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "cli/exit_codes.h"

namespace scaffold::cli {
namespace {

std::mutex mu;
std::function<void()> handler;  // protected by mu
bool started = false;           // protected by mu

void WaitForSignals(sigset_t set) {
  int received = 0;
  while (sigwait(&set, &received) == 0) {
    std::function<void()> h;
    {
      std::lock_guard<std::mutex> lock(mu);
      h = std::move(handler);
      handler = nullptr;
    }
    if (!h) _exit(kExitInterrupted);  // no handler, or a second Ctrl-C
    h();
  }
}

}  // namespace

void InitInterrupts() {
  std::lock_guard<std::mutex> lock(mu);
  if (started) return;
  started = true;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(WaitForSignals, set).detach();
}

void OnInterrupt(std::function<void()> h) {
  std::lock_guard<std::mutex> lock(mu);
  handler = std::move(h);
}

}  // namespace scaffold::cli
