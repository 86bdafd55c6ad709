#include "net/server/jwt.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "engine/crypto.h"
#include "engine/json_reader.h"

namespace scaffold::net {
namespace {

Status Refused(const std::string& why) {
  return InvalidArgument("invalid token: " + why);
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string KeyType(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) return "RSA";
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) &&
        std::string(group) == "prime256v1") {
      return "P-256";
    }
    return "EC";
  }
  return "other";
}

Pkey PkeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  if (ctx && params && EVP_PKEY_fromdata_init(ctx) > 0)
    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return Pkey(key);
}

Result<Pkey> KeyFromJwk(const Json& jwk) {
  JsonReader in(jwk);
  std::string kty = in.OptString("kty").value_or("");
  std::string n_text = in.OptString("n").value_or(""), e_text = in.OptString("e").value_or("");
  std::string crv = in.OptString("crv").value_or("");
  std::string x_text = in.OptString("x").value_or(""), y_text = in.OptString("y").value_or("");
  if (!in.ok()) return InvalidArgument(in.status().ToString());
  if (kty == "RSA") {
    auto n = Base64UrlDecode(n_text);
    auto e = Base64UrlDecode(e_text);
    if (!n || !e || n->empty() || e->empty())
      return InvalidArgument("an RSA key needs base64url n and e");
    BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                             static_cast<int>(n->size()), nullptr);
    BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                             static_cast<int>(e->size()), nullptr);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
    Pkey key = PkeyFromParams("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    if (!key) return InvalidArgument("the RSA key is not valid");
    return key;
  }
  if (kty == "EC") {
    if (crv != "P-256") return InvalidArgument("only P-256 EC keys are supported (ES256)");
    auto x = Base64UrlDecode(x_text);
    auto y = Base64UrlDecode(y_text);
    if (!x || !y || x->size() != 32 || y->size() != 32)
      return InvalidArgument("a P-256 key needs 32-byte x and y");
    std::string point = "\x04" + *x + *y;
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    Pkey key = PkeyFromParams("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    if (!key) return InvalidArgument("the EC key is not a point on P-256");
    return key;
  }
  return InvalidArgument("unsupported key type \"" + kty + "\" (expected RSA or EC)");
}

bool VerifyDigest(EVP_PKEY* key, std::string_view input, const std::string& signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// JOSE's ES256 signature is r||s (32 bytes each); OpenSSL wants DER.
std::optional<std::string> EcdsaJoseToDer(const std::string& jose) {
  if (jose.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(jose.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(jose.data() + 32), 32, nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  std::optional<std::string> out;
  if (len > 0) out = std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

}  // namespace

struct JwtVerifier::Key {
  std::string kid;
  std::string alg;  // "RS256" or "ES256"
  Pkey pkey;
};

JwtVerifier::JwtVerifier() = default;
JwtVerifier::JwtVerifier(JwtVerifier&&) noexcept = default;
JwtVerifier& JwtVerifier::operator=(JwtVerifier&&) noexcept = default;
JwtVerifier::~JwtVerifier() = default;

std::string Base64UrlEncode(std::string_view data) {
  static const char* kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    out += kChars[v >> 18];
    out += kChars[(v >> 12) & 63];
    out += kChars[(v >> 6) & 63];
    out += kChars[v & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t v = uint8_t(data[i]) << 16;
    out += kChars[v >> 18];
    out += kChars[(v >> 12) & 63];
  } else if (i + 2 == data.size()) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += kChars[v >> 18];
    out += kChars[(v >> 12) & 63];
    out += kChars[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if (bits > 0 && (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical tail
  return out;
}

Result<JwtVerifier> JwtVerifier::FromSecret(std::string secret, Options options) {
  if (std::string why = engine::CryptoError(); !why.empty()) return FailedPrecondition(why);
  if (secret.size() < 32)
    return InvalidArgument("an HS256 secret must be at least 32 bytes (256 bits)");
  JwtVerifier v;
  v.secret_ = std::move(secret);
  v.options_ = std::move(options);
  return v;
}

Result<JwtVerifier> JwtVerifier::FromPublicKeyPem(const std::string& pem, Options options) {
  if (std::string why = engine::CryptoError(); !why.empty()) return FailedPrecondition(why);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* raw = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!raw) return InvalidArgument("not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
  Pkey key(raw);
  std::string type = KeyType(key.get());
  if (type != "RSA" && type != "P-256")
    return InvalidArgument("the public key must be RSA (RS256) or P-256 (ES256)");
  JwtVerifier v;
  v.keys_.push_back({"", type == "RSA" ? "RS256" : "ES256", std::move(key)});
  v.options_ = std::move(options);
  return v;
}

Result<JwtVerifier> JwtVerifier::FromJwks(const Json& jwks, Options options) {
  if (std::string why = engine::CryptoError(); !why.empty()) return FailedPrecondition(why);
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array() ||
      jwks["keys"].empty()) {
    return InvalidArgument("a JWKS document is {\"keys\": [...]} with at least one key");
  }
  JwtVerifier v;
  v.options_ = std::move(options);
  for (size_t i = 0; i < jwks["keys"].size(); ++i) {
    const Json& jwk = jwks["keys"][i];
    if (!jwk.is_object()) return InvalidArgument("key " + std::to_string(i) + ": not an object");
    auto key = KeyFromJwk(jwk);
    if (!key.ok()) return key.status().WithContext("key " + std::to_string(i));
    std::string alg = KeyType(key->get()) == "RSA" ? "RS256" : "ES256";
    if (jwk.contains("alg") && jwk["alg"] != alg) {
      return InvalidArgument("key " + std::to_string(i) + ": alg " + DumpJson(jwk["alg"]) +
                             " does not fit its key type");
    }
    JsonReader fields(jwk, "/keys/" + std::to_string(i));
    std::string kid = fields.OptString("kid").value_or("");
    if (!fields.ok()) return fields.status();
    v.keys_.push_back({kid, alg, std::move(key).value()});
  }
  return v;
}

Result<Json> JwtVerifier::Verify(std::string_view token, int64_t now) const {
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos ||
      token.find('.', second + 1) != std::string_view::npos) {
    return Refused("a JWT has exactly three segments");
  }
  std::string_view signing_input = token.substr(0, second);
  auto header_text = Base64UrlDecode(token.substr(0, first));
  auto payload_text = Base64UrlDecode(token.substr(first + 1, second - first - 1));
  auto signature = Base64UrlDecode(token.substr(second + 1));
  if (!header_text || !payload_text || !signature) return Refused("a segment is not base64url");
  // A key named twice could mean one thing here and another to whoever issued the token
  // (which `sub` is the user?): such a token is refused.
  JsonParseOptions strict;
  strict.unique_keys = true;
  strict.max_depth = 32;
  auto header_json = ParseJson(*header_text, strict);
  auto payload_json = ParseJson(*payload_text, strict);
  if (!header_json.ok())
    return Refused("the header is not usable: " + header_json.status().message());
  if (!payload_json.ok())
    return Refused("the payload is not usable: " + payload_json.status().message());
  Json header = std::move(header_json).value();
  Json payload = std::move(payload_json).value();
  if (!header.is_object()) return Refused("the header is not a JSON object");
  if (!payload.is_object()) return Refused("the payload is not a JSON object");
  if (!header.contains("alg") || !header["alg"].is_string())
    return Refused("the header has no alg");
  std::string alg = header["alg"];
  if (header.contains("crit")) return Refused("critical header extensions are not supported");

  bool verified = false;
  if (!secret_.empty()) {
    if (alg != "HS256")
      return Refused("algorithm " + alg + " is not accepted (this server accepts HS256)");
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
              mac, &len)) {
      return Internal("HS256: " + engine::CryptoError());
    }
    verified = signature->size() == len && CRYPTO_memcmp(mac, signature->data(), len) == 0;
  } else {
    std::string kid =
        header.contains("kid") && header["kid"].is_string() ? header["kid"].get<std::string>() : "";
    if (header.contains("kid") && !header["kid"].is_string())
      return Refused("kid must be a string");
    const Key* key = nullptr;
    int candidates = 0;
    for (const auto& k : keys_) {
      if (k.alg != alg) continue;
      if (!kid.empty() ? k.kid == kid : true) {
        key = &k;
        ++candidates;
      }
    }
    if (!key) {
      bool known_alg = false;
      for (const auto& k : keys_) known_alg |= k.alg == alg;
      if (!known_alg) return Refused("algorithm " + alg + " is not accepted by this server's keys");
      return Refused("no key with kid \"" + kid + "\"");
    }
    if (kid.empty() && candidates > 1)
      return Refused("several keys fit; the token must name one with kid");
    if (alg == "RS256") {
      verified = VerifyDigest(key->pkey.get(), signing_input, *signature);
    } else {
      auto der = EcdsaJoseToDer(*signature);
      verified = der && VerifyDigest(key->pkey.get(), signing_input, *der);
    }
  }
  if (!verified) return Refused("the signature does not match");

  int64_t leeway = options_.leeway_seconds;
  if (payload.contains("exp")) {
    if (!payload["exp"].is_number()) return Refused("exp is not a number");
    if (now > payload["exp"].get<double>() + static_cast<double>(leeway))
      return Refused("the token has expired");
  }
  if (payload.contains("nbf")) {
    if (!payload["nbf"].is_number()) return Refused("nbf is not a number");
    if (static_cast<double>(now + leeway) < payload["nbf"].get<double>())
      return Refused("the token is not valid yet");
  }
  if (options_.issuer && payload.value("iss", Json()) != *options_.issuer)
    return Refused("wrong issuer");
  if (options_.audience) {
    const Json& aud = payload.value("aud", Json());
    bool match = aud.is_string() ? aud == *options_.audience : false;
    if (aud.is_array()) {
      for (const auto& a : aud) match |= a.is_string() && a == *options_.audience;
    }
    if (!match) return Refused("wrong audience");
  }
  return payload;
}

}  // namespace scaffold::net
