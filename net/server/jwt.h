// JWT verification (RFC 7519) for `scaffold serve --auth jwt`, on OpenSSL.
//
// The accepted algorithm is fixed by configuration, never taken from the token: a verifier
// made from a secret accepts only HS256; one made from a public key or a JWKS file accepts only
// RS256 (RSA keys) or ES256 (P-256 keys). So "alg": "none" in any spelling, a token signed
// with HS256 using the server's public key as the secret, or any other algorithm switch, is
// refused. Tokens must have exactly three segments, a `crit` header is refused (no extension is
// understood), `kid` only selects a key of the JWKS (an unknown one is refused, and nothing is
// ever fetched), and exp/nbf are checked with a small leeway, iss/aud when configured.
//
// Immutable after construction; Verify may be called from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"

namespace scaffold::net {

class JwtVerifier {
 public:
  struct Options {
    std::optional<std::string> issuer;    // required `iss` when set
    std::optional<std::string> audience;  // `aud` (a string or an array) must contain it when set
    int64_t leeway_seconds = 30;
  };

  // HS256 with the secret's bytes.
  static Result<JwtVerifier> FromSecret(std::string secret, Options options);
  // RS256 or ES256 with one PEM public key (SubjectPublicKeyInfo).
  static Result<JwtVerifier> FromPublicKeyPem(const std::string& pem, Options options);
  // RS256 and/or ES256 with the keys of a JWKS document ({"keys": [...]}), chosen by `kid`.
  static Result<JwtVerifier> FromJwks(const Json& jwks, Options options);

  JwtVerifier(JwtVerifier&&) noexcept;
  JwtVerifier& operator=(JwtVerifier&&) noexcept;
  ~JwtVerifier();

  // The token's claims when its signature, algorithm, times, issuer and audience check out;
  // kInvalidArgument saying why otherwise. `now` is Unix seconds.
  Result<Json> Verify(std::string_view token, int64_t now) const;

 private:
  struct Key;
  JwtVerifier();
  std::vector<Key> keys_;
  std::string secret_;
  Options options_;
};

// Base64url without padding (RFC 7515), for tests and tools.
std::string Base64UrlEncode(std::string_view data);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace scaffold::net
