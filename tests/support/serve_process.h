// `scaffold serve` as a real process on 127.0.0.1 with a port the kernel picked, for tests that
// need the binary itself: its stderr, its restarts, kill -9.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace scaffold::testing {

class ServeProcess {
 public:
  // Arguments passed as they are (to options.program, which ends up running serve with
  // --listen 127.0.0.1:0 itself).
  struct RawArgs {
    std::vector<std::string> argv;
  };
  static RawArgs Raw(std::vector<std::string> argv) { return {std::move(argv)}; }

  // `args` follow `serve`; --listen 127.0.0.1:0 is added, and --no-access-log unless
  // `access_log`. Waits (REQUIRE) until the server says where it listens.
  explicit ServeProcess(std::vector<std::string> args, bool access_log = false,
                        const ProcessOptions& options = {});
  ServeProcess(RawArgs args, bool, const ProcessOptions& options);
  ~ServeProcess();  // kill -9

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  BackgroundProcess& process() { return process_; }

 private:
  void WaitListening();

  BackgroundProcess process_;
  uint16_t port_ = 0;
};

// Where the test data files (tests/cli/data) and the examples are.
std::string TestDataFile(const std::string& name);
std::string ExampleFile(const std::string& name);

}  // namespace scaffold::testing
