#include "net/mcp/stdio_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

namespace scaffold::net::mcp {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MsUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max<int64_t>(0, left.count());
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

}  // namespace

Result<std::unique_ptr<StdioTransport>> StdioTransport::Start(StdioOptions options,
                                                              LineHandler on_line,
                                                              ClosedHandler on_closed) {
  std::unique_ptr<StdioTransport> t(
      new StdioTransport(std::move(options), std::move(on_line), std::move(on_closed)));
  if (pipe2(t->wake_, O_CLOEXEC | O_NONBLOCK) != 0)
    return Status(ErrorCode::kUnavailable, std::string("cannot create a pipe: ") + strerror(errno));
  std::string error = SpawnChild(t->options_.spec, &t->child_);
  if (!error.empty()) return Status(ErrorCode::kUnavailable, error);
  return t;
}

void StdioTransport::Run() {
  if (!reader_.joinable()) reader_ = std::thread([this] { ReadLoop(); });
}

StdioTransport::StdioTransport(StdioOptions options, LineHandler on_line, ClosedHandler on_closed)
    : options_(std::move(options)), on_line_(std::move(on_line)), on_closed_(std::move(on_closed)) {}

StdioTransport::~StdioTransport() {
  Stop();
  if (reader_.joinable()) reader_.join();
  CloseFd(&wake_[0]);
  CloseFd(&wake_[1]);
}

Status StdioTransport::Send(std::string_view json) {
  std::lock_guard lock(write_mu_);
  if (closed_ || stopping_ || child_.in < 0)
    return Status(ErrorCode::kUnavailable, "the MCP server has stopped");
  std::string line;
  line.reserve(json.size() + 1);
  line.append(json);
  line.push_back('\n');
  auto deadline = Clock::now() + std::chrono::milliseconds(options_.write_timeout_ms);
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = WriteToPipe(child_.in, line.data() + done, line.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN)
      return Status(ErrorCode::kUnavailable, "the MCP server closed its input");
    int64_t left = MsUntil(deadline);
    if (left == 0) {
      return Status(ErrorCode::kDeadlineExceeded,
                    "the MCP server did not read its input within " +
                        std::to_string(options_.write_timeout_ms) + " ms");
    }
    pollfd p{child_.in, POLLOUT, 0};
    poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100)));
  }
  return Status::Ok();
}

void StdioTransport::Stop() {
  if (stopping_.exchange(true)) return;
  if (!reader_.joinable()) {  // never run: nobody else reaps it
    KillGroup(SIGKILL);
    if (child_.pid > 0) waitpid(child_.pid, nullptr, 0);
    child_.pid = -1;
    CloseFd(&child_.in);
    CloseFd(&child_.out);
    CloseFd(&child_.err);
    closed_ = true;
    return;
  }
  {
    std::lock_guard lock(write_mu_);
    CloseFd(&child_.in);  // a well-behaved server exits when its input ends
  }
  auto wait_closed = [&](int64_t ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    while (!closed_ && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return closed_.load();
  };
  if (!wait_closed(options_.stop_grace_ms)) {
    KillGroup(SIGTERM);
    if (!wait_closed(500)) KillGroup(SIGKILL);
  }
  char byte = 1;
  (void)!write(wake_[1], &byte, 1);
}

void StdioTransport::KillGroup(int signal) {
  std::lock_guard lock(err_mu_);
  if (child_.pid > 0) kill(-child_.pid, signal);  // not reaped yet: still its group
}

std::string StdioTransport::StderrTail() const {
  std::lock_guard lock(err_mu_);
  return stderr_tail_;
}

void StdioTransport::KeepStderr(const char* data, size_t size) {
  std::lock_guard lock(err_mu_);
  stderr_tail_.append(data, size);
  size_t cap = static_cast<size_t>(options_.stderr_tail_bytes);
  if (stderr_tail_.size() > cap) stderr_tail_.erase(0, stderr_tail_.size() - cap);
}

void StdioTransport::Abort(const std::string& why) {
  if (abort_.empty()) abort_ = why;
}

void StdioTransport::Close(const std::string& why) {
  if (closed_.exchange(true)) return;
  if (on_closed_) on_closed_(why);
}

void StdioTransport::ReadLoop() {
  std::string pending;
  std::string why;
  char buf[65536];
  bool out_open = true;
  while (out_open) {
    pollfd fds[3] = {{child_.out, POLLIN, 0}, {child_.err, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      why = std::string("cannot wait for the MCP server: ") + strerror(errno);
      break;
    }
    if (fds[2].revents) {
      why = "stopped";
      break;
    }
    if (fds[1].revents && child_.err >= 0) {
      ssize_t n = read(child_.err, buf, sizeof buf);
      if (n > 0) {
        KeepStderr(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        CloseFd(&child_.err);
      }
    }
    if (!fds[0].revents) continue;
    ssize_t n = read(child_.out, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      out_open = false;
      break;
    }
    pending.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t eol; (eol = pending.find('\n', start)) != std::string::npos; start = eol + 1) {
      std::string_view line(pending.data() + start, eol - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty()) on_line_(line);
      if (!abort_.empty()) break;
    }
    if (!abort_.empty()) {
      why = abort_;
      KillGroup(SIGKILL);
      break;
    }
    pending.erase(0, start);
    if (pending.size() > static_cast<size_t>(options_.max_message_bytes)) {
      why = "the MCP server sent a message larger than " +
            std::to_string(options_.max_message_bytes) + " bytes";
      KillGroup(SIGKILL);
      break;
    }
  }
  // Reap the program: it exited (its output ended), or it is killed now.
  int status = 0;
  auto deadline = Clock::now() + std::chrono::milliseconds(options_.stop_grace_ms);
  pid_t reaped = 0;
  while ((reaped = waitpid(child_.pid, &status, WNOHANG)) == 0 && Clock::now() < deadline &&
         why.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (reaped == 0) {
    KillGroup(SIGKILL);
    reaped = waitpid(child_.pid, &status, 0);
  }
  {
    std::lock_guard lock(err_mu_);
    child_.pid = -1;  // reaped: its number may name another process from now on
  }
  // What it wrote to stderr before it went (why it went, often), unless something it started
  // keeps the pipe open: then for at most a moment.
  auto drain_until = Clock::now() + std::chrono::milliseconds(200);
  while (child_.err >= 0 && Clock::now() < drain_until) {
    pollfd p{child_.err, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(MsUntil(drain_until))) <= 0) break;
    ssize_t n = read(child_.err, buf, sizeof buf);
    if (n <= 0) break;
    KeepStderr(buf, static_cast<size_t>(n));
  }
  CloseFd(&child_.out);
  CloseFd(&child_.err);
  if (why.empty()) why = "the MCP server " + DescribeExit(status);
  Close(why);
}

}  // namespace scaffold::net::mcp
