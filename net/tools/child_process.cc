#include "net/tools/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <utility>

#include "engine/json.h"
#include "engine/unique_fd.h"

extern char** environ;

namespace scaffold::net {
namespace {

using Clock = std::chrono::steady_clock;

// How long pipes may stay open after the child exited (a background grandchild holding them)
// before the group is killed and the result returned.
constexpr int kDrainAfterExitMs = 200;

bool MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  return true;
}

std::string EnvValue(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& e : env) {
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  }
  return "";
}

// The program's path: argv[0] as given when it names a path, else the first executable of
// that name in `path_list`.
std::string Resolve(const std::string& program, const std::string& path_list) {
  if (program.find('/') != std::string::npos) return program;
  size_t start = 0;
  while (start <= path_list.size()) {
    size_t colon = path_list.find(':', start);
    std::string dir =
        path_list.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + program;
      struct stat st;
      if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

void Append(std::string* to, bool* truncated, const char* data, size_t n, int64_t cap) {
  size_t room = to->size() < static_cast<size_t>(cap) ? static_cast<size_t>(cap) - to->size() : 0;
  if (n > room) *truncated = true;
  to->append(data, std::min(n, room));
}

}  // namespace

std::string ChildResult::Describe(int64_t timeout_ms) const {
  if (!spawn_error.empty()) return spawn_error;
  if (timed_out) return "timed out after " + std::to_string(timeout_ms) + " ms";
  if (cancelled) return "cancelled";
  if (signal) return "killed by signal " + std::to_string(signal);
  return "exited with status " + std::to_string(exit_code);
}

std::string ToValidUtf8(std::string text) {
  size_t bad = FindInvalidUtf8(text);
  if (bad == std::string::npos) return text;
  std::string out = text.substr(0, bad);
  std::string_view rest(text);
  rest.remove_prefix(bad);
  while (!rest.empty()) {
    out += "\xEF\xBF\xBD";
    rest.remove_prefix(1);
    // Skip continuation bytes of the broken sequence.
    while (!rest.empty() && (static_cast<unsigned char>(rest[0]) & 0xC0) == 0x80)
      rest.remove_prefix(1);
    size_t next = FindInvalidUtf8(rest);
    if (next == std::string::npos) {
      out.append(rest);
      break;
    }
    out.append(rest.substr(0, next));
    rest.remove_prefix(next);
  }
  return out;
}

std::string SpawnChild(const ChildSpec& spec, SpawnedChild* child) {
  if (spec.argv.empty() || spec.argv[0].empty()) return "no program to run";
  std::vector<std::string> env_strings;
  if (spec.env) {
    env_strings = *spec.env;
  } else {
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  }
  std::string path = Resolve(spec.argv[0], EnvValue(env_strings, "PATH"));
  if (path.empty()) return "program \"" + spec.argv[0] + "\" not found in PATH";

  UniqueFd in_r, in_w, out_r, out_w, err_r, err_w;
  if (!MakePipe(&in_r, &in_w) || !MakePipe(&out_r, &out_w) || !MakePipe(&err_r, &err_w))
    return std::string("cannot create pipes: ") + strerror(errno);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_r.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = 0;
  int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return "cannot start \"" + spec.argv[0] + "\": " + strerror(rc);
  fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
  child->pid = pid;
  child->in = in_w.release();
  child->out = out_r.release();
  child->err = err_r.release();
  return "";
}

ssize_t WriteToPipe(int fd, const void* data, size_t size) {
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  sigset_t pending;
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  ssize_t n = write(fd, data, size);
  int saved = errno;
  if (n < 0 && saved == EPIPE && !was_pending) {
    const timespec now{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &now) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

ChildResult RunChild(const ChildSpec& spec, const std::atomic<bool>* cancel) {
  ChildResult result;
  SpawnedChild child;
  result.spawn_error = SpawnChild(spec, &child);
  if (!result.spawn_error.empty()) return result;
  pid_t pid = child.pid;
  UniqueFd in_w(child.in), out_r(child.out), err_r(child.err);
  if (spec.stdin_data.empty()) in_w.reset();

  const auto deadline = Clock::now() + std::chrono::milliseconds(spec.timeout_ms);
  std::optional<Clock::time_point> exited_at;
  size_t written = 0;
  bool killed = false;
  int status = 0;
  auto kill_group = [&] {
    if (!killed) kill(-pid, SIGKILL);
    killed = true;
  };
  while (true) {
    if (!exited_at) {
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) exited_at = Clock::now();
    }
    if (out_r.get() < 0 && err_r.get() < 0 && exited_at) break;
    auto now = Clock::now();
    if (cancel && cancel->load()) {
      result.cancelled = true;
      kill_group();
    } else if (now >= deadline && !exited_at) {
      result.timed_out = true;
      kill_group();
    } else if (exited_at && now - *exited_at > std::chrono::milliseconds(kDrainAfterExitMs)) {
      kill(-pid, SIGKILL);  // something it started still holds the pipes
      break;
    }
    if (killed) {
      if (!exited_at) {
        waitpid(pid, &status, 0);
        exited_at = Clock::now();
      }
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (out_r.get() >= 0) fds[n++] = {out_r.get(), POLLIN, 0};
    if (err_r.get() >= 0) fds[n++] = {err_r.get(), POLLIN, 0};
    if (in_w.get() >= 0) fds[n++] = {in_w.get(), POLLOUT, 0};
    if (n == 0) {
      usleep(5000);  // output closed early; wait for the exit
      continue;
    }
    if (poll(fds, n, 20) <= 0) continue;
    for (nfds_t i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in_w.get()) {
        ssize_t k = WriteToPipe(in_w.get(), spec.stdin_data.data() + written,
                                spec.stdin_data.size() - written);
        if (k > 0) written += static_cast<size_t>(k);
        if ((k < 0 && errno != EAGAIN && errno != EINTR) || written == spec.stdin_data.size())
          in_w.reset();  // done, or the child closed its stdin
        continue;
      }
      char buf[16384];
      ssize_t k = read(fds[i].fd, buf, sizeof buf);
      if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      bool is_out = fds[i].fd == out_r.get();
      if (k <= 0) {
        (is_out ? out_r : err_r).reset();
        continue;
      }
      if (is_out) {
        Append(&result.out, &result.out_truncated, buf, static_cast<size_t>(k),
               spec.max_output_bytes);
      } else {
        Append(&result.err, &result.err_truncated, buf, static_cast<size_t>(k),
               spec.max_output_bytes);
      }
    }
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace scaffold::net
