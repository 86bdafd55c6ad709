// Fuzz target: the messages a WebSocket client sends to `scaffold serve`, read and dispatched
// as the server does, with the connection's actions recorded instead of sent. A tool:response
// reaches the real client tool broker.

#include "net/server/ws_messages.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

class NoConnection : public scaffold::net::ToolClientConnection {
 public:
  void SendFrame(std::string) override {}
};

class Recorder : public scaffold::net::WsClientActions {
 public:
  void SendText(std::string text) override { sent += text.size(); }
  void SendError(const std::string& code, const std::string& message,
                 const std::string& session_id) override {
    sent += code.size() + message.size() + session_id.size();
  }
  void Subscribe(const std::string& id, int64_t from) override { sent += id.size() + from; }
  void Unsubscribe(const std::string& id) override { sent += id.size(); }
  void SubmitInput(const std::string& id, scaffold::engine::InputAnswer answer) override {
    sent += id.size() + answer.id.size() + scaffold::DumpJson(answer.value).size();
  }
  void RegisterTools(std::vector<scaffold::net::RegisteredTool> tools) override {
    broker.Register("user", connection, std::move(tools));
  }
  void ToolResponse(const scaffold::Json& frame) override {
    sent += broker.Respond(connection.get(), frame).size();
  }

  size_t sent = 0;
  scaffold::net::ClientToolBroker broker;
  std::shared_ptr<NoConnection> connection = std::make_shared<NoConnection>();
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Recorder recorder;
  scaffold::net::WsClientInfo info;
  info.desktop = size % 2 == 0;
  info.tools_served = true;
  scaffold::net::HandleWsMessage(scaffold::fuzz::AsText(data, size), info, &recorder);
  return 0;
}
