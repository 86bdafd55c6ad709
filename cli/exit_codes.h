// Exit codes of the scaffold executable (DESIGN §8).
#pragma once

namespace scaffold::cli {

enum ExitCode : int {
  kExitOk = 0,        // done
  kExitFailed = 1,    // the workflow failed, or an operation on stored data did
  kExitUsage = 2,     // bad usage, an invalid workflow file or input, or an ask nobody can answer
  kExitDiverged = 3,  // replay diverged
  kExitRecordingMissing = 4,  // replay found no recorded exchange
  kExitInterrupted = 130,     // Ctrl-C: the session was paused
};

}  // namespace scaffold::cli
