// Fuzz target: JWT verification and JWKS loading. The first byte picks what the rest is:
//   0: a token, verified as it arrives from a client;
//   1: "header JSON\npayload JSON", signed here with the server's HS256 secret and verified, so
//      the claim checks after the signature (exp, nbf, iss, aud, sub) are reached too;
//   2: a JWKS document, loaded as --jwks-file is.

#include "net/server/jwt.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tests/fuzz/fuzz_input.h"

namespace {

const std::string kSecret = "fuzzing-secret-of-at-least-thirty-two-bytes";

const scaffold::net::JwtVerifier& Verifier() {
  static const auto verifier = [] {
    scaffold::net::JwtVerifier::Options options;
    options.issuer = "https://issuer.example";
    options.audience = "scaffold";
    return std::move(scaffold::net::JwtVerifier::FromSecret(kSecret, options).value());
  }();
  return verifier;
}

std::string Sign(std::string_view header, std::string_view payload) {
  std::string input =
      scaffold::net::Base64UrlEncode(header) + "." + scaffold::net::Base64UrlEncode(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." +
         scaffold::net::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), len));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest = scaffold::fuzz::AsText(data + 1, size - 1);
  constexpr int64_t kNow = 1800000000;
  switch (data[0] % 3) {
    case 0:
      (void)Verifier().Verify(rest, kNow);
      break;
    case 1: {
      auto [header, payload] = scaffold::fuzz::SplitFirstLine(rest);
      (void)Verifier().Verify(Sign(header, payload), kNow);
      break;
    }
    default: {
      auto jwks = scaffold::ParseJson(rest);
      if (jwks.ok()) (void)scaffold::net::JwtVerifier::FromJwks(*jwks, {});
    }
  }
  return 0;
}
