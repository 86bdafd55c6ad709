// Running a program without a shell: the `command` tool, programs that serve client tools
// (`run --tool`, `scaffold client --tool`), with a timeout, an output cap and a chosen
// environment. The child gets its own process group, so a timeout or a cancel kills everything
// it started.
#pragma once

#include <atomic>
#include <optional>
#include <sys/types.h>
#include <string>
#include <vector>

namespace scaffold::net {

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] without a '/' is looked up in the PATH of `env`
  std::string cwd;                // empty: the current directory
  std::optional<std::vector<std::string>> env;  // "NAME=value" entries; nullopt: inherited
  std::string stdin_data;                       // written to the child's stdin, then closed
  int64_t timeout_ms = 30000;
  int64_t max_output_bytes = 1024 * 1024;  // per stream; the rest is read and dropped
};

struct ChildResult {
  std::string spawn_error;  // not empty when the program could not be started
  int exit_code = -1;       // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  bool cancelled = false;
  std::string out, err;
  bool out_truncated = false, err_truncated = false;

  bool ok() const { return spawn_error.empty() && !timed_out && !cancelled && exit_code == 0; }
  // "exited with status 3", "timed out after 500 ms", "killed by signal 9", ...
  std::string Describe(int64_t timeout_ms) const;
};

// A started child whose stdin, stdout and stderr are pipes: `in` (non-blocking) is written,
// `out` and `err` are read. The caller closes them and reaps `pid`.
struct SpawnedChild {
  int pid = -1;
  int in = -1, out = -1, err = -1;
};

// Starts spec.argv (in its own process group, in spec.cwd, with spec.env); stdin_data, the
// timeout and the output cap are the caller's business. Empty on success, else why it could not.
std::string SpawnChild(const ChildSpec& spec, SpawnedChild* child);

// Runs the child to completion. Blocks the calling thread; `cancel` (may be null) is checked
// every few milliseconds and kills the child's process group when set.
ChildResult RunChild(const ChildSpec& spec, const std::atomic<bool>* cancel = nullptr);

// write(2) to a pipe whose reader may be gone: EPIPE, never SIGPIPE (whose default action ends
// the process), whatever the process's disposition of the signal. Blocks SIGPIPE on the calling
// thread for the call and consumes the one the write raised.
ssize_t WriteToPipe(int fd, const void* data, size_t size);

// `text` with every invalid UTF-8 sequence replaced by U+FFFD (program output is bytes).
std::string ToValidUtf8(std::string text);

}  // namespace scaffold::net
