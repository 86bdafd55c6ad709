// scaffold serve: the session protocol over HTTP/SSE and WebSocket (scaffold-protocol(7)).

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <cctype>
#include <filesystem>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/interrupts.h"
#include "cli/postgres_cluster.h"
#include "cli/workflow_set.h"
#include "net/llm/llm_provider.h"
#include "net/server/http_server.h"
#include "net/tools/cluster_tools.h"
#include "net/tools/tool_router.h"
#include "recordings/recording_provider.h"
#include "recordings/sha256.h"

namespace scaffold::cli {
namespace {

Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    return InvalidArgument("--listen " + listen + ": expected HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string port = listen.substr(colon + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535) {
    return InvalidArgument("--listen " + listen + ": the port must be 0-65535");
  }
  return std::make_pair(host, static_cast<uint16_t>(std::stoul(port)));
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}


Result<std::unique_ptr<net::JwtVerifier>> MakeVerifier(const ServeOptions& o) {
  int sources = !o.jwt_secret_file.empty() + !o.jwt_public_key.empty() + !o.jwks_file.empty();
  if (sources != 1) {
    return InvalidArgument(
        "--auth jwt needs exactly one of --jwt-secret-file, --jwt-public-key and --jwks-file");
  }
  net::JwtVerifier::Options options;
  if (!o.jwt_issuer.empty()) options.issuer = o.jwt_issuer;
  if (!o.jwt_audience.empty()) options.audience = o.jwt_audience;
  Result<net::JwtVerifier> v = Status(ErrorCode::kInvalidArgument, "unreachable");
  if (!o.jwt_secret_file.empty()) {
    auto secret = ReadFileCapped(o.jwt_secret_file, 64 * 1024, "--jwt-secret-file");
    if (!secret.ok()) return secret.status();
    std::string s = *secret;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    v = net::JwtVerifier::FromSecret(std::move(s), options);
  } else if (!o.jwt_public_key.empty()) {
    auto pem = ReadFileCapped(o.jwt_public_key, 64 * 1024, "--jwt-public-key");
    if (!pem.ok()) return pem.status();
    v = net::JwtVerifier::FromPublicKeyPem(*pem, options);
  } else {
    auto text = ReadFileCapped(o.jwks_file, 1024 * 1024, "--jwks-file");
    if (!text.ok()) return text.status();
    auto jwks = ParseJson(*text);
    if (!jwks.ok())
      return InvalidArgument("--jwks-file " + o.jwks_file + ": " + jwks.status().message());
    v = net::JwtVerifier::FromJwks(*jwks, options);
  }
  if (!v.ok()) return v.status();
  return std::make_unique<net::JwtVerifier>(std::move(*v));
}

// Runs the server's handlers until it stops. Requests, messages and session tasks catch what
// they throw themselves; this is the last resort behind them: a handler that throws anyway is
// logged and the server carries on (Asio resumes after an exception when run() is called again).
void RunGuarded(boost::asio::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      std::fprintf(stderr,
                   "scaffold serve: internal error in a handler (the server carries on): %s\n",
                   e.what());
    }
  }
}

// Every connection is a file descriptor: raise the soft limit to the hard one, and keep
// --max-connections under what it allows (with room for the database and the log).
int FitConnectionsToDescriptors(int wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur == RLIM_INFINITY) return wanted;
  auto room = static_cast<int64_t>(limit.rlim_cur) - 64;
  if (room >= wanted) return wanted;
  int fitted = static_cast<int>(std::max<int64_t>(room, 1));
  std::fprintf(stderr,
               "scaffold serve: --max-connections %d lowered to %d (open file limit %llu)\n",
               wanted, fitted, static_cast<unsigned long long>(limit.rlim_cur));
  return fitted;
}

}  // namespace

// The PostgreSQL store with this node's lease settings, and the cluster over it.
static std::optional<
    std::pair<std::unique_ptr<recordings::Store>, std::unique_ptr<PostgresCluster>>>
OpenCluster(const ServeOptions& o) {
  bool fits = o.node_id.size() <= 48;
  for (char c : o.node_id)
    fits = fits && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  if (!fits) {
    PrintError("--node-id " + o.node_id + ": use 1 to 48 of A-Z a-z 0-9 _ -");
    return std::nullopt;
  }
  std::string url = ResolveDbPath(o.db);
  recordings::PostgresStore::Options options;
  options.node_id = o.node_id;
  options.lease_ms = o.lease_ms;
  auto pg = recordings::PostgresStore::Open(url, recordings::Store::Access::kReadWrite, options);
  if (!pg.ok()) {
    PrintError(pg.status().message());
    return std::nullopt;
  }
  auto cluster = PostgresCluster::Open(pg->get(), url);
  if (!cluster.ok()) {
    PrintError(cluster.status().message());
    return std::nullopt;
  }
  return std::make_pair(std::unique_ptr<recordings::Store>(std::move(*pg)), std::move(*cluster));
}

int RunServe(const ServeOptions& o) {
  InitInterrupts();
  auto listen = ParseListen(o.listen);
  if (!listen.ok()) {
    PrintError(listen.status().message());
    return kExitUsage;
  }
  std::unique_ptr<net::JwtVerifier> verifier;
  if (o.auth == "jwt") {
    auto v = MakeVerifier(o);
    if (!v.ok()) {
      PrintError(v.status().message());
      return kExitUsage;
    }
    verifier = std::move(*v);
  } else if (!IsLoopbackHost(listen->first) && !o.insecure_no_auth) {
    PrintError("refusing to serve " + listen->first +
               " without authentication: use --auth jwt, or --insecure-no-auth "
               "if the network in front of it is trusted");
    return kExitUsage;
  }
  auto mode = recordings::ParseRecordMode(o.mode);
  if (!mode.ok()) {
    PrintError(mode.status().message());
    return kExitUsage;
  }

  auto workflows = LoadWorkflowSet(o.workflow_files, o.workflows_dir);
  auto endpoints = ResolveWorkflowEndpoints(&workflows, *mode == recordings::RecordMode::kPlayback);
  if (workflows.empty()) {
    PrintError("no workflow to serve (give --workflows DIR or --workflow FILE)");
    return kExitUsage;
  }

  std::unique_ptr<recordings::Store> store;
  std::unique_ptr<PostgresCluster> cluster;
  if (recordings::IsPostgresUrl(ResolveDbPath(o.db))) {
    auto opened = OpenCluster(o);
    if (!opened) return kExitUsage;
    store = std::move(opened->first);
    cluster = std::move(opened->second);
  } else {
    if (!o.node_id.empty() || o.max_running > 0) {
      PrintError(
          "--node-id and --max-running are for several nodes on PostgreSQL "
          "(--db postgresql://...)");
      return kExitUsage;
    }
    store = OpenStoreOrReport(o.db);
  }
  if (!store) return kExitUsage;
  std::unique_ptr<engine::Provider> live;
  if (*mode != recordings::RecordMode::kPlayback)
    live = std::make_unique<net::LlmProvider>(std::move(endpoints));
  recordings::RecordingProvider recorder(store.get(), live.get(), {*mode, false});
  net::ClientToolBroker client_tools;
  boost::asio::io_context io;
  // With several nodes, a session's client tools may be served by a client on another node.
  std::unique_ptr<net::ClusterToolHost> cluster_tools;
  if (cluster)
    cluster_tools = std::make_unique<net::ClusterToolHost>(&client_tools, cluster.get(), &io);
  net::ToolRouterOptions tool_options;
  tool_options.data_dir = DataDirFor(o.db);
  tool_options.allow_commands = o.allow_commands;
  tool_options.client_tools =
      cluster_tools ? static_cast<engine::ToolHost*>(cluster_tools.get()) : &client_tools;
  net::ToolRouter tools(tool_options);
  engine::SystemClock clock;
  net::Metrics metrics;
  if (!o.default_workflow.empty() && !workflows.count(o.default_workflow)) {
    PrintError("--default-workflow " + o.default_workflow + ": no served workflow has that name");
    return kExitUsage;
  }
  std::optional<std::pair<std::string, uint16_t>> metrics_listen;
  if (!o.metrics_listen.empty()) {
    auto parsed = ParseListen(o.metrics_listen);
    if (!parsed.ok()) {
      PrintError("--metrics-listen: " + parsed.status().message());
      return kExitUsage;
    }
    metrics_listen = *parsed;
  }
  net::SessionHub hub({&io, store.get(), &recorder, &tools, &clock, &metrics, cluster.get(),
                       o.max_running, cluster_tools.get()},
                      workflows, engine::RunOptions{}, o.default_workflow);
  net::Api api(&hub, &metrics);
  net::ServerOptions server_options;
  server_options.host = listen->first;
  server_options.port = listen->second;
  server_options.max_body_bytes = o.max_body_bytes;
  server_options.max_ws_message_bytes = o.max_ws_message_bytes;
  server_options.max_connections = FitConnectionsToDescriptors(o.max_connections);

  server_options.max_send_queue_bytes = o.max_send_queue_bytes;
  server_options.header_timeout_ms = o.header_timeout_ms;
  server_options.idle_timeout_ms = o.idle_timeout_ms;
  server_options.heartbeat_ms = o.heartbeat_ms;
  server_options.cors_origins = o.cors_origins;
  server_options.allowed_hosts = o.allowed_hosts;
  // Without auth, the server is for this machine only: pages elsewhere must not reach it
  // under another name (DNS rebinding).
  server_options.check_host = !verifier && IsLoopbackHost(listen->first);
  // With users, server-wide figures are not every token holder's business.
  server_options.serve_metrics = !verifier;
  server_options.access_log = !o.no_access_log;
  int threads = o.threads > 0 ? o.threads
                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  server_options.loops = threads;
  net::HttpServer server(&io, server_options, &api, &hub, &metrics, verifier.get(), &client_tools);

  if (Status s = server.Listen(); !s.ok()) {
    PrintError(s.message());
    return kExitUsage;
  }
  std::unique_ptr<net::HttpServer> metrics_server;
  if (metrics_listen) {
    net::ServerOptions m;
    m.host = metrics_listen->first;
    m.port = metrics_listen->second;
    m.metrics_only = true;
    m.max_connections = 64;
    m.access_log = false;
    m.loops = 1;
    metrics_server =
        std::make_unique<net::HttpServer>(&io, m, &api, &hub, &metrics, nullptr, nullptr);
    if (Status s = metrics_server->Listen(); !s.ok()) {
      PrintError("--metrics-listen: " + s.message());
      return kExitUsage;
    }
    std::fprintf(stderr, "scaffold serve: metrics on http://%s:%u/metrics\n",
                 metrics_listen->first.c_str(), metrics_server->port());
  }
  std::string host =
      listen->first.find(':') != std::string::npos ? "[" + listen->first + "]" : listen->first;
  std::fprintf(stderr,
               "scaffold serve: listening on http://%s:%u (%zu workflow%s, auth %s, mode %s)\n",
               host.c_str(), server.port(), workflows.size(), workflows.size() == 1 ? "" : "s",
               o.auth.c_str(), recordings::RecordModeName(*mode));
  std::fprintf(stderr, "scaffold serve: web console at http://%s:%u/\n", host.c_str(),
               server.port());
  if (cluster) {
    // Sessions no node drives (this node's before a restart, a dead node's) are claimed by
    // the cluster's first round, here or on another node.
    if (Status s = hub.StartCluster(); !s.ok()) {
      PrintError(s.message());
      return kExitUsage;
    }
    std::fprintf(stderr, "scaffold serve: node %s on %s (lease %lld ms)\n",
                 cluster->node_id().c_str(), store->Describe().c_str(),
                 static_cast<long long>(cluster->lease_ms()));
  } else {
    int resumed = hub.RestoreRunning();
    if (resumed > 0)
      std::fprintf(stderr, "scaffold serve: resumed %d session%s\n", resumed,
                   resumed == 1 ? "" : "s");
  }

  auto guard = boost::asio::make_work_guard(io);
  OnInterrupt([&] {
    std::fprintf(stderr, "scaffold serve: stopping\n");
    server.Stop();
    if (metrics_server) metrics_server->Stop();
    hub.Shutdown();
    guard.reset();
    io.stop();
  });
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { RunGuarded(io); });
  RunGuarded(io);
  for (auto& t : pool) t.join();
  server.Halt();
  if (metrics_server) metrics_server->Halt();
  if (cluster) {
    // Hands this node's sessions over at once: the other nodes hear of it and claim them.
    cluster->Stop();
    cluster_tools->Withdraw();
    if (Status s = cluster->ReleaseAll(); !s.ok())
      std::fprintf(stderr,
                   "scaffold serve: %s; the sessions are taken over when the leases "
                   "expire\n",
                   s.message().c_str());
  }
  return kExitOk;
}

}  // namespace scaffold::cli
