#include "tests/support/serve_process.h"

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <thread>

namespace scaffold::testing {
namespace {

std::vector<std::string> ServeArgs(std::vector<std::string> args, bool access_log) {
  args.insert(args.begin(), "serve");
  args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  if (!access_log) args.push_back("--no-access-log");
  return args;
}

}  // namespace

ServeProcess::ServeProcess(std::vector<std::string> args, bool access_log,
                           const ProcessOptions& options)
    : process_(ServeArgs(std::move(args), access_log), options) {
  WaitListening();
}

ServeProcess::ServeProcess(RawArgs args, bool, const ProcessOptions& options)
    : process_(std::move(args.argv), options) {
  WaitListening();
}

void ServeProcess::WaitListening() {
  std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 3000 && port_ == 0; ++i) {
    std::smatch m;
    std::string err = process_.Stderr();
    if (std::regex_search(err, m, listening)) {
      port_ = static_cast<uint16_t>(std::stoi(m[1]));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  INFO(process_.Stderr());
  REQUIRE(port_ != 0);
}

ServeProcess::~ServeProcess() {
  process_.Signal(SIGKILL);
  process_.Wait();
}

std::string TestDataFile(const std::string& name) {
  return std::string(SCAFFOLD_SOURCE_DIR) + "/tests/cli/data/" + name;
}

std::string ExampleFile(const std::string& name) {
  return std::string(SCAFFOLD_SOURCE_DIR) + "/examples/" + name;
}

}  // namespace scaffold::testing
