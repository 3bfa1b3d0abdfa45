/*
 * alpn_challenge.c — answers ACME tls-alpn-01 challenges (RFC 8737) on the
 * TLS listener itself, so that only port 443 needs to be open.
 *
 * The CA connects with SNI = the name and ALPN = "acme-tls/1" only, and
 * expects a self-signed certificate for that one name carrying the
 * SHA-256 of the key authorization in a critical acmeIdentifier extension.
 * The certificate manager publishes the name and key authorization; this
 * file makes the certificate, and the TLS context's client-hello callback
 * (tls.c) puts it on the handshake when acme-tls/1 is offered. Ordinary
 * clients never offer acme-tls/1 and never see it.
 */
#include "http/internal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_ALPN_CHALLENGES 32
#define ACME_IDENTIFIER_OID "1.3.6.1.5.5.7.1.31"

typedef struct alpn_challenge {
    char name[256];
    X509 *cert;
    EVP_PKEY *key;
} alpn_challenge;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static alpn_challenge table[MAX_ALPN_CHALLENGES];

static X509 *challenge_cert(const char *name, const char *key_auth, EVP_PKEY *key)
{
    X509 *x = X509_new();
    unsigned char digest[SHA256_DIGEST_LENGTH], serial[16];
    SHA256((const unsigned char *)key_auth, strlen(key_auth), digest);
    /* The extension's value is the DER of an OCTET STRING holding the digest. */
    unsigned char der[2 + SHA256_DIGEST_LENGTH] = {0x04, SHA256_DIGEST_LENGTH};
    memcpy(der + 2, digest, sizeof digest);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    ASN1_OBJECT *oid = OBJ_txt2obj(ACME_IDENTIFIER_OID, 1);
    X509_EXTENSION *ext = NULL;
    GENERAL_NAMES *sans = GENERAL_NAMES_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    BIGNUM *bn = NULL;
    int ok = x && value && oid && sans && gn && ia5 && RAND_bytes(serial, sizeof serial) == 1 &&
             ASN1_OCTET_STRING_set(value, der, sizeof der) == 1 &&
             (ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, value)) != NULL &&
             ASN1_STRING_set(ia5, name, (int)strlen(name)) == 1;
    if (ok) {
        GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
        ia5 = NULL;
        sk_GENERAL_NAME_push(sans, gn);
        gn = NULL;
        bn = BN_bin2bn(serial, sizeof serial, NULL);
        ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) && X509_set_version(x, 2) == 1 &&
             X509_gmtime_adj(X509_getm_notBefore(x), -86400) && X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400) &&
             X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, (const unsigned char *)name, -1,
                                        -1, 0) == 1 &&
             X509_set_issuer_name(x, X509_get_subject_name(x)) == 1 && X509_set_pubkey(x, key) == 1 &&
             X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT) == 1 &&
             X509_add_ext(x, ext, -1) == 1 && X509_sign(x, key, EVP_sha256()) > 0;
    }
    BN_free(bn);
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(sans);
    X509_EXTENSION_free(ext);
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING_free(value);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int http_acme_alpn_set(const char *name, const char *key_auth)
{
    if (!*name || strlen(name) >= sizeof table[0].name)
        return -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key ? challenge_cert(name, key_auth, key) : NULL;
    if (!cert) {
        EVP_PKEY_free(key);
        return -1;
    }
    int rc = -1;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_ALPN_CHALLENGES && rc != 0; i++)
        if (!table[i].name[0] || strcasecmp(table[i].name, name) == 0) {
            X509_free(table[i].cert);
            EVP_PKEY_free(table[i].key);
            snprintf(table[i].name, sizeof table[i].name, "%s", name);
            table[i].cert = cert;
            table[i].key = key;
            rc = 0;
        }
    pthread_mutex_unlock(&lock);
    if (rc != 0) {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    return rc;
}

void http_acme_alpn_remove(const char *name)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_ALPN_CHALLENGES; i++)
        if (table[i].name[0] && strcasecmp(table[i].name, name) == 0) {
            X509_free(table[i].cert);
            EVP_PKEY_free(table[i].key);
            memset(&table[i], 0, sizeof table[i]);
        }
    pthread_mutex_unlock(&lock);
}

/* The two readers below take bytes any client on the Internet sends
 * (tests/fuzz/fuzz_client_hello.c). */
int http_sni_host_name(const unsigned char *p, size_t len, char *name, size_t namelen)
{
    if (len < 5)
        return -1;
    size_t list = (size_t)p[0] << 8 | p[1];
    size_t n = (size_t)p[3] << 8 | p[4];
    if (list + 2 != len || p[2] != TLSEXT_NAMETYPE_host_name || n == 0 || n + 5 > len || n >= namelen)
        return -1;
    memcpy(name, p + 5, n);
    name[n] = '\0';
    return memchr(name, '\0', n) ? -1 : 0;
}

static const unsigned char acme_tls_1[] = "\x0a"
                                          "acme-tls/1";

int http_alpn_offers_acme(const unsigned char *p, size_t len)
{
    if (len < 2)
        return 0;
    size_t list = (size_t)p[0] << 8 | p[1];
    if (list + 2 != len)
        return 0;
    for (size_t i = 2; i < len;) {
        size_t n = p[i];
        if (i + 1 + n > len)
            return 0;
        if (n == sizeof acme_tls_1 - 2 && memcmp(p + i, acme_tls_1, n + 1) == 0)
            return 1;
        i += 1 + n;
    }
    return 0;
}

int http_acme_alpn_client_hello(SSL *ssl, int *alert, void *arg)
{
    (void)arg;
    const unsigned char *p;
    size_t len;
    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &p, &len) ||
        !http_alpn_offers_acme(p, len))
        return SSL_CLIENT_HELLO_SUCCESS;
    char name[256];
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) &&
        http_sni_host_name(p, len, name, sizeof name) == 0) {
        pthread_mutex_lock(&lock);
        for (int i = 0; i < MAX_ALPN_CHALLENGES; i++)
            if (table[i].name[0] && strcasecmp(table[i].name, name) == 0) {
                X509_up_ref(cert = table[i].cert);
                EVP_PKEY_up_ref(key = table[i].key);
            }
        pthread_mutex_unlock(&lock);
    }
    int ok = cert && SSL_use_certificate(ssl, cert) == 1 && SSL_use_PrivateKey(ssl, key) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

int http_acme_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                          unsigned int inlen, void *arg)
{
    (void)ssl, (void)arg;
    unsigned char *chosen;
    if (SSL_select_next_proto(&chosen, outlen, acme_tls_1, sizeof acme_tls_1 - 1, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED) {
        *out = chosen;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK; /* plain HTTP/1.1 as before: no ALPN answer */
}
