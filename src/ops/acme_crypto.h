/*
 * acme_crypto.h — the cryptography an ACME client needs (RFC 8555, RFC 7515,
 * RFC 7638), on OpenSSL: the account key (ECDSA P-256) and its JWK and
 * thumbprint, ES256 signatures in the JWS form (r||s, not DER), base64url,
 * a fresh certificate key and its CSR, and reading a PEM certificate chain
 * back (which names it covers, when it expires).
 *
 * Internal to src/ops/acme*.c.
 */
#ifndef MG_ACME_CRYPTO_H
#define MG_ACME_CRYPTO_H

#include <stddef.h>
#include <time.h>

typedef struct evp_pkey_st EVP_PKEY;

/* base64url without padding (RFC 7515 section 2), a new string. */
char *acme_b64url(const void *data, size_t len);

/* Loads the account key from path, or creates one there (mode 0600,
 * written atomically) when the file does not exist. */
EVP_PKEY *acme_account_key(const char *path, int *created, char *err, size_t errlen);
/* The public key as a JWK ({"crv","kty","x","y"} in that order, the
 * RFC 7638 form) into jwk, and its base64url SHA-256 thumbprint. */
int acme_jwk(EVP_PKEY *key, char *jwk, size_t jwklen, char *thumbprint, size_t thumblen);
/* ES256 over data: the 64-byte r||s signature, base64url. A new string. */
char *acme_es256(EVP_PKEY *key, const char *data, size_t len, char *err, size_t errlen);

/* A new P-256 certificate key (PEM into *key_pem) and a CSR for the names,
 * DER, base64url into *csr_b64. */
int acme_make_csr(const char *const *names, size_t nnames, char **key_pem, char **csr_b64, char *err, size_t errlen);

/* Parses a PEM chain (leaf first) as a CA returns it: at least one
 * certificate, nothing but certificates, the leaf valid for every name
 * (when names is not NULL). Fills the leaf's validity period. */
typedef struct acme_cert_info {
    time_t not_before, not_after;
    char issuer[256]; /* the leaf's issuer, one line */
    char serial[128]; /* hex */
    int certificates; /* in the chain */
} acme_cert_info;
int acme_chain_check(const char *pem, size_t len, const char *const *names, size_t nnames, acme_cert_info *info,
                     char *err, size_t errlen);

#endif
