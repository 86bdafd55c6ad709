// ClusterToolHost: client tools across nodes. A session driven on one node calls a client tool
// of its owner's desktop client connected to another node: the call goes to that node (Cluster
// requests) and its broker runs it as for a session of its own. A client of the owner on this
// node comes first; then the client that registered last on any live node. Other users'
// clients are never asked, on any node: the owner travels with the call.
//
// Thread-safety: as ClientToolBroker.
#pragma once

#include <memory>

#include "engine/executor.h"
#include "engine/tool_host.h"
#include "net/server/cluster.h"
#include "net/tools/client_tools.h"

namespace boost::asio {
class io_context;
}

namespace scaffold::net {

class ClusterToolHost : public engine::ToolHost {
 public:
  // All borrowed; they must outlive this. Publishes what `broker`'s clients offer whenever that
  // changes.
  ClusterToolHost(ClientToolBroker* broker, Cluster* cluster, boost::asio::io_context* io);

  std::unique_ptr<engine::ToolCall> Call(const engine::ToolRequest& request,
                                         const engine::ToolDecl* decl, engine::Executor* executor,
                                         std::function<void(engine::ToolResult)> done) override;

  // A call sent here by another node ({"op": "client_tool", ...}): runs it on this node's
  // broker and replies with {code, message, value: {output, isError}}.
  void Serve(const Json& request, std::function<void(Json)> reply);

  // Tells the other nodes this node's clients are gone (at shutdown).
  void Withdraw();

 private:
  void Publish();

  ClientToolBroker* const broker_;
  Cluster* const cluster_;
  const std::unique_ptr<engine::Executor> served_;  // where calls from other nodes complete
};

}  // namespace scaffold::net
