#include "net/http_dispatch.h"

#include <cstdio>

namespace scaffold::net {
namespace {

Dispatch Decide(ServerContext* ctx, IncomingRequest& in) {
  Dispatch d;
  auto origin = in.headers.find("origin");
  d.cors = ctx->Cors(origin == in.headers.end() ? "" : origin->second);
  // Every answer carries the CORS headers, errors included.
  auto Reply = [&d](ApiResponse response) {
    d.kind = Dispatch::Kind::kReply;
    d.response = std::move(response);
    return std::move(d);
  };
  auto target = SplitTarget(in.target);
  if (!target.ok()) return Reply(ApiResponse::FromStatus(target.status()));
  ApiRequest& api = d.request;
  api.method = in.method;
  api.path = std::move(target->first);
  api.query = std::move(target->second);
  api.headers = std::move(in.headers);
  api.body = std::move(in.body);
  if (api.method == "OPTIONS") {
    ApiResponse preflight;
    preflight.status = 204;
    return Reply(std::move(preflight));
  }
  if (api.path != "/healthz") {
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
