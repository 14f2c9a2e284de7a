// Thin umbrella over OpenSSL 3 for Swift. No logic lives here: only includes, and
// static inline wrappers for the macros Swift cannot import (see shim_*.h).
#ifndef VIADUCT_COPENSSL_SHIM_H
#define VIADUCT_COPENSSL_SHIM_H
#include <openssl/opensslv.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>
#include <openssl/sha.h>
#include "shim_crypto.h"
#include "shim_x509.h"
#endif
