// SHA-256 (OpenSSL) as lower-case hex.
#pragma once

#include <string>
#include <string_view>

namespace scaffold::recordings {

std::string Sha256Hex(std::string_view data);

}  // namespace scaffold::recordings
