// Signing JWTs in tests (HS256, RS256, ES256) with OpenSSL, and generating keys to sign with.
#pragma once

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <ctime>
#include <memory>
#include <string>

#include "engine/json.h"
#include "net/server/jwt.h"

namespace scaffold::testing {

class TestKey {
 public:
  // "RSA" (2048 bits) or "EC" (P-256).
  explicit TestKey(const std::string& type) {
    key_ = type == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                         : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  }
  ~TestKey() { EVP_PKEY_free(key_); }
  TestKey(const TestKey&) = delete;

  std::string PublicPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key_);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
  }

  // The public key as a JWK.
  Json Jwk(const std::string& kid = "") const {
    Json jwk;
    if (EVP_PKEY_is_a(key_, "RSA")) {
      jwk = {{"kty", "RSA"}, {"n", Big(OSSL_PKEY_PARAM_RSA_N)}, {"e", Big(OSSL_PKEY_PARAM_RSA_E)}};
    } else {
      unsigned char point[65];
      size_t len = 0;
      EVP_PKEY_get_octet_string_param(key_, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
      jwk = {{"kty", "EC"},
             {"crv", "P-256"},
             {"x", net::Base64UrlEncode(std::string(reinterpret_cast<char*>(point + 1), 32))},
             {"y", net::Base64UrlEncode(std::string(reinterpret_cast<char*>(point + 33), 32))}};
    }
    if (!kid.empty()) jwk["kid"] = kid;
    return jwk;
  }

  // The signature of `input` as JOSE wants it (r||s for ES256).
  std::string Sign(const std::string& input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_);
    size_t len = 0;
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    if (EVP_PKEY_is_a(key_, "EC")) {
      const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
      ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
      unsigned char rs[64] = {};
      BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), rs, 32);
      BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), rs + 32, 32);
      ECDSA_SIG_free(ecdsa);
      return std::string(reinterpret_cast<char*>(rs), 64);
    }
    return sig;
  }

 private:
  std::string Big(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_, name, &bn);
    std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return net::Base64UrlEncode(bytes);
  }
  EVP_PKEY* key_;
};

inline std::string JwtSigningInput(const Json& header, const Json& claims) {
  return net::Base64UrlEncode(header.dump()) + "." + net::Base64UrlEncode(claims.dump());
}

// Signs header and payload given as text (to send what a JSON library would not write).
inline std::string SignHs256Text(const std::string& secret, const std::string& header,
                                 const std::string& payload) {
  std::string input = net::Base64UrlEncode(header) + "." + net::Base64UrlEncode(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + net::Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
}

inline std::string SignHs256(const std::string& secret, const Json& claims,
                             Json header = {{"alg", "HS256"}}) {
  std::string input = JwtSigningInput(header, claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + net::Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
}

// An HS256 token for user `sub`, valid for ten minutes from now.
inline std::string TokenFor(const std::string& secret, const std::string& sub) {
  return SignHs256(secret, {{"sub", sub}, {"exp", static_cast<int64_t>(std::time(nullptr)) + 600}});
}

inline std::string SignWith(const TestKey& key, const std::string& alg, const Json& claims,
                            Json header = nullptr) {
  if (header.is_null()) header = {{"alg", alg}};
  std::string input = JwtSigningInput(header, claims);
  return input + "." + net::Base64UrlEncode(key.Sign(input));
}

}  // namespace scaffold::testing
