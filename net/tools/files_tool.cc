// The `files` tool and workspace paths (see builtin_tools.h).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "engine/json.h"
#include "engine/unique_fd.h"
#include "net/tools/builtin_tools.h"
#include "net/tools/child_process.h"

namespace scaffold::net {
namespace {

constexpr size_t kMaxPathBytes = 1024;

engine::ToolResult Refuse(const std::string& message) {
  return {Json("files: " + message), true};
}

std::string Escape(const std::string& part) {
  if (part.empty()) return "_local";
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : part) {
    if (isalnum(c) || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A path split into components, or the reason it is refused.
struct SplitPath {
  std::vector<std::string> parts;  // no "", "." or ".."
  std::string error;
};

SplitPath Split(const std::string& path) {
  SplitPath out;
  if (path.empty()) {
    out.error = "the path is empty (use \".\" for the workspace itself)";
  } else if (path.size() > kMaxPathBytes) {
    out.error = "the path is longer than " + std::to_string(kMaxPathBytes) + " bytes";
  } else if (path.find('\0') != std::string::npos) {
    out.error = "the path contains a NUL byte";
  } else if (path[0] == '/') {
    out.error = "\"" + path + "\" is absolute; paths are relative to the session's workspace";
  } else if (path[0] == '~') {
    out.error = "\"" + path + "\": \"~\" is not expanded; paths are relative to the workspace";
  }
  if (!out.error.empty()) return out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string part =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..") {
      out.error = "\"" + path + "\" uses \"..\"; paths cannot leave the session's workspace";
      return out;
    }
    if (!part.empty() && part != ".") out.parts.push_back(part);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

// Opens the directory `parts[0..n)` below `root` without following symbolic links; with
// `create`, makes missing directories. On failure, sets `error`.
UniqueFd OpenDirs(int root, const std::vector<std::string>& parts, size_t n, bool create,
                  std::string* error) {
  UniqueFd dir(dup(root));
  std::string walked;
  for (size_t i = 0; i < n; ++i) {
    walked += (walked.empty() ? "" : "/") + parts[i];
    int fd = openat(dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (mkdirat(dir.get(), parts[i].c_str(), 0700) != 0 && errno != EEXIST) {
        *error = "cannot create directory \"" + walked + "\": " + strerror(errno);
        return UniqueFd();
      }
      fd = openat(dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      struct stat st;
      if (fstatat(dir.get(), parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode)) {
        *error = "\"" + walked + "\" is a symbolic link; links are not followed";
      } else if (errno == ENOTDIR) {
        *error = "\"" + walked + "\" is not a directory";
      } else if (errno == ENOENT) {
        *error = "\"" + walked + "\" does not exist";
      } else {
        *error = "cannot open \"" + walked + "\": " + strerror(errno);
      }
      return UniqueFd();
    }
    dir = UniqueFd(fd);
  }
  return dir;
}

const char* TypeName(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "symlink";
  return "other";
}

std::string NotRegular(const std::string& path, mode_t mode) {
  if (S_ISDIR(mode)) return "\"" + path + "\" is a directory";
  if (S_ISLNK(mode)) return "\"" + path + "\" is a symbolic link; links are not followed";
  return "\"" + path + "\" is not a regular file (devices, FIFOs and sockets are refused)";
}

engine::ToolResult List(int root, const std::string& path, const std::vector<std::string>& parts) {
  std::string error;
  UniqueFd dir = OpenDirs(root, parts, parts.size(), false, &error);
  if (dir.get() < 0) return Refuse(error);
  DIR* d = fdopendir(dir.release());
  if (!d) return Refuse("cannot list \"" + path + "\": " + strerror(errno));
  Json entries = Json::array();
  std::vector<std::pair<std::string, Json>> sorted;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    Json entry = {{"name", ToValidUtf8(name)}, {"type", TypeName(st.st_mode)}};
    if (S_ISREG(st.st_mode)) entry["bytes"] = static_cast<int64_t>(st.st_size);
    sorted.emplace_back(name, std::move(entry));
  }
  closedir(d);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [name, entry] : sorted) entries.push_back(std::move(entry));
  return {Json{{"path", path}, {"entries", std::move(entries)}}, false};
}

}  // namespace

std::string EnsureWorkspace(const std::string& workspace) {
  for (size_t i = 1; i <= workspace.size(); ++i) {
    if (i != workspace.size() && workspace[i] != '/') continue;
    std::string prefix = workspace.substr(0, i);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return "cannot create the workspace " + prefix + ": " + strerror(errno);
  }
  return "";
}

std::string WorkspacePath(const std::string& data_dir, const std::string& owner,
                          const std::string& session_id) {
  std::string base = data_dir.empty() ? "." : data_dir;
  return base + "/workspaces/" + Escape(owner) + "/" + Escape(session_id);
}

engine::ToolResult RunFilesTool(const engine::ToolDecl& decl, const std::string& workspace,
                                const Json& input) {
  std::string op = input.value("op", "");
  std::string path =
      input.contains("path") && input["path"].is_string() ? input["path"].get<std::string>() : "";
  SplitPath split = Split(path);
  if (!split.error.empty()) return Refuse(split.error);
  const auto& parts = split.parts;
  bool writes = op == "write" || op == "delete";
  if (writes && decl.read_only)
    return Refuse("tool \"" + decl.name + "\" is read-only; " + op + " is refused");
  if (op != "read" && op != "write" && op != "list" && op != "delete")
    return Refuse("unknown op \"" + op + "\" (expected read, write, list or delete)");

  if (std::string made = EnsureWorkspace(workspace); !made.empty()) return Refuse(made);
  UniqueFd root(open(workspace.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (root.get() < 0) return Refuse("cannot open the workspace: " + std::string(strerror(errno)));

  if (op == "list") return List(root.get(), path, parts);
  if (parts.empty()) return Refuse("cannot " + op + " the workspace itself");

  std::string error;
  UniqueFd dir = OpenDirs(root.get(), parts, parts.size() - 1, op == "write", &error);
  if (dir.get() < 0) return Refuse(error);
  const std::string& name = parts.back();
  struct stat st;
  bool exists = fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;

  if (op == "delete") {
    if (!exists) return Refuse("\"" + path + "\" does not exist");
    int flags = S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0;
    if (unlinkat(dir.get(), name.c_str(), flags) != 0)
      return Refuse("cannot delete \"" + path + "\": " + strerror(errno));
    return {Json{{"path", path}, {"deleted", true}}, false};
  }
  if (exists && !S_ISREG(st.st_mode)) return Refuse(NotRegular(path, st.st_mode));

  if (op == "read") {
    if (!exists) return Refuse("\"" + path + "\" does not exist");
    if (st.st_size > decl.max_bytes) {
      return Refuse("\"" + path + "\" has " + std::to_string(st.st_size) +
                    " bytes, more than this tool's max_bytes (" + std::to_string(decl.max_bytes) +
                    ")");
    }
    UniqueFd file(openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (file.get() < 0) return Refuse("cannot read \"" + path + "\": " + strerror(errno));
    if (fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode))
      return Refuse(NotRegular(path, st.st_mode));
    std::string content;
    char buf[65536];
    ssize_t k;
    while ((k = read(file.get(), buf, sizeof buf)) > 0) {
      content.append(buf, static_cast<size_t>(k));
      if (content.size() > static_cast<size_t>(decl.max_bytes))
        return Refuse("\"" + path + "\" grew past this tool's max_bytes while being read");
    }
    if (k < 0) return Refuse("cannot read \"" + path + "\": " + strerror(errno));
    if (!IsValidUtf8(content))
      return Refuse("\"" + path + "\" is not UTF-8 text; this tool reads text files only");
    return {Json{{"path", path}, {"content", std::move(content)}}, false};
  }

  // write
  auto content = input.find("content");
  if (content == input.end() || !content->is_string())
    return Refuse("write needs \"content\", a string");
  const auto& text = content->get_ref<const std::string&>();
  if (text.size() > static_cast<size_t>(decl.max_bytes)) {
    return Refuse("the content has " + std::to_string(text.size()) +
                  " bytes, more than this tool's max_bytes (" + std::to_string(decl.max_bytes) +
                  ")");
  }
  UniqueFd file(openat(dir.get(), name.c_str(),
                       O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
  if (file.get() < 0) return Refuse("cannot write \"" + path + "\": " + strerror(errno));
  if (fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return Refuse(NotRegular(path, st.st_mode));
  if (ftruncate(file.get(), 0) != 0)
    return Refuse("cannot write \"" + path + "\": " + strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t k = write(file.get(), text.data() + done, text.size() - done);
    if (k < 0) {
      if (errno == EINTR) continue;
      return Refuse("cannot write \"" + path + "\": " + strerror(errno));
    }
    done += static_cast<size_t>(k);
  }
  return {Json{{"path", path}, {"bytes", static_cast<int64_t>(text.size())}}, false};
}

}  // namespace scaffold::net
