// The built-in tools of DESIGN §7: `files`, `command` and `http`. Each runs synchronously on
// the calling thread (ToolRouter gives every call a thread of its own) and reports every
// failure as a result with is_error and a message that says what was refused and why.
//
// The workspace of a session is <data dir>/workspaces/<owner>/<session>/, created on first use
// with mode 0700. Inside it:
//  - `files` resolves a path one component at a time with O_NOFOLLOW: "..", absolute paths,
//    symbolic links (wherever they point), device files, FIFOs and sockets are refused, so a
//    path can never leave the workspace. Reads and writes are capped at the tool's max_bytes.
//  - `command` runs its argv (templates, one argument each, never a shell) with the workspace
//    as its directory and HOME, PATH=/usr/local/bin:/usr/bin:/bin, LANG=C.UTF-8 and nothing
//    else from the server's environment (no API keys), killed with everything it started after
//    timeout_ms; stdout and stderr are capped at max_output_bytes each.
// `http` sends one request through libcurl to http(s) URLs whose host is allow-listed (exact
// names, or "*.example.com" for subdomains), does not follow redirects (a 3xx is returned as
// is), and aborts responses larger than max_response_bytes.
#pragma once

#include <atomic>
#include <string>

#include "engine/json.h"
#include "engine/tool_host.h"
#include "engine/workflow.h"

namespace scaffold::net {

// <data_dir>/workspaces/<owner>/<session>; owner and session are escaped so that neither can
// name another directory ("" is "_local"; bytes other than [A-Za-z0-9_-] become %XX).
std::string WorkspacePath(const std::string& data_dir, const std::string& owner,
                          const std::string& session_id);

// Creates the workspace directory (and its parents) with mode 0700; the error, or "".
std::string EnsureWorkspace(const std::string& workspace);

// `input`: {op: read|write|list|delete, path, content?}.

engine::ToolResult RunFilesTool(const engine::ToolDecl& decl, const std::string& workspace,
                                const Json& input);

// `context` is what the argv templates render against: {input, session: {id}}.
engine::ToolResult RunCommandTool(const engine::ToolDecl& decl, const std::string& workspace,
                                  const Json& context, const std::atomic<bool>* cancel);

// Why `url` may not be requested by `decl` (not http(s), or a host not in its allow_hosts), or
// "" when it may.
std::string UrlRefusal(const std::string& url, const engine::ToolDecl& decl);

engine::ToolResult RunHttpTool(const engine::ToolDecl& decl, const Json& context,
                               const std::atomic<bool>* cancel);

}  // namespace scaffold::net
