// Inline wrappers for primitives (DH, PRF, AEAD). Owned by the Crypto primitives work.
// Only macros Swift cannot import (function-like or composite expressions); no logic.
#pragma once
#include <openssl/evp.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>

// Key selections for EVP_PKEY_fromdata: composite macro expressions.
static inline int viaduct_EVP_PKEY_KEYPAIR(void) { return EVP_PKEY_KEYPAIR; }
static inline int viaduct_EVP_PKEY_PUBLIC_KEY(void) { return EVP_PKEY_PUBLIC_KEY; }

// Function-like macro.
static inline int viaduct_BN_num_bytes(const BIGNUM *a) { return BN_num_bytes(a); }

// OSSL_PARAM names. OSSL_PARAM / OSSL_PARAM_BLD keep the key pointer (they do not copy it), so
// Swift must pass pointers with static storage, not temporaries bridged from String.
static inline const char *viaduct_PARAM_GROUP_NAME(void) { return OSSL_PKEY_PARAM_GROUP_NAME; }
static inline const char *viaduct_PARAM_PRIV_KEY(void) { return OSSL_PKEY_PARAM_PRIV_KEY; }
static inline const char *viaduct_PARAM_PUB_KEY(void) { return OSSL_PKEY_PARAM_PUB_KEY; }
static inline const char *viaduct_PARAM_FFC_P(void) { return OSSL_PKEY_PARAM_FFC_P; }
static inline const char *viaduct_PARAM_FFC_G(void) { return OSSL_PKEY_PARAM_FFC_G; }
static inline const char *viaduct_PARAM_MAC_DIGEST(void) { return OSSL_MAC_PARAM_DIGEST; }

// AEAD ciphers through OpenSSL's built-in EVP method tables instead of a provider. With a provider
// (OpenSSL 3), every per-packet call that sets the IV or gets/sets the tag is a parameter round
// trip: OSSL_PARAM arrays built and searched by name (strcmp), about 7 % of the userspace data
// plane's CPU. A method-table copy of the built-in cipher (EVP_CIPHER_meth_dup) makes EVP call
// its init/do_cipher/ctrl functions directly: the same AES-NI/PCLMUL (or ChaCha20/Poly1305)
// assembly, no lookups. NULL when that is unavailable (a build without the deprecated 3.0 API or
// without engines, or FIPS mode, where only the FIPS provider may run): callers then fetch.
#if !defined(OPENSSL_NO_DEPRECATED_3_0) && !defined(OPENSSL_NO_ENGINE)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
static inline EVP_CIPHER *viaduct_aead_method(int nid) {
    if (EVP_default_properties_is_fips_enabled(NULL)) return NULL;
    const EVP_CIPHER *builtin = NULL;
    switch (nid) {
    case NID_aes_128_gcm: builtin = EVP_aes_128_gcm(); break;
    case NID_aes_192_gcm: builtin = EVP_aes_192_gcm(); break;
    case NID_aes_256_gcm: builtin = EVP_aes_256_gcm(); break;
    case NID_chacha20_poly1305: builtin = EVP_chacha20_poly1305(); break;
    default: return NULL;
    }
    return builtin == NULL ? NULL : EVP_CIPHER_meth_dup(builtin);
}
static inline void viaduct_aead_method_free(EVP_CIPHER *cipher) { EVP_CIPHER_meth_free(cipher); }
#pragma clang diagnostic pop
#else
static inline EVP_CIPHER *viaduct_aead_method(int nid) { (void)nid; return NULL; }
static inline void viaduct_aead_method_free(EVP_CIPHER *cipher) { (void)cipher; }
#endif
