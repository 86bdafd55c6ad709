#include "net/server/server_context.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace scaffold::net {

int64_t SteadyMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

Result<std::string> ServerContext::Authenticate(
    const std::map<std::string, std::string>& headers,
    const std::map<std::string, std::string>& query) const {
  if (!verifier) return std::string();
  std::string token;
  if (auto it = headers.find("authorization"); it != headers.end()) {
    const std::string& v = it->second;
    if (v.size() > 7 && (v.compare(0, 7, "Bearer ") == 0 || v.compare(0, 7, "bearer ") == 0))
      token = v.substr(7);
  }
  if (token.empty()) {
    if (auto it = query.find("token"); it != query.end()) token = it->second;
  }
  if (token.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "a token is required (Authorization: Bearer or ?token=)");
  }
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto claims = verifier->Verify(token, now);
  if (!claims.ok()) return claims.status();
  auto sub = claims->find("sub");
  if (sub == claims->end() || !sub->is_string() || sub->get<std::string>().empty()) {
    return InvalidArgument("invalid token: it names no user (sub)");
  }
  return sub->get<std::string>();
}

std::vector<std::pair<std::string, std::string>> ServerContext::Cors(
    const std::string& origin) const {
  if (origin.empty()) return {};
  for (const auto& allowed : options.cors_origins) {
    if (allowed == origin) {
      return {{"Access-Control-Allow-Origin", origin},
              {"Vary", "Origin"},
              {"Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID"},
              {"Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS"},
              {"Access-Control-Max-Age", "600"}};
    }
  }
  return {};
}

void ServerContext::AccessLog(const std::string& remote, const std::string& method,
                              const std::string& path, int status, size_t bytes, int64_t ms,
                              const std::string& user) const {
  if (!options.access_log) return;
  using namespace std::chrono;
  auto now = system_clock::now();
  time_t t = system_clock::to_time_t(now);
  tm utc{};
  gmtime_r(&t, &utc);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
  int millis = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  // The method, path and user come from the request: escaped, they cannot forge a line.
  std::fprintf(stderr, "%s.%03dZ %s \"%s %s\" %d %zuB %lldms%s%s\n", when, millis, remote.c_str(),
               EscapeForLog(method).c_str(), EscapeForLog(path).c_str(), status, bytes,
               static_cast<long long>(ms),
               user.empty() ? "" : " user=", EscapeForLog(user).c_str());
}

}  // namespace scaffold::net
