// Inline wrappers for X.509, keys and signatures (sk_* macros etc.). Owned by the PKI work.
// Only macros and struct/union field access Swift cannot import live here: no policy, no logic
// beyond what the wrapped macro itself does.
#pragma once
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/ecdsa.h>

// --- STACK_OF(X509) -----------------------------------------------------------------------
static inline STACK_OF(X509) *viaduct_sk_X509_new_null(void) { return sk_X509_new_null(); }
static inline int viaduct_sk_X509_push(STACK_OF(X509) *sk, X509 *x) { return sk_X509_push(sk, x); }
static inline int viaduct_sk_X509_num(const STACK_OF(X509) *sk) { return sk_X509_num(sk); }
static inline X509 *viaduct_sk_X509_value(const STACK_OF(X509) *sk, int i) { return sk_X509_value(sk, i); }
/// Frees the stack and every certificate in it (each push transferred one reference).
static inline void viaduct_sk_X509_pop_free(STACK_OF(X509) *sk) { sk_X509_pop_free(sk, X509_free); }

// --- GENERAL_NAMES (subjectAltName) --------------------------------------------------------
static inline int viaduct_sk_GENERAL_NAME_num(const GENERAL_NAMES *sk) { return sk_GENERAL_NAME_num(sk); }
static inline const GENERAL_NAME *viaduct_sk_GENERAL_NAME_value(const GENERAL_NAMES *sk, int i) {
    return sk_GENERAL_NAME_value(sk, i);
}
static inline int viaduct_general_name_type(const GENERAL_NAME *g) { return g->type; }
/// The string of a dNSName / rfc822Name / URI / iPAddress entry (union member access); NULL otherwise.
static inline const ASN1_STRING *viaduct_general_name_string(const GENERAL_NAME *g) {
    switch (g->type) {
    case GEN_DNS: return g->d.dNSName;
    case GEN_EMAIL: return g->d.rfc822Name;
    case GEN_URI: return g->d.uniformResourceIdentifier;
    case GEN_IPADD: return g->d.iPAddress;
    default: return NULL;
    }
}
static inline const X509_NAME *viaduct_general_name_dirname(const GENERAL_NAME *g) {
    return g->type == GEN_DIRNAME ? g->d.directoryName : NULL;
}

// --- EXTENDED_KEY_USAGE (STACK_OF(ASN1_OBJECT)) --------------------------------------------
static inline int viaduct_sk_ASN1_OBJECT_num(const EXTENDED_KEY_USAGE *sk) { return sk_ASN1_OBJECT_num(sk); }
static inline const ASN1_OBJECT *viaduct_sk_ASN1_OBJECT_value(const EXTENDED_KEY_USAGE *sk, int i) {
    return sk_ASN1_OBJECT_value(sk, i);
}

// --- STACK_OF(X509_REVOKED) ---------------------------------------------------------------
static inline int viaduct_sk_X509_REVOKED_num(const STACK_OF(X509_REVOKED) *sk) { return sk_X509_REVOKED_num(sk); }
static inline const X509_REVOKED *viaduct_sk_X509_REVOKED_value(const STACK_OF(X509_REVOKED) *sk, int i) {
    return sk_X509_REVOKED_value(sk, i);
}

// --- Macro constants and BIO macros -------------------------------------------------------
static inline unsigned long viaduct_xn_flag_rfc2253(void) {
    // RFC 2253/4514 order (most specific first), but keep UTF-8 as UTF-8 instead of \XX escapes.
    return XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
}
static inline long viaduct_bio_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }
static inline void viaduct_openssl_free(void *p) { OPENSSL_free(p); }

// --- X509V3 extension construction ----------------------------------------------------------
/// Builds one extension from OpenSSL's config syntax (e.g. "critical,CA:TRUE") with a context that
/// names the issuer and subject certificate (or CRL), which keyid-style extensions (SKI/AKI) need.
static inline X509_EXTENSION *viaduct_ext_nconf(X509 *issuer, X509 *subject, X509_CRL *crl,
                                                int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, subject, NULL, crl, 0);
    return X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
}

/// PEM password callback that refuses: encrypted keys are an error, never an interactive prompt.
static inline int viaduct_no_password_cb(char *buf, int size, int rwflag, void *u) {
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;
}
static inline EVP_PKEY *viaduct_pem_read_private_key(BIO *bio) {
    return PEM_read_bio_PrivateKey(bio, NULL, viaduct_no_password_cb, NULL);
}
