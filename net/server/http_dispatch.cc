#include "net/server/http_dispatch.h"

#include <cstdio>

#include "net/server/console_assets.h"

namespace scaffold::net {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Header(const std::map<std::string, std::string>& headers, const char* name) {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

// "example.com:8080" -> "example.com"; "[::1]:80" -> "[::1]".
std::string HostName(const std::string& host) {
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    return close == std::string::npos ? host : host.substr(0, close + 1);
  }
  return host.substr(0, host.find(':'));
}

bool HostAllowed(const ServerOptions& o, const std::string& host) {
  std::string name = Lower(HostName(host));
  if (name == "localhost" || name == "127.0.0.1" || name == "[::1]") return true;
  for (const auto& allowed : o.allowed_hosts) {
    if (Lower(allowed) == name) return true;
  }
  return false;
}

// The server's own origin (the page was served by this host, as the browser reached it) or a
// --cors-origin entry.
bool OriginAllowed(const ServerOptions& o, const std::string& origin, const std::string& host) {
  for (const auto& allowed : o.cors_origins) {
    if (allowed == origin) return true;
  }
  std::string lower = Lower(origin);
  for (const char* scheme : {"http://", "https://"}) {
    if (lower.rfind(scheme, 0) == 0 && !host.empty() &&
        lower.substr(std::char_traits<char>::length(scheme)) == Lower(host)) {
      return true;
    }
  }
  return false;
}

bool ChangesState(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

bool IsJson(const std::string& content_type) {
  std::string type = Lower(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == "application/json";
}

// A file of the web console, with its security headers; 304 when the browser has it.
ApiResponse ConsoleFile(const std::string& path, const std::string& if_none_match) {
  const ConsoleAsset* asset = FindConsoleAsset(path);
  if (!asset) return ApiResponse::Error(404, "not_found", "no console file " + path);
  ApiResponse r;
  r.status = if_none_match == asset->etag ? 304 : 200;
  r.content_type = std::string(asset->content_type);
  if (r.status == 200) r.body = std::string(asset->body);
  for (const auto& [name, value] : kConsoleHeaders) r.headers.emplace_back(name, value);
  r.headers.emplace_back("ETag", std::string(asset->etag));
  return r;
}

Dispatch Decide(ServerContext* ctx, IncomingRequest& in) {
  Dispatch d;
  d.cors = ctx->Cors(Header(in.headers, "origin"));
  // Every answer carries the CORS headers, errors included.
  auto Reply = [&d](ApiResponse response) {
    d.kind = Dispatch::Kind::kReply;
    d.response = std::move(response);
    return std::move(d);
  };
  const ServerOptions& o = ctx->options;
  std::string host = Header(in.headers, "host");
  // DNS rebinding: a page of another site whose name now points at 127.0.0.1 reaches a
  // loopback server under its own name. Without auth, only loopback names are served.
  if (o.check_host && !host.empty() && !HostAllowed(o, host)) {
    return Reply(ApiResponse::Error(
        403, "forbidden_host",
        "this server answers to localhost, 127.0.0.1 and [::1] (add names with --allowed-host)"));
  }
  auto target = SplitTarget(in.target);
  if (!target.ok()) return Reply(ApiResponse::FromStatus(target.status()));
  ApiRequest& api = d.request;
  api.method = in.method;
  api.path = std::move(target->first);
  api.query = std::move(target->second);
  api.headers = std::move(in.headers);
  api.body = std::move(in.body);
  if (o.metrics_only) {
    if (api.path != "/metrics" && api.path != "/healthz" && api.path != "/readyz")
      return Reply(ApiResponse::Error(404, "not_found", "this address serves /metrics only"));
    d.kind = Dispatch::Kind::kApi;
    return d;
  }
  if (api.method == "GET" && !in.upgrade &&
      (api.path == "/" || api.path.rfind("/console/", 0) == 0)) {
    return Reply(ConsoleFile(api.path, Header(api.headers, "if-none-match")));
  }
  // Browsers are kept out unless invited: a page of another origin may not open the
  // WebSocket or change anything. Requests without an Origin (not from a browser) pass.
  std::string request_origin = Header(api.headers, "origin");
  if (!request_origin.empty() && (in.upgrade || ChangesState(api.method)) &&
      api.method != "OPTIONS" && !OriginAllowed(o, request_origin, host)) {
    return Reply(ApiResponse::Error(
        403, "forbidden_origin",
        "pages of " + request_origin.substr(0, 200) +
            " may not use this server (scaffold serve --cors-origin allows an origin)"));
  }
  // A JSON body says so: a form or a text/plain "simple request" never reaches a route.
  if (ChangesState(api.method) && !api.body.empty() &&
      !IsJson(Header(api.headers, "content-type"))) {
    return Reply(
        ApiResponse::Error(415, "unsupported_media_type",
                           "request bodies are JSON: send Content-Type: application/json"));
  }
  if (api.path == "/metrics" && !o.serve_metrics) {
    return Reply(ApiResponse::Error(
        404, "not_found",
        "with authentication on, /metrics is served on the --metrics-listen address only"));
  }
  if (api.method == "OPTIONS") {
    ApiResponse preflight;
    preflight.status = 204;
    return Reply(std::move(preflight));
  }
  if (api.path != "/healthz" && api.path != "/readyz") {
    auto user = ctx->Authenticate(api.headers, api.query);
    if (!user.ok()) return Reply(ApiResponse::Error(401, "unauthorized", user.status().message()));
    api.user = *user;
  }
  if (in.upgrade) {
    if (api.path != "/ws")
      return Reply(ApiResponse::Error(404, "not_found", "WebSocket connections go to /ws"));
    d.kind = Dispatch::Kind::kWebSocket;
    auto client = api.query.find("client");
    d.client = client == api.query.end() ? "web" : client->second;
    return d;
  }
  if (auto route = ctx->api->MatchEventStream(api)) {
    if (!route->ok()) return Reply(ApiResponse::FromStatus(route->status()));
    auto session = ctx->hub->Find(api.user, (*route)->session_id);
    if (!session.ok()) return Reply(ApiResponse::FromStatus(session.status()));
    d.kind = Dispatch::Kind::kEventStream;
    d.route = std::move(**route);
    return d;
  }
  d.kind = Dispatch::Kind::kApi;
  return d;
}

}  // namespace

Dispatch DispatchRequest(ServerContext* ctx, IncomingRequest in) {
  try {
    return Decide(ctx, in);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scaffold: internal error reading a request: %s\n", e.what());
    Dispatch d;
    d.response = ApiResponse::Error(500, "internal", std::string("internal error: ") + e.what());
    return d;
  }
}

}  // namespace scaffold::net
