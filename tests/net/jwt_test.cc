#include "net/server/jwt.h"

#include <catch2/catch.hpp>

#include "tests/support/conformance.h"
#include "tests/support/jwt_signer.h"

using scaffold::Json;
using scaffold::net::Base64UrlDecode;
using scaffold::net::Base64UrlEncode;
using scaffold::net::JwtVerifier;
using scaffold::testing::SignHs256;
using scaffold::testing::SignWith;
using scaffold::testing::TestKey;

namespace {

constexpr int64_t kNow = 1795200000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";

Json Claims(Json extra = Json::object()) {
  Json c = {{"sub", "ada"}, {"exp", kNow + 600}, {"iat", kNow}};
  c.update(extra);
  return c;
}

JwtVerifier Hs() {
  return std::move(JwtVerifier::FromSecret(kSecret, {}).value());
}

std::string Why(const JwtVerifier& v, const std::string& token) {
  auto r = v.Verify(token, kNow);
  return r.ok() ? "accepted" : r.status().message();
}

}  // namespace

TEST_CASE("the RFC 7515 HS256 and RS256 examples verify, the RFC 7519 unsecured one does not",
          "[jwt][conformance]") {
  Json vectors = scaffold::testing::LoadConformance("jwt/vectors.json");
  const int64_t before_exp = 1300819000;  // the examples expire at 1300819380

  Json hs = vectors["rfc7515_A1_HS256"];
  auto secret = Base64UrlDecode(hs["jwk"]["k"].get<std::string>());
  REQUIRE(secret);
  auto hs_verifier = JwtVerifier::FromSecret(*secret, {});
  REQUIRE(hs_verifier.ok());
  auto claims = hs_verifier->Verify(hs["token"].get<std::string>(), before_exp);
  INFO(claims.status().ToString());
  REQUIRE(claims.ok());
  CHECK((*claims)["iss"] == "joe");
  CHECK((*claims)["http://example.com/is_root"] == true);
  CHECK_FALSE(hs_verifier->Verify(hs["token"].get<std::string>(), before_exp + 3600)
                  .ok());  // expired by now

  Json rs = vectors["rfc7515_A2_RS256"];
  Json jwk = rs["jwk"];
  jwk.erase("d");  // the verifier gets the public part only
  auto rs_verifier = JwtVerifier::FromJwks({{"keys", Json::array({jwk})}}, {});
  REQUIRE(rs_verifier.ok());
  auto rs_claims = rs_verifier->Verify(rs["token"].get<std::string>(), before_exp);
  INFO(rs_claims.status().ToString());
  REQUIRE(rs_claims.ok());
  CHECK((*rs_claims)["iss"] == "joe");

  std::string none = vectors["rfc7519_6_1_none"];
  CHECK_FALSE(hs_verifier->Verify(none, before_exp).ok());
  CHECK_FALSE(rs_verifier->Verify(none, before_exp).ok());
}

TEST_CASE("base64url round-trips and refuses padding and foreign characters", "[jwt]") {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar",
                                                std::string("\xff\x00\x01", 3)}) {
    CHECK(Base64UrlDecode(Base64UrlEncode(s)) == s);
  }
  CHECK_FALSE(Base64UrlDecode("Zg=="));
  CHECK_FALSE(Base64UrlDecode("Z+8"));
}

TEST_CASE("valid tokens of every algorithm are accepted and return their claims", "[jwt]") {
  CHECK(Why(Hs(), SignHs256(kSecret, Claims())) == "accepted");
  TestKey rsa("RSA"), ec("EC");
  auto rs_pem = JwtVerifier::FromPublicKeyPem(rsa.PublicPem(), {});
  REQUIRE(rs_pem.ok());
  CHECK(Why(*rs_pem, SignWith(rsa, "RS256", Claims())) == "accepted");
  auto es_pem = JwtVerifier::FromPublicKeyPem(ec.PublicPem(), {});
  REQUIRE(es_pem.ok());
  CHECK(Why(*es_pem, SignWith(ec, "ES256", Claims())) == "accepted");
  auto jwks = JwtVerifier::FromJwks({{"keys", {rsa.Jwk("r1"), ec.Jwk("e1")}}}, {});
  REQUIRE(jwks.ok());
  CHECK(Why(*jwks, SignWith(rsa, "RS256", Claims(), {{"alg", "RS256"}, {"kid", "r1"}})) ==
        "accepted");
  CHECK(Why(*jwks, SignWith(ec, "ES256", Claims(), {{"alg", "ES256"}, {"kid", "e1"}})) ==
        "accepted");
  CHECK((*jwks->Verify(SignWith(ec, "ES256", Claims(), {{"alg", "ES256"}, {"kid", "e1"}}),
                       kNow))["sub"] == "ada");
}

TEST_CASE("attacks on JWT verification are all refused", "[jwt]") {
  TestKey rsa("RSA");
  auto rs = std::move(JwtVerifier::FromPublicKeyPem(rsa.PublicPem(), {}).value());
  auto hs = Hs();
  auto unsigned_token = [](const std::string& alg) {
    return scaffold::testing::JwtSigningInput({{"alg", alg}}, Claims()) + ".";
  };
  SECTION("alg none in any spelling") {
    for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
      INFO(alg);
      CHECK_THAT(Why(hs, unsigned_token(alg)), Catch::Contains("invalid token"));
      CHECK_THAT(Why(rs, unsigned_token(alg)), Catch::Contains("invalid token"));
      CHECK_THAT(Why(rs, unsigned_token(alg) + "c2ln"), Catch::Contains("invalid token"));
    }
  }
  SECTION("HS256 signed with the server's RSA public key as the secret") {
    std::string forged = SignHs256(rsa.PublicPem(), Claims());
    CHECK(Why(rs, forged) ==
          "invalid token: algorithm HS256 is not accepted by this server's keys");
  }
  SECTION("RS256 presented to an HS256 server") {
    CHECK_THAT(Why(hs, SignWith(rsa, "RS256", Claims())),
               Catch::Contains("algorithm RS256 is not accepted"));
  }
  SECTION("expired, and not valid yet") {
    CHECK(Why(hs, SignHs256(kSecret, Claims({{"exp", kNow - 31}}))) ==
          "invalid token: the token has expired");
    CHECK(Why(hs, SignHs256(kSecret, Claims({{"exp", kNow - 10}}))) ==
          "accepted");  // within the leeway
    CHECK(Why(hs, SignHs256(kSecret, Claims({{"nbf", kNow + 120}}))) ==
          "invalid token: the token is not valid yet");
  }
  SECTION("a header or payload naming a key twice, or nested past the limit") {
    using scaffold::testing::SignHs256Text;
    std::string claims = Claims().dump();
    std::string twice = claims.substr(0, claims.size() - 1) + R"(,"sub":"root"})";
    CHECK(Why(hs, SignHs256Text(kSecret, R"({"alg":"HS256"})", twice)) ==
          "invalid token: the payload is not usable: duplicate key \"sub\"");
    CHECK(Why(hs, SignHs256Text(kSecret, R"({"alg":"none","alg":"HS256"})", claims)) ==
          "invalid token: the header is not usable: duplicate key \"alg\"");
    std::string deep = claims.substr(0, claims.size() - 1) + R"(,"x":)" + std::string(40, '[') +
                       std::string(40, ']') + "}";
    CHECK_THAT(Why(hs, SignHs256Text(kSecret, R"({"alg":"HS256"})", deep)),
               Catch::Contains("nested deeper than 32 levels"));
    CHECK(Why(hs, SignHs256Text(kSecret, R"({"alg":"HS256"})", claims)) == "accepted");
  }
  SECTION("a tampered payload") {
    std::string token = SignHs256(kSecret, Claims());
    size_t a = token.find('.'), b = token.rfind('.');
    std::string evil = Base64UrlEncode(Claims({{"sub", "root"}}).dump());
    CHECK(Why(hs, token.substr(0, a + 1) + evil + token.substr(b)) ==
          "invalid token: the signature does not match");
    std::string rs_token = SignWith(rsa, "RS256", Claims());
    a = rs_token.find('.');
    b = rs_token.rfind('.');
    CHECK(Why(rs, rs_token.substr(0, a + 1) + evil + rs_token.substr(b)) ==
          "invalid token: the signature does not match");
  }
  SECTION("two or four segments") {
    std::string token = SignHs256(kSecret, Claims());
    CHECK(Why(hs, token.substr(0, token.rfind('.'))) ==
          "invalid token: a JWT has exactly three segments");
    CHECK(Why(hs, token + ".extra") == "invalid token: a JWT has exactly three segments");
  }
  SECTION("an unknown crit header") {
    std::string token =
        SignHs256(kSecret, Claims(), {{"alg", "HS256"}, {"crit", {"exp"}}, {"exp", 1}});
    CHECK(Why(hs, token) == "invalid token: critical header extensions are not supported");
  }
  SECTION("kid tricks") {
    TestKey other("RSA");
    auto jwks = std::move(JwtVerifier::FromJwks({{"keys", {rsa.Jwk("good")}}}, {}).value());
    for (const char* kid :
         {"../../../../etc/passwd", "good' OR '1'='1", "", "http://evil.example/key.json"}) {
      INFO(kid);
      std::string token = SignWith(other, "RS256", Claims(), {{"alg", "RS256"}, {"kid", kid}});
      CHECK_THAT(Why(jwks, token), Catch::StartsWith("invalid token"));
    }
    CHECK_THAT(Why(jwks, SignWith(rsa, "RS256", Claims(), {{"alg", "RS256"}, {"kid", 7}})),
               Catch::Contains("kid must be a string"));
  }
  SECTION("issuer and audience when configured") {
    JwtVerifier::Options o;
    o.issuer = "https://auth.example";
    o.audience = "scaffold";
    auto strict = std::move(JwtVerifier::FromSecret(kSecret, o).value());
    CHECK(Why(strict, SignHs256(kSecret, Claims())) == "invalid token: wrong issuer");
    CHECK(Why(strict,
              SignHs256(kSecret, Claims({{"iss", "https://auth.example"}, {"aud", "other"}}))) ==
          "invalid token: wrong audience");
    CHECK(Why(strict, SignHs256(kSecret, Claims({{"iss", "https://auth.example"},
                                                 {"aud", {"x", "scaffold"}}}))) == "accepted");
  }
  SECTION("garbage") {
    for (const char* t : {"", ".", "..", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", "!!!.###.$$$"}) {
      INFO(t);
      CHECK_THAT(Why(hs, t), Catch::StartsWith("invalid token"));
    }
  }
}

TEST_CASE("weak secrets and unusable keys are refused at configuration", "[jwt]") {
  CHECK_FALSE(JwtVerifier::FromSecret("short", {}).ok());
  CHECK_FALSE(JwtVerifier::FromPublicKeyPem("not a key", {}).ok());
  CHECK_FALSE(JwtVerifier::FromJwks(Json::parse(R"({"keys": []})"), {}).ok());
  CHECK_FALSE(
      JwtVerifier::FromJwks(Json::parse(R"({"keys": [{"kty": "oct", "k": "abc"}]})"), {}).ok());
}
