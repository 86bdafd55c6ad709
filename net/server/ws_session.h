// The WebSocket side of the server (ws_session.cc). Internal: included only by the two
// translation units that use Beast.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

#include "net/server/server_context.h"

namespace scaffold::net {

// Takes over an authenticated upgrade request to /ws and runs the connection.
void StartWebSocket(ServerContext* ctx, ConnectionSlot slot, boost::beast::tcp_stream stream,
                    boost::beast::http::request<boost::beast::http::string_body> request,
                    std::string user, std::string client, std::string remote);

}  // namespace scaffold::net
