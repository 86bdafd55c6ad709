// Ctrl-C for commands that run sessions. InitInterrupts() blocks SIGINT and SIGTERM in the
// calling thread — call it before any other thread starts, so every thread inherits the mask —
// and waits for them on a thread of its own, which runs the current handler. A second signal
// while the first is being handled ends the process with exit code 130.
#pragma once

#include <functional>

namespace scaffold::cli {

void InitInterrupts();

// Replaces the handler (runs on the signal thread; keep it to a Post()).
void OnInterrupt(std::function<void()> handler);

}  // namespace scaffold::cli
