#include "cli/common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "engine/unique_fd.h"
#include "recordings/postgres/postgres_store.h"

namespace scaffold::cli {

std::string ResolveDbPath(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("SCAFFOLD_DB"); env && *env) return env;
  return ".scaffold/scaffold.db";
}

std::string DataDirFor(const std::string& db_flag) {
  std::string db = ResolveDbPath(db_flag);
  if (db == ":memory:" || recordings::IsPostgresUrl(db)) return ".scaffold";
  std::string dir = std::filesystem::path(db).parent_path().string();
  return dir.empty() ? "." : dir;
}

std::unique_ptr<recordings::Store> OpenStoreOrReport(
    const std::string& db_flag, recordings::Store::Access access) {
  std::string path = ResolveDbPath(db_flag);
  if (recordings::IsPostgresUrl(path)) {
    recordings::PostgresStore::Options options;
    if (const char* env = std::getenv("SCAFFOLD_LEASE_MS"); env && *env) {
      char* end = nullptr;
      long long ms = std::strtoll(env, &end, 10);
      if (*end != '\0' || ms < 300 || ms > 3600000) {
        PrintError("SCAFFOLD_LEASE_MS=" + std::string(env) +
                   ": expected milliseconds from 300 to 3600000");
        return nullptr;
      }
      options.lease_ms = ms;
    }
    auto pg = recordings::PostgresStore::Open(path, access, options);
    if (!pg.ok() && pg.status().code() == ErrorCode::kNotFound &&
        access == recordings::Store::Access::kReadOnly) {
      // Nothing there yet: nothing to read.
      auto empty = recordings::OpenStore(":memory:", access);
      return empty.ok() ? std::move(*empty) : nullptr;
    }
    if (!pg.ok()) {
      PrintError(pg.status().message());
      return nullptr;
    }
    return std::move(*pg);
  }
  if (path != ":memory:" && access == recordings::Store::Access::kReadWrite) {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    bool is_default = db_flag.empty() && !std::getenv("SCAFFOLD_DB");
    std::error_code ec;
    if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
      if (!is_default) {
        PrintError("cannot open database " + path + ": directory " + parent.string() +
                   " does not exist");
        return nullptr;
      }
      std::filesystem::create_directories(parent, ec);
      if (ec) {
        PrintError("cannot create " + parent.string() + ": " + ec.message());
        return nullptr;
      }
    }
  }
  std::error_code ec;
  if (access == recordings::Store::Access::kReadOnly && path != ":memory:" &&
      !std::filesystem::exists(path, ec)) {
    path = ":memory:";  // no database yet: nothing to read, and nothing is created
  }
  auto store = recordings::OpenStore(path, access);
  if (!store.ok()) {
    PrintError(store.status().message());
    return nullptr;
  }
  return std::move(*store);
}

Status ClaimToDrive(recordings::Store* store, const std::string& id) {
  auto* pg = dynamic_cast<recordings::PostgresStore*>(store);
  if (!pg) return Status::Ok();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(pg->lease_ms() + 1000);
  bool told = false;
  std::string holder;
  while (true) {
    auto claimed = pg->ClaimLease(id);
    if (!claimed.ok()) return claimed.status();
    if (*claimed) return Status::Ok();
    auto who = pg->LeaseHolder(id);
    if (!who.ok()) return who.status();
    holder = *who;
    if (std::chrono::steady_clock::now() > deadline) break;
    if (!told && !holder.empty()) {
      std::fprintf(stderr,
                   "session %s is driven by node %s; waiting for its lease to expire (at most "
                   "%lld s)\n",
                   id.c_str(), holder.c_str(), static_cast<long long>(pg->lease_ms() / 1000 + 1));
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return Status(ErrorCode::kFailedPrecondition,
                "session " + id + " is driven by node " + holder +
                    ", which is alive (it keeps renewing its lease): pause it through that "
                    "node's server, or stop that node");
}

Result<std::string> ReadFileCapped(const std::string& path, size_t cap, const std::string& what) {
  // POSIX calls rather than a stream: one open, one fstat and reads straight into the string.
  // Streams would set up the C++ runtime's locale and file buffers, a measurable part of a
  // `validate`'s start (bench/README.md, startup). A file whose size fstat does not know (a pipe,
  // /dev/stdin, /proc) is read until end of file or one byte past the cap.
  auto cannot = [&] {
    return InvalidArgument("cannot read " + what + " " + path + ": " + std::strerror(errno));
  };
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return cannot();
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return cannot();
  if (S_ISDIR(st.st_mode)) return InvalidArgument(what + " " + path + " is a directory");
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > cap) {
    return InvalidArgument(what + " " + path + " is " + std::to_string(st.st_size) +
                           " bytes; the limit is " + std::to_string(cap) + " bytes");
  }
  const size_t over = cap == SIZE_MAX ? cap : cap + 1;  // reading this many means too large
  std::string text;
  size_t want = S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) + 1 : 64 * 1024;
  text.resize(std::min(want, over));
  size_t have = 0;
  for (;;) {
    if (have == text.size()) {
      if (have > cap) break;
      text.resize(std::min(text.size() * 2, over));
    }
    ssize_t n = ::read(fd.get(), text.data() + have, text.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return cannot();
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  if (have > cap) {
    return InvalidArgument(what + " " + path + " is over the limit of " + std::to_string(cap) +
                           " bytes");
  }
  text.resize(have);
  return text;
}

namespace {

std::shared_ptr<const engine::Workflow> LoadOrReport(const std::string& text,
                                                     const std::string& origin) {
  auto loaded = engine::LoadWorkflow(text);
  for (const auto& d : loaded.diagnostics) {
    if (d.line > 0) {
      std::fprintf(stderr, "%s:%d:%d: %s\n", origin.c_str(), d.line, d.column, d.message.c_str());
    } else {
      std::fprintf(stderr, "%s: %s\n", origin.c_str(), d.ToString().c_str());
    }
  }
  if (!loaded.workflow) {
    std::fprintf(stderr, "%s: %zu problem%s; nothing was run\n", origin.c_str(),
                 loaded.diagnostics.size(), loaded.diagnostics.size() == 1 ? "" : "s");
  }
  return loaded.workflow;
}

}  // namespace

std::shared_ptr<const engine::Workflow> LoadWorkflowFileOrReport(const std::string& path) {
  auto text = ReadFileCapped(path, engine::kMaxWorkflowBytes, "workflow file");
  if (!text.ok()) {
    PrintError(text.status().message());
    return nullptr;
  }
  return LoadOrReport(*text, path);
}

std::shared_ptr<const engine::Workflow> LoadStoredWorkflowOrReport(
    const engine::SessionInfo& info) {
  return LoadOrReport(info.workflow_source, "workflow of session " + info.id);
}

Result<std::string> ResolveSessionId(engine::EventStore* store, const std::string& text) {
  if (text.empty()) return InvalidArgument("a session id is required");
  auto exact = store->GetSession(text);
  if (exact.ok()) return text;
  if (exact.status().code() != ErrorCode::kNotFound) return exact.status();
  engine::SessionFilter all;
  all.limit = 1000000;
  auto sessions = store->ListSessions(all);
  if (!sessions.ok()) return sessions.status();
  std::vector<std::string> matches;
  for (const auto& s : *sessions) {
    if (s.id.compare(0, text.size(), text) == 0) matches.push_back(s.id);
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty()) return Status(ErrorCode::kNotFound, "no session " + text);
  return InvalidArgument("\"" + text + "\" matches " + std::to_string(matches.size()) +
                         " sessions; give more of the id");
}

void PrintError(const std::string& message) {
  std::fprintf(stderr, "scaffold: error: %s\n", message.c_str());
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk:
      return kExitOk;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
      return kExitUsage;
    default:
      return kExitFailed;
  }
}

Result<Json> ParseSessionInput(const engine::Workflow& workflow, const std::string& text,
                               const std::string& origin) {
  if (!IsValidUtf8(text)) return InvalidArgument(origin + " is not valid UTF-8 text");
  bool wants_string = true;
  if (workflow.input_schema) {
    const Json& s = workflow.input_schema->source();
    wants_string = s.is_object() && s.contains("type") && s["type"] == "string";
  } else {
    return Json(text);
  }
  if (wants_string) return Json(text);
  auto parsed = ParseJson(text);
  if (!parsed.ok()) {
    return InvalidArgument(origin + " must be JSON (the workflow's input schema is not a plain " +
                           "string): " + parsed.status().message());
  }
  return parsed;
}

}  // namespace scaffold::cli
