// A request Beast parsed, as the server's dispatch reads it (http_dispatch.h). Internal: for
// the translation units that use Beast (the server and its fuzz target).
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cctype>
#include <string>

#include "net/server/http_dispatch.h"

namespace scaffold::net {

// Header names lower-cased (a repeated header keeps its last value); the body is moved out.
inline IncomingRequest FromBeast(boost::beast::http::request<boost::beast::http::string_body>& req,
                                 std::string remote) {
  IncomingRequest in;
  in.method = std::string(req.method_string());
  in.target = std::string(req.target());
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    in.headers[name] = std::string(field.value());
  }
  in.body = std::move(req.body());
  in.upgrade = boost::beast::websocket::is_upgrade(req);
  in.remote = std::move(remote);
  return in;
}

}  // namespace scaffold::net
