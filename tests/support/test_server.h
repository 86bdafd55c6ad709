// An in-process `scaffold serve` for tests: the real HttpServer, SessionHub and SQLite store on
// 127.0.0.1 with a kernel-chosen port, io threads of its own, and a thread-safe scripted
// provider.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/provider.h"
#include "engine/tool_host.h"
#include "net/server/http_server.h"
#include "net/tools/tool_router.h"
#include "recordings/sqlite/sqlite_store.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"

namespace scaffold::testing {

// Every call streams `deltas` text deltas ("w0 w1 ..."), `gap_ms` apart, then completes; with
// `hang` set, calls never answer until cancelled. Safe to use from many sessions at once.
class StreamingProvider : public engine::Provider {
 public:
  std::atomic<int> deltas{3};
  std::atomic<int> gap_ms{0};
  std::atomic<bool> hang{false};
  std::atomic<int> calls{0};
  std::atomic<int> cancelled{0};

  std::unique_ptr<engine::ModelCall> Start(const engine::ModelRequest& request,
                                           engine::Executor* executor,
                                           engine::ModelStreamHandler* handler) override;
};

// Workflows the tests serve, as text.
// "chat": one agent turn, then a text ask, then done.
extern const char* const kChatWorkflow;
// "counter": counts to its input without any model call (many events fast).
extern const char* const kCounterWorkflow;
// "approve": no model; an approval ask, then a text ask, then done with both answers.
extern const char* const kApproveWorkflow;

class TestServer {
 public:
  struct Config {
    net::ServerOptions options;  // host and port are forced to 127.0.0.1:0
    std::vector<std::string> workflows = {kChatWorkflow, kCounterWorkflow};
    const net::JwtVerifier* verifier = nullptr;
    std::string db_path;  // a fresh file in a temporary directory when empty
    int threads = 2;
    bool access_log = false;               // the server's access log on stderr
    engine::Provider* provider = nullptr;  // borrowed; the StreamingProvider when null
    bool allow_commands = false;           // --allow-commands
    std::string default_workflow;          // --default-workflow
  };

  explicit TestServer(Config config);
  TestServer() : TestServer(Config{}) {}
  ~TestServer();

  uint16_t port() const { return port_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  StreamingProvider& provider() { return provider_; }
  net::Metrics& metrics() { return metrics_; }
  net::SessionHub& hub() { return *hub_; }
  recordings::SqliteStore& store() { return *store_; }
  const std::string& db_path() const { return db_path_; }
  // Where workspaces live: the database's directory.
  std::string data_dir() const;
  net::ClientToolBroker& client_tools() { return client_tools_; }

  // Starts a session over HTTP; REQUIREs 201. `headers` may carry a token.
  std::string Create(const std::string& workflow, const Json& input,
                     const std::vector<std::string>& headers = {});
  // Polls GET /sessions/:id until its status is `status`; false after `timeout_ms`.
  bool WaitForStatus(const std::string& id, const std::string& status,
                     const std::vector<std::string>& headers = {}, int timeout_ms = 10000);

  // Stops like kill -9 would: no more work, nothing recorded (the destructor does the same).
  void Kill();

 private:
  std::string db_path_;
  std::unique_ptr<TempDir> temp_dir_;

  std::unique_ptr<recordings::SqliteStore> store_;
  StreamingProvider provider_;
  net::ClientToolBroker client_tools_;
  std::unique_ptr<net::ToolRouter> tools_;
  engine::SystemClock clock_;
  net::Metrics metrics_;
  boost::asio::io_context io_;
  std::unique_ptr<net::SessionHub> hub_;
  std::unique_ptr<net::Api> api_;
  std::unique_ptr<net::HttpServer> server_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool killed_ = false;
};

}  // namespace scaffold::testing
