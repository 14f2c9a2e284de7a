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
