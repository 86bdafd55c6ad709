// The libcrypto (OpenSSL 3) functions scaffold calls, forwarded to libcrypto opened on first
// use (engine/lazy_library.h). Linked into the binary, OpenSSL's tables of algorithms, names
// and providers are about 350 KB of pointers that the loader relocates at every start, a page
// fault per 4 KB, whether or not anything is hashed; `--version` and `validate` hash nothing.
// The first digest, JWT check or WebSocket upgrade opens libcrypto.so.3, the same copy that
// libcurl and libpq use.
//
// Without libcrypto, calls fail the way OpenSSL reports failures (null, 0), and CryptoError()
// says why; the callers turn that into an error (recordings/sha256.cc, the WebSocket upgrade's
// 500, a JWT refused). Used by net/ (JWT, WebSocket) and recordings/ (hashes); it sits in the
// engine because that is what both link.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <string>

#include "engine/crypto.h"
#include "engine/lazy_library.h"

namespace {

scaffold::engine::LazyLibrary& Crypto() {
  static scaffold::engine::LazyLibrary library({"libcrypto.so.3"});
  return library;
}

// Defines the body of a forwarding function: the real one's result, or `failure`.
#define SCAFFOLD_FORWARD(name, failure, ...)                                      \
  static const auto real = Crypto().Function<decltype(&::name)>(#name);          \
  return real ? real(__VA_ARGS__) : failure
#define SCAFFOLD_FORWARD_VOID(name, ...)                                          \
  static const auto real = Crypto().Function<decltype(&::name)>(#name);          \
  if (real) real(__VA_ARGS__)

}  // namespace

namespace scaffold::engine {

std::string CryptoError() {
  if (Crypto().Symbol("EVP_sha256")) return "";
  return "libcrypto.so.3 (OpenSSL 3) cannot be loaded: " + Crypto().error();
}

}  // namespace scaffold::engine

extern "C" {

// Digests and base64.
const EVP_MD* EVP_sha1(void) { SCAFFOLD_FORWARD(EVP_sha1, nullptr); }
const EVP_MD* EVP_sha256(void) { SCAFFOLD_FORWARD(EVP_sha256, nullptr); }
EVP_MD_CTX* EVP_MD_CTX_new(void) { SCAFFOLD_FORWARD(EVP_MD_CTX_new, nullptr); }
void EVP_MD_CTX_free(EVP_MD_CTX* ctx) { SCAFFOLD_FORWARD_VOID(EVP_MD_CTX_free, ctx); }
int EVP_DigestInit_ex(EVP_MD_CTX* ctx, const EVP_MD* type, ENGINE* impl) {
  SCAFFOLD_FORWARD(EVP_DigestInit_ex, 0, ctx, type, impl);
}
int EVP_DigestUpdate(EVP_MD_CTX* ctx, const void* d, size_t cnt) {
  SCAFFOLD_FORWARD(EVP_DigestUpdate, 0, ctx, d, cnt);
}
int EVP_DigestFinal_ex(EVP_MD_CTX* ctx, unsigned char* md, unsigned int* s) {
  SCAFFOLD_FORWARD(EVP_DigestFinal_ex, 0, ctx, md, s);
}
int EVP_Digest(const void* data, size_t count, unsigned char* md, unsigned int* size,
               const EVP_MD* type, ENGINE* impl) {
  SCAFFOLD_FORWARD(EVP_Digest, 0, data, count, md, size, type, impl);
}
int EVP_EncodeBlock(unsigned char* t, const unsigned char* f, int n) {
  SCAFFOLD_FORWARD(EVP_EncodeBlock, 0, t, f, n);
}
unsigned char* HMAC(const EVP_MD* evp_md, const void* key, int key_len, const unsigned char* data,
                    size_t data_len, unsigned char* md, unsigned int* md_len) {
  SCAFFOLD_FORWARD(HMAC, nullptr, evp_md, key, key_len, data, data_len, md, md_len);
}
int CRYPTO_memcmp(const void* in_a, const void* in_b, size_t len) {
  SCAFFOLD_FORWARD(CRYPTO_memcmp, 1, in_a, in_b, len);  // unequal
}
void CRYPTO_free(void* ptr, const char* file, int line) {
  SCAFFOLD_FORWARD_VOID(CRYPTO_free, ptr, file, line);
}

// Public keys and signatures (JWT).
int EVP_DigestVerifyInit(EVP_MD_CTX* ctx, EVP_PKEY_CTX** pctx, const EVP_MD* type, ENGINE* e,
                         EVP_PKEY* pkey) {
  SCAFFOLD_FORWARD(EVP_DigestVerifyInit, 0, ctx, pctx, type, e, pkey);
}
int EVP_DigestVerify(EVP_MD_CTX* ctx, const unsigned char* sigret, size_t siglen,
                     const unsigned char* tbs, size_t tbslen) {
  SCAFFOLD_FORWARD(EVP_DigestVerify, 0, ctx, sigret, siglen, tbs, tbslen);
}
void EVP_PKEY_free(EVP_PKEY* pkey) { SCAFFOLD_FORWARD_VOID(EVP_PKEY_free, pkey); }
int EVP_PKEY_is_a(const EVP_PKEY* pkey, const char* name) {
  SCAFFOLD_FORWARD(EVP_PKEY_is_a, 0, pkey, name);
}
int EVP_PKEY_get_utf8_string_param(const EVP_PKEY* pkey, const char* key_name, char* str,
                                   size_t max_buf_sz, size_t* out_sz) {
  SCAFFOLD_FORWARD(EVP_PKEY_get_utf8_string_param, 0, pkey, key_name, str, max_buf_sz, out_sz);
}
EVP_PKEY_CTX* EVP_PKEY_CTX_new_from_name(OSSL_LIB_CTX* libctx, const char* name,
                                         const char* propquery) {
  SCAFFOLD_FORWARD(EVP_PKEY_CTX_new_from_name, nullptr, libctx, name, propquery);
}
void EVP_PKEY_CTX_free(EVP_PKEY_CTX* ctx) { SCAFFOLD_FORWARD_VOID(EVP_PKEY_CTX_free, ctx); }
int EVP_PKEY_fromdata_init(EVP_PKEY_CTX* ctx) { SCAFFOLD_FORWARD(EVP_PKEY_fromdata_init, 0, ctx); }
int EVP_PKEY_fromdata(EVP_PKEY_CTX* ctx, EVP_PKEY** ppkey, int selection, OSSL_PARAM param[]) {
  SCAFFOLD_FORWARD(EVP_PKEY_fromdata, 0, ctx, ppkey, selection, param);
}
OSSL_PARAM_BLD* OSSL_PARAM_BLD_new(void) { SCAFFOLD_FORWARD(OSSL_PARAM_BLD_new, nullptr); }
void OSSL_PARAM_BLD_free(OSSL_PARAM_BLD* bld) { SCAFFOLD_FORWARD_VOID(OSSL_PARAM_BLD_free, bld); }
OSSL_PARAM* OSSL_PARAM_BLD_to_param(OSSL_PARAM_BLD* bld) {
  SCAFFOLD_FORWARD(OSSL_PARAM_BLD_to_param, nullptr, bld);
}
int OSSL_PARAM_BLD_push_BN(OSSL_PARAM_BLD* bld, const char* key, const BIGNUM* bn) {
  SCAFFOLD_FORWARD(OSSL_PARAM_BLD_push_BN, 0, bld, key, bn);
}
int OSSL_PARAM_BLD_push_utf8_string(OSSL_PARAM_BLD* bld, const char* key, const char* buf,
                                    size_t bsize) {
  SCAFFOLD_FORWARD(OSSL_PARAM_BLD_push_utf8_string, 0, bld, key, buf, bsize);
}
int OSSL_PARAM_BLD_push_octet_string(OSSL_PARAM_BLD* bld, const char* key, const void* buf,
                                     size_t bsize) {
  SCAFFOLD_FORWARD(OSSL_PARAM_BLD_push_octet_string, 0, bld, key, buf, bsize);
}
void OSSL_PARAM_free(OSSL_PARAM* p) { SCAFFOLD_FORWARD_VOID(OSSL_PARAM_free, p); }
BIO* BIO_new_mem_buf(const void* buf, int len) { SCAFFOLD_FORWARD(BIO_new_mem_buf, nullptr, buf, len); }
int BIO_free(BIO* a) { SCAFFOLD_FORWARD(BIO_free, 0, a); }
EVP_PKEY* PEM_read_bio_PUBKEY(BIO* out, EVP_PKEY** x, pem_password_cb* cb, void* u) {
  SCAFFOLD_FORWARD(PEM_read_bio_PUBKEY, nullptr, out, x, cb, u);
}
BIGNUM* BN_bin2bn(const unsigned char* s, int len, BIGNUM* ret) {
  SCAFFOLD_FORWARD(BN_bin2bn, nullptr, s, len, ret);
}
void BN_free(BIGNUM* a) { SCAFFOLD_FORWARD_VOID(BN_free, a); }
ECDSA_SIG* ECDSA_SIG_new(void) { SCAFFOLD_FORWARD(ECDSA_SIG_new, nullptr); }
void ECDSA_SIG_free(ECDSA_SIG* sig) { SCAFFOLD_FORWARD_VOID(ECDSA_SIG_free, sig); }
int ECDSA_SIG_set0(ECDSA_SIG* sig, BIGNUM* r, BIGNUM* s) {
  SCAFFOLD_FORWARD(ECDSA_SIG_set0, 0, sig, r, s);
}
int i2d_ECDSA_SIG(const ECDSA_SIG* a, unsigned char** out) {
  SCAFFOLD_FORWARD(i2d_ECDSA_SIG, -1, a, out);
}

}  // extern "C"
