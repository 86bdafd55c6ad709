// The messages a WebSocket client sends to `scaffold serve` (scaffold-protocol(7)), read and
// checked apart from the socket: ws_session.cc feeds each text message here and carries out
// the request it becomes; the fuzz target does the same without a socket.
//
// Every field is read with its type checked; a message that cannot be used becomes an `error`
// frame for the client (code and message naming the field), never an exception.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/session.h"
#include "net/tools/client_tools.h"

namespace scaffold::net {

// What a connection does for its client's messages. Implemented by the WebSocket session.
class WsClientActions {
 public:
  virtual ~WsClientActions() = default;
  virtual void SendText(std::string text) = 0;
  virtual void SendError(const std::string& code, const std::string& message,
                         const std::string& session_id) = 0;
  // `from`: the first position to send from the log; 0 follows live events only.
  virtual void Subscribe(const std::string& session_id, int64_t from) = 0;
  virtual void Unsubscribe(const std::string& session_id) = 0;
  virtual void SubmitInput(const std::string& session_id, engine::InputAnswer answer) = 0;
  virtual void RegisterTools(std::vector<RegisteredTool> tools) = 0;
  // A tool:response frame (an object with a "type"); the broker checks the rest.
  virtual void ToolResponse(const Json& frame) = 0;
};

struct WsClientInfo {
  bool desktop = false;       // ?client=osclient: may register tools
  bool tools_served = false;  // the server runs client tools at all
};

// Handles one text message from the client.
void HandleWsMessage(std::string_view text, const WsClientInfo& client, WsClientActions* actions);

}  // namespace scaffold::net
