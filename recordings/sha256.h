// SHA-256 (OpenSSL) as lower-case hex. Throws std::runtime_error when libcrypto cannot be
// loaded (engine/crypto.h), the one way it fails.
#pragma once

#include <string>
#include <string_view>

namespace scaffold::recordings {

std::string Sha256Hex(std::string_view data);

}  // namespace scaffold::recordings
