// libcrypto (OpenSSL 3) is opened on first use, not linked (engine/crypto_shim.cc): scaffold
// includes OpenSSL's headers and calls its functions as usual.
#pragma once

#include <string>

namespace scaffold::engine {

// "" when libcrypto is loaded (loading it if it was not), else why it cannot be: a digest or
// signature check that failed for that reason says so with this.
std::string CryptoError();

}  // namespace scaffold::engine
