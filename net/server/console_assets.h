// The web console's files (net/server/console/), compiled into the binary by a build step
// (net/server/console/embed.cmake): `GET /` answers index.html and `GET /console/NAME` the rest.
// They are code, not data, and are served without a token; everything the console shows comes
// from the API with the user's token, as for any other client.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>

namespace scaffold::net {

struct ConsoleAsset {
  std::string_view path;  // "/console/app.js"
  std::string_view content_type;
  std::string_view body;
  std::string_view etag;  // quoted, from the file's SHA-256
};

// The file served at `path` ("/" is /console/index.html), or null.
const ConsoleAsset* FindConsoleAsset(std::string_view path);

// Headers every console file is sent with: a content security policy that lets the page load
// only its own files and talk only to this server, no framing, no referrer (tokens may be in
// URLs), and revalidation by ETag.
inline constexpr std::pair<const char*, const char*> kConsoleHeaders[] = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-cache"},
};

}  // namespace scaffold::net
