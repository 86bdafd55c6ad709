// The WebSocket side of the server (ws_session.cc). Internal: included only by the translation
// unit that accepts connections.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "net/server/server_context.h"

namespace scaffold::net {

// Runs an accepted upgrade to /ws: writes `response` (the 101 of AnswerWsUpgrade) and then
// speaks WebSocket on `socket`. `early` is what the client sent after its request, if anything.
void StartWebSocket(ServerContext* ctx, ConnectionSlot slot, boost::asio::ip::tcp::socket socket,
                    std::string response, std::string early, std::string user, std::string client,
                    std::string remote);

}  // namespace scaffold::net
