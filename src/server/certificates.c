/*
 * certificates.c — the ACME certificate manager (see certificates.h).
 *
 * Files in STATE_DIR/acme (directory 0700): account.key (the ACME account,
 * 0600), certificate.pem (the chain) and certificate.key (0600). Each is
 * written atomically, the key before the chain: a crash between the two
 * leaves a chain that does not match its key, which the start-up check
 * refuses, so a new certificate is ordered rather than a broken one served.
 */
#include "server/certificates.h"

#include "core/fs.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "http/http.h"
#include "ops/acme.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAMES             100
#define ORDER_TIMEOUT_S       600 /* dns-01 may wait minutes for its record */
#define BACKOFF_FIRST_S       30
#define BACKOFF_MAX_S         (6 * 3600)
#define DNS_HOOK_TIMEOUT_S    120
#define DNS_VISIBLE_TIMEOUT_S 300

struct certificates {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int stopping;
    acme_files files;
    char *names_buf;
    const char *names[MAX_NAMES];
    size_t nnames;
    acme_settings settings;
    const char *dns_hook, *dns_resolver; /* dns-01 */
    /* under lock: what /metrics and the log report */
    int have_cert;
    acme_cert_info cert;
    unsigned long long successes, failures;
    int failures_in_row;
    time_t retry_at;
};

/* ---- the challenge responder: the server's own listeners answer ---- */
static int present(void *ctx, const char *type, const char *name, const char *token, const char *key_auth, char *err,
                   size_t errlen)
{
    certificates *c = ctx;
    if (strcmp(type, "dns-01") == 0) {
        char txt_name[300], value[64];
        acme_dns_record(name, key_auth, txt_name, sizeof txt_name, value, sizeof value);
        if (acme_dns_hook(c->dns_hook, "add", name, txt_name, value, DNS_HOOK_TIMEOUT_S, err, errlen) != 0)
            return -1;
        log_info("acme: the DNS hook set %s, waiting until it can be seen", txt_name);
        return acme_dns_wait(c->dns_resolver, txt_name, value, DNS_VISIBLE_TIMEOUT_S, &c->stopping, err, errlen);
    }
    int alpn = strcmp(type, "tls-alpn-01") == 0;
    if ((alpn ? http_acme_alpn_set(name, key_auth) : http_acme_challenge_set(token, key_auth)) != 0) {
        snprintf(err, errlen, "cannot publish the %s challenge for %s", type, name);
        return -1;
    }
    return 0;
}

static void cleanup(void *ctx, const char *type, const char *name, const char *token, const char *key_auth)
{
    certificates *c = ctx;
    if (strcmp(type, "dns-01") == 0) {
        char txt_name[300], value[64], err[512];
        acme_dns_record(name, key_auth, txt_name, sizeof txt_name, value, sizeof value);
        if (acme_dns_hook(c->dns_hook, "remove", name, txt_name, value, DNS_HOOK_TIMEOUT_S, err, sizeof err) != 0)
            log_warn("acme: %s", err);
    } else if (strcmp(type, "tls-alpn-01") == 0)
        http_acme_alpn_remove(name);
    else
        http_acme_challenge_remove(token);
}

/* Reads the stored chain and loads it when it is usable for our names. */
static int load_stored(certificates *c, char *err, size_t errlen)
{
    unsigned char *pem;
    size_t len, size;
    if (fs_read_file(c->files.chain, 1u << 20, &pem, &len, &size, err, errlen) != 0)
        return -1;
    acme_cert_info info;
    int rc = acme_chain_check((const char *)pem, len, c->names, c->nnames, &info, err, errlen);
    free(pem);
    if (rc == 0 && info.not_after <= time(NULL)) {
        snprintf(err, errlen, "the stored certificate expired");
        rc = -1;
    }
    if (rc == 0)
        rc = http_tls_load(c->files.chain, c->files.key, err, errlen);
    if (rc == 0) {
        pthread_mutex_lock(&c->lock);
        c->have_cert = 1;
        c->cert = info;
        pthread_mutex_unlock(&c->lock);
    }
    return rc;
}

static int store_and_load(certificates *c, const acme_result *res, char *err, size_t errlen)
{
    if (fs_write_atomic(c->files.key, res->key_pem, strlen(res->key_pem), 0600, err, errlen) != 0 ||
        fs_write_atomic(c->files.chain, res->chain_pem, strlen(res->chain_pem), 0644, err, errlen) != 0)
        return -1;
    return load_stored(c, err, errlen);
}

/* When to order next: at once without a certificate; when a third of the
 * lifetime is left; after a failure, not before the backoff ends. */
static time_t next_attempt(certificates *c)
{
    time_t at = 0;
    if (c->have_cert)
        at = c->cert.not_after - (c->cert.not_after - c->cert.not_before) / 3;
    if (c->failures_in_row && c->retry_at > at)
        at = c->retry_at;
    return at;
}

/* For doctor: what happened last, in the state directory. */
static void record(certificates *c, time_t when, int ok, const char *detail)
{
    char err[512];
    if (acme_record_attempt(&c->files, when, ok, detail, err, sizeof err) != 0)
        log_warn("acme: %s", err);
}

static void note_failure(certificates *c, const char *why)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&c->lock);
    c->failures++;
    c->failures_in_row++;
    long backoff = BACKOFF_FIRST_S;
    for (int i = 1; i < c->failures_in_row && backoff < BACKOFF_MAX_S; i++)
        backoff *= 2;
    if (backoff > BACKOFF_MAX_S)
        backoff = BACKOFF_MAX_S;
    /* Up to a quarter more, so that many servers failing together (a CA
     * outage) do not come back together. */
    backoff += (long)randombytes_uniform((uint32_t)(backoff / 4 + 1));
    c->retry_at = now + backoff;
    time_t left = c->have_cert ? c->cert.not_after - now : 0;
    pthread_mutex_unlock(&c->lock);
    record(c, now, 0, why);
    if (left > 0)
        log_error("acme: could not obtain a certificate (retrying in %ld s; the current one is valid for %ld s "
                  "more): %s",
                  backoff, (long)left, why);
    else
        log_error("acme: could not obtain a certificate (retrying in %ld s): %s", backoff, why);
}

static void *run(void *arg)
{
    certificates *c = arg;
    acme_responder responder = {present, cleanup, c};
    pthread_mutex_lock(&c->lock);
    while (!atomic_load(&c->stopping)) {
        time_t at = next_attempt(c);
        if (at > time(NULL)) {
            struct timespec until = {at, 0};
            pthread_cond_timedwait(&c->wake, &c->lock, &until);
            continue;
        }
        int renewing = c->have_cert;
        pthread_mutex_unlock(&c->lock);

        log_info("acme: %s a certificate for %s from %s", renewing ? "renewing" : "obtaining", c->names[0],
                 c->settings.directory);
        acme_result res;
        char err[1024];
        if (acme_obtain(&c->settings, &responder, &res, err, sizeof err) != 0 ||
            store_and_load(c, &res, err, sizeof err) != 0) {
            note_failure(c, err);
        } else {
            pthread_mutex_lock(&c->lock);
            c->successes++;
            c->failures_in_row = 0;
            pthread_mutex_unlock(&c->lock);
            char detail[300];
            snprintf(detail, sizeof detail, "serial %s, valid until %lld", res.info.serial,
                     (long long)res.info.not_after);
            record(c, time(NULL), 1, detail);
            log_info("acme: certificate for %s loaded for new connections (serial %s, issuer %s, valid until %lld)",
                     c->names[0], res.info.serial, res.info.issuer, (long long)res.info.not_after);
        }
        acme_result_free(&res);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static int split_names(certificates *c, const char *list, char *err, size_t errlen)
{
    c->names_buf = xstrdup(list);
    c->nnames = acme_split_names(c->names_buf, c->names, MAX_NAMES);
    if (c->nnames == 0 || c->nnames > MAX_NAMES) {
        snprintf(err, errlen, "MUSICGRAPH_ACME_DOMAINS lists %s", c->nnames ? "more than 100 names" : "no name");
        return -1;
    }
    return 0;
}

int certificates_start(const config *cfg, certificates **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg->acme_domains || !*cfg->acme_domains)
        return 0;
    certificates *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL); /* CLOCK_REALTIME: certificate times are wall-clock times */
    acme_files_of(cfg->state_dir, &c->files);
    c->dns_hook = cfg->acme_dns_hook;
    c->dns_resolver = cfg->acme_dns_resolver;
    if (split_names(c, cfg->acme_domains, err, errlen) != 0 || fs_make_dirs(c->files.dir, err, errlen) != 0)
        goto fail;
    chmod(c->files.dir, 0700);
    c->settings = (acme_settings){
        .directory = cfg->acme_directory,
        .ca_roots = cfg->acme_ca_roots,
        .email = cfg->acme_email,
        .names = c->names,
        .nnames = c->nnames,
        .account_key = c->files.account_key,
        .challenge = cfg->acme_challenge,
        .timeout_s = ORDER_TIMEOUT_S,
        .cancel = &c->stopping,
    };
    char why[1024];
    if (load_stored(c, why, sizeof why) == 0)
        log_info("acme: serving the stored certificate for %s (serial %s, valid until %lld)", c->names[0],
                 c->cert.serial, (long long)c->cert.not_after);
    else if (access(c->files.chain, F_OK) == 0)
        log_warn("acme: not using the stored certificate, ordering a new one: %s", why);
    else
        log_info("acme: no certificate yet for %s: ordering one (HTTPS waits for it)", c->names[0]);
    /* tls-alpn-01 is answered during TLS handshakes: the listener needs a
     * context before there is a certificate to put in it. */
    if (!c->have_cert && strcmp(cfg->acme_challenge, "tls-alpn-01") == 0 &&
        http_tls_without_certificate(err, errlen) != 0)
        goto fail;
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        snprintf(err, errlen, "cannot start the certificate thread");
        goto fail;
    }
    *out = c;
    return 0;
fail:
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c->names_buf);
    free(c);
    return -1;
}

void certificates_stop(certificates *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->stopping, 1);
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c->names_buf);
    free(c);
}

void certificates_metrics(certificates *c, buf *out)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    if (c->have_cert)
        buf_printf(out,
                   "# HELP musicgraph_tls_certificate_expiry_timestamp_seconds When the certificate in service "
                   "expires.\n"
                   "# TYPE musicgraph_tls_certificate_expiry_timestamp_seconds gauge\n"
                   "musicgraph_tls_certificate_expiry_timestamp_seconds %lld\n",
                   (long long)c->cert.not_after);
    buf_printf(out,
               "# HELP musicgraph_acme_orders_total Certificate orders from the ACME CA, by outcome.\n"
               "# TYPE musicgraph_acme_orders_total counter\n"
               "musicgraph_acme_orders_total{result=\"success\"} %llu\n"
               "musicgraph_acme_orders_total{result=\"failure\"} %llu\n",
               c->successes, c->failures);
    pthread_mutex_unlock(&c->lock);
}
