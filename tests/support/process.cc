#include "tests/support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace scaffold::testing {
namespace {

std::vector<std::string> Environment(const ProcessOptions& options) {
  std::vector<std::string> env;
  for (const char* keep :
       {"PATH", "HOME", "TZ", "LANG", "LC_ALL", "TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
    if (const char* v = std::getenv(keep); v && !options.env.count(keep))
      env.push_back(std::string(keep) + "=" + v);
  }
  for (const auto& [k, v] : options.env) env.push_back(k + "=" + v);
  return env;
}

// Forks and execs the binary with stdin from `in_fd`, stdout to `out_fd`, stderr to `err_fd`.
int Spawn(const std::vector<std::string>& args, const ProcessOptions& options, int in_fd,
          int out_fd, int err_fd) {
  std::string binary = options.program.empty() ? ScaffoldBinary() : options.program;

  std::vector<std::string> argv_s = {binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s = Environment(options);
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(127);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string TempFile() {
  char path[] = "/tmp/scaffold-proc-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  return path;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string ScaffoldBinary() {
  return SCAFFOLD_BINARY;
}

ProcessResult RunScaffold(const std::vector<std::string>& args, const ProcessOptions& options) {
  std::string in_path = TempFile(), out_path = TempFile(), err_path = TempFile();
  std::ofstream(in_path, std::ios::binary) << options.stdin_text;
  int in_fd = open(in_path.c_str(), O_RDONLY);
  int out_fd = open(out_path.c_str(), O_WRONLY | O_TRUNC);
  int err_fd = open(err_path.c_str(), O_WRONLY | O_TRUNC);
  int pid = Spawn(args, options, in_fd, out_fd, err_fd);
  close(in_fd);
  close(out_fd);
  close(err_fd);
  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  result.exit_code = DecodeStatus(status);
  result.out = Slurp(out_path);
  result.err = Slurp(err_path);
  unlink(in_path.c_str());
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& args,
                                     const ProcessOptions& options) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  err_path_ = TempFile();
  int in_fd = open("/dev/null", O_RDONLY);
  int err_fd = open(err_path_.c_str(), O_WRONLY | O_TRUNC);
  pid_ = Spawn(args, options, in_fd, pipe_fds[1], err_fd);
  close(in_fd);
  close(err_fd);
  close(pipe_fds[1]);
  out_fd_ = pipe_fds[0];
}

BackgroundProcess::~BackgroundProcess() {
  if (!exited_) {
    kill(pid_, SIGKILL);
    Wait();
  }
  if (out_fd_ >= 0) close(out_fd_);
  unlink(err_path_.c_str());
}

bool BackgroundProcess::ReadLine(std::string* line, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      *line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[65536];
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

void BackgroundProcess::Signal(int sig) {
  kill(pid_, sig);
}

int BackgroundProcess::Wait(int timeout_ms) {
  if (exited_) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    // Keep the pipe drained so the child never blocks writing.
    char buf[65536];
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, 2) > 0) {
      ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n > 0) buffer_.append(buf, static_cast<size_t>(n));
    }
  }
  exited_ = true;
  exit_code_ = DecodeStatus(status);
  return exit_code_;
}

std::string BackgroundProcess::Stderr() {
  return Slurp(err_path_);
}

}  // namespace scaffold::testing
