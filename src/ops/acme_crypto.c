/*
 * acme_crypto.c — keys, JWS signatures, CSRs and certificate chains for the
 * ACME client (see acme_crypto.h).
 *
 * Only ECDSA P-256 is used, for the account (ES256 is what every ACME CA
 * accepts) and for certificates (small handshakes, fast signatures).
 */
#include "ops/acme_crypto.h"

#include "core/fs.h"
#include "core/xalloc.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void openssl_error(const char *what, char *err, size_t errlen)
{
    unsigned long code = ERR_get_error();
    char reason[256] = "unknown error";
    if (code)
        ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    snprintf(err, errlen, "%s: %s", what, reason);
}

char *acme_b64url(const void *data, size_t len)
{
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = xmalloc(n);
    sodium_bin2base64(out, n, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

static EVP_PKEY *new_p256(void) { return EVP_EC_gen("P-256"); }

static char *pem_of_key(EVP_PKEY *key)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        out = xmalloc((size_t)n + 1);
        memcpy(out, p, (size_t)n);
        out[n] = '\0';
    }
    BIO_free(b);
    return out;
}

EVP_PKEY *acme_account_key(const char *path, int *created, char *err, size_t errlen)
{
    *created = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || EVP_PKEY_get_bits(key) != 256) {
            EVP_PKEY_free(key);
            ERR_clear_error();
            snprintf(err, errlen, "the ACME account key %s is not a P-256 private key in PEM", path);
            return NULL;
        }
        return key;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "cannot read the ACME account key %s: %s", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *key = new_p256();
    char *pem = key ? pem_of_key(key) : NULL;
    if (!pem) {
        openssl_error("cannot create an ACME account key", err, errlen);
        EVP_PKEY_free(key);
        return NULL;
    }
    /* The account key is the account: whoever reads it can revoke our
     * certificates, so only the owner may. */
    int rc = fs_write_atomic(path, pem, strlen(pem), 0600, err, errlen);
    OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    if (rc != 0) {
        EVP_PKEY_free(key);
        return NULL;
    }
    *created = 1;
    return key;
}

int acme_jwk(EVP_PKEY *key, char *jwk, size_t jwklen, char *thumbprint, size_t thumblen)
{
    BIGNUM *x = NULL, *y = NULL;
    unsigned char bx[32], by[32];
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 || BN_bn2binpad(x, bx, 32) != 32 ||
        BN_bn2binpad(y, by, 32) != 32) {
        BN_free(x);
        BN_free(y);
        ERR_clear_error();
        return -1;
    }
    BN_free(x);
    BN_free(y);
    char *ex = acme_b64url(bx, 32), *ey = acme_b64url(by, 32);
    /* RFC 7638: the required members, in lexicographic order, no spaces. */
    int n = snprintf(jwk, jwklen, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", ex, ey);
    free(ex);
    free(ey);
    if (n < 0 || (size_t)n >= jwklen)
        return -1;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)jwk, (size_t)n, digest);
    char *t = acme_b64url(digest, sizeof digest);
    int fits = strlen(t) < thumblen;
    if (fits)
        strcpy(thumbprint, t);
    free(t);
    return fits ? 0 : -1;
}

char *acme_es256(EVP_PKEY *key, const char *data, size_t len, char *err, size_t errlen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[128];
    size_t derlen = sizeof der;
    char *out = NULL;
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, der, &derlen, (const unsigned char *)data, len) != 1) {
        openssl_error("cannot sign the ACME request", err, errlen);
        EVP_MD_CTX_free(md);
        return NULL;
    }
    EVP_MD_CTX_free(md);
    /* JWS wants the two integers side by side, each padded to 32 bytes
     * (RFC 7518 section 3.4), where OpenSSL writes a DER sequence. */
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    unsigned char raw[64];
    if (sig && BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) == 32 &&
        BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) == 32)
        out = acme_b64url(raw, sizeof raw);
    else
        openssl_error("cannot encode the ACME signature", err, errlen);
    ECDSA_SIG_free(sig);
    return out;
}

int acme_make_csr(const char *const *names, size_t nnames, char **key_pem, char **csr_b64, char *err, size_t errlen)
{
    *key_pem = *csr_b64 = NULL;
    EVP_PKEY *key = new_p256();
    X509_REQ *req = X509_REQ_new();
    X509_NAME *subject = X509_NAME_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    GENERAL_NAMES *sans = GENERAL_NAMES_new();
    int rc = -1;
    if (!key || !req || !subject || !exts || !sans || nnames == 0)
        goto fail;
    for (size_t i = 0; i < nnames; i++) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
        if (!gn || !ia5 || ASN1_STRING_set(ia5, names[i], (int)strlen(names[i])) != 1) {
            GENERAL_NAME_free(gn);
            ASN1_IA5STRING_free(ia5);
            goto fail;
        }
        GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
        sk_GENERAL_NAME_push(sans, gn);
    }
    X509_EXTENSION *ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, sans);
    if (!ext || !sk_X509_EXTENSION_push(exts, ext)) {
        X509_EXTENSION_free(ext);
        goto fail;
    }
    if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)names[0], -1, -1, 0) != 1 ||
        X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_subject_name(req, subject) != 1 ||
        X509_REQ_set_pubkey(req, key) != 1 || X509_REQ_add_extensions(req, exts) != 1 ||
        X509_REQ_sign(req, key, EVP_sha256()) <= 0)
        goto fail;
    unsigned char *der = NULL;
    int derlen = i2d_X509_REQ(req, &der);
    if (derlen <= 0)
        goto fail;
    *csr_b64 = acme_b64url(der, (size_t)derlen);
    OPENSSL_free(der);
    *key_pem = pem_of_key(key);
    if (!*key_pem) {
        free(*csr_b64);
        *csr_b64 = NULL;
        goto fail;
    }
    rc = 0;
fail:
    if (rc != 0)
        openssl_error("cannot make the certificate request", err, errlen);
    GENERAL_NAMES_free(sans);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(subject);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return rc;
}

static time_t asn1_time(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return timegm(&tm);
}

/* The chain is text between PEM armour lines; anything else in it (a
 * private key, an HTML error page) means the CA sent something wrong. */
int acme_chain_check(const char *pem, size_t len, const char *const *names, size_t nnames, acme_cert_info *info,
                     char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    if (len == 0 || len > (1u << 20)) {
        snprintf(err, errlen, "the certificate chain is %s", len ? "larger than 1 MiB" : "empty");
        return -1;
    }
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *leaf = NULL;
    int rc = -1;
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long dlen = 0;
        if (PEM_read_bio(b, &name, &header, &data, &dlen) != 1) {
            ERR_clear_error();
            break;
        }
        int is_cert = strcmp(name, "CERTIFICATE") == 0;
        const unsigned char *p = data;
        X509 *x = is_cert ? d2i_X509(NULL, &p, dlen) : NULL;
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (!x) {
            ERR_clear_error();
            snprintf(err, errlen, "the certificate chain holds something that is not a certificate (block %d)",
                     info->certificates + 1);
            goto done;
        }
        if (!leaf)
            leaf = x;
        else
            X509_free(x);
        info->certificates++;
    }
    if (!leaf) {
        snprintf(err, errlen, "the certificate chain holds no PEM certificate");
        goto done;
    }
    for (size_t i = 0; i < nnames; i++)
        if (X509_check_host(leaf, names[i], 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) != 1) {
            snprintf(err, errlen, "the certificate is not valid for %s", names[i]);
            goto done;
        }
    info->not_before = asn1_time(X509_get0_notBefore(leaf));
    info->not_after = asn1_time(X509_get0_notAfter(leaf));
    if (!info->not_before || info->not_after <= info->not_before) {
        snprintf(err, errlen, "the certificate's validity period cannot be read");
        goto done;
    }
    X509_NAME_oneline(X509_get_issuer_name(leaf), info->issuer, sizeof info->issuer);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    snprintf(info->serial, sizeof info->serial, "%s", hex ? hex : "?");
    OPENSSL_free(hex);
    BN_free(bn);
    rc = 0;
done:
    X509_free(leaf);
    BIO_free(b);
    ERR_clear_error();
    return rc;
}
