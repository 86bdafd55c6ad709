// Running the real scaffold binary from tests: capture its output and exit code, or start it
// in the background and read its stdout line by line.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace scaffold::testing {

// Path of the built binary.
std::string ScaffoldBinary();

struct ProcessResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to a clean environment (PATH, HOME, TZ kept)
  std::string cwd;
  std::string stdin_text;  // fed to stdin, then closed
  int timeout_ms = 60000;  // killed (SIGKILL) after this
  std::string program;     // a full path: run this instead of the scaffold binary
};

// Runs the binary to completion.
ProcessResult RunScaffold(const std::vector<std::string>& args, const ProcessOptions& options = {});

// A scaffold process running in the background with stdout on a pipe.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& args, const ProcessOptions& options = {});
  ~BackgroundProcess();

  // Reads one line of stdout; false at end of output or after `timeout_ms`.
  bool ReadLine(std::string* line, int timeout_ms = 30000);
  void Signal(int sig);
  int pid() const { return pid_; }
  // Waits for exit; returns the exit code (128+N when killed by signal N).
  int Wait(int timeout_ms = 60000);
  // stderr so far (read after Wait).
  std::string Stderr();

 private:
  int pid_ = -1;
  int out_fd_ = -1;
  std::string err_path_;
  std::string buffer_;
  bool exited_ = false;
  int exit_code_ = -1;
};

}  // namespace scaffold::testing
