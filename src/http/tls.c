/*
 * tls.c — native TLS: the certificate in use, and replacing it on SIGHUP
 * or when the ACME manager (server/certificates.c) obtained a new one.
 *
 * The main thread (or the certificate thread) builds an SSL_CTX from the
 * PEM files and publishes it with a generation number. Each worker checks the generation
 * once per loop turn and takes its own reference to the newest context, so
 * a renewed certificate is used for every new connection from the next
 * turn on, while connections already open keep the context they started
 * with (OpenSSL reference-counts it). A certificate that does not load is
 * refused and the previous one stays in use.
 */
#include "http/internal.h"

#include "core/log.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *current; /* the published context, one reference held here */
static atomic_uint generation;

static void openssl_error(const char *what, char *err, size_t errlen)
{
    unsigned long code = ERR_get_error();
    char reason[256] = "unknown error";
    if (code)
        ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    snprintf(err, errlen, "%s: %s", what, reason);
}

static SSL_CTX *new_context(char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        openssl_error("cannot create a TLS context", err, errlen);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* ACME tls-alpn-01 (alpn_challenge.c): only handshakes offering
     * acme-tls/1 are touched; others negotiate no ALPN, as before. */
    SSL_CTX_set_client_hello_cb(ctx, http_acme_alpn_client_hello, NULL);
    SSL_CTX_set_alpn_select_cb(ctx, http_acme_alpn_select, NULL);
    return ctx;
}

static void publish(SSL_CTX *ctx)
{
    pthread_mutex_lock(&tls_lock);
    SSL_CTX *old = current;
    current = ctx;
    atomic_fetch_add(&generation, 1);
    pthread_mutex_unlock(&tls_lock);
    if (old)
        SSL_CTX_free(old);
}

static SSL_CTX *load_context(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = new_context(err, errlen);
    if (!ctx)
        return NULL;
    char what[4200];
    snprintf(what, sizeof what, "cannot use the certificate %s", cert);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        openssl_error(what, err, errlen);
        SSL_CTX_free(ctx);
        return NULL;
    }
    snprintf(what, sizeof what, "cannot use the private key %s", key);
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        openssl_error(what, err, errlen);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int http_tls_load(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = load_context(cert, key, err, errlen);
    if (!ctx)
        return -1;
    publish(ctx);
    return 0;
}

int http_tls_without_certificate(char *err, size_t errlen)
{
    pthread_mutex_lock(&tls_lock);
    int have = current != NULL;
    pthread_mutex_unlock(&tls_lock);
    if (have)
        return 0;
    SSL_CTX *ctx = new_context(err, errlen);
    if (!ctx)
        return -1;
    publish(ctx);
    return 0;
}

/*
 * h2o keeps the SSL_CTX of an accepted connection without a reference of
 * its own and makes the connection's SSL from it only when the client's
 * first bytes arrive. A worker that dropped its reference at once when a
 * new certificate came could free the context under a connection accepted
 * a moment before (SSL_new on freed memory: seen as a crash when the first
 * ACME certificate replaced the certificate-less context while clients were
 * connecting). So a worker's old reference is kept RETIRE_S seconds,
 * longer than h2o's handshake timeout (10 s), before it is dropped.
 */
#define RETIRE_S    60
#define MAX_RETIRED 64

static struct {
    SSL_CTX *ctx;
    time_t at;
} retired[MAX_RETIRED];

static void retire(SSL_CTX *ctx)
{
    SSL_CTX *drop[MAX_RETIRED + 1];
    int ndrop = 0;
    time_t now = time(NULL);
    pthread_mutex_lock(&tls_lock);
    int slot = -1, oldest = 0;
    for (int i = 0; i < MAX_RETIRED; i++) {
        if (retired[i].ctx && now - retired[i].at >= RETIRE_S) {
            drop[ndrop++] = retired[i].ctx;
            retired[i].ctx = NULL;
        }
        if (!retired[i].ctx && slot < 0)
            slot = i;
        if (retired[i].ctx && retired[i].at < retired[oldest].at)
            oldest = i;
    }
    if (ctx) {
        if (slot < 0) { /* sixty-four swaps within a minute: the oldest goes early */
            drop[ndrop++] = retired[oldest].ctx;
            slot = oldest;
        }
        retired[slot].ctx = ctx;
        retired[slot].at = now;
    }
    pthread_mutex_unlock(&tls_lock);
    for (int i = 0; i < ndrop; i++)
        SSL_CTX_free(drop[i]);
}

void http_tls_refresh(SSL_CTX **mine, unsigned *seen)
{
    unsigned now = atomic_load_explicit(&generation, memory_order_acquire);
    if (now == *seen)
        return;
    pthread_mutex_lock(&tls_lock);
    SSL_CTX *ctx = current;
    if (ctx)
        SSL_CTX_up_ref(ctx);
    *seen = atomic_load(&generation);
    pthread_mutex_unlock(&tls_lock);
    retire(*mine);
    *mine = ctx;
}
