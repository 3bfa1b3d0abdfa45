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
#include "store/store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAMES              100
#define ORDER_TIMEOUT_S        600 /* dns-01 may wait minutes for its record */
#define BACKOFF_FIRST_S        30
#define BACKOFF_MAX_S          (6 * 3600)
#define DNS_HOOK_TIMEOUT_S     120
#define DNS_VISIBLE_TIMEOUT_S  300
#define ARI_MIN_INTERVAL_S     60
#define ARI_DEFAULT_INTERVAL_S (6 * 3600)
#define ARI_MAX_INTERVAL_S     86400
#define PEER_POLL_S            2 /* while another instance orders */

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
    /* PostgreSQL: the shared state (a connection of this thread's own) and
     * its row names; NULL on SQLite, where the files are the state. */
    store *db;
    char *row_account, *row_chain, *row_key;
    time_t peer_until; /* another instance holds the order lock: look again then */
    /* under lock: what /metrics and the log report */
    int have_cert;
    acme_cert_info cert;
    unsigned long long successes, failures;
    int failures_in_row;
    time_t retry_at;
    /* ACME Renewal Information (RFC 9773), for the certificate in service */
    time_t ari_ask_at;         /* when to ask the CA (again); 0: the CA offers none */
    time_t ari_start, ari_end; /* the window last suggested, 0 when none */
    time_t ari_renew_at;       /* the moment picked in it, 0: two thirds of the lifetime */
    int ari_fallback_logged;   /* an unreadable answer is logged once, until one is read */
    int ari_failures;          /* unreadable answers in a row: the next question waits longer */
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
        /* A new certificate has a window of its own: ask at once. */
        c->ari_ask_at = time(NULL);
        c->ari_start = c->ari_end = c->ari_renew_at = 0;
        c->ari_failures = 0;
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

/* When to order next: at once without a certificate; at the moment picked
 * in the CA's renewal window, or else when a third of the lifetime is left;
 * after a failure, not before the backoff ends. */
static time_t next_attempt(certificates *c)
{
    time_t at = 0;
    if (c->have_cert)
        at = c->ari_renew_at ? c->ari_renew_at : c->cert.not_after - (c->cert.not_after - c->cert.not_before) / 3;
    if (c->failures_in_row && c->retry_at > at)
        at = c->retry_at;
    if (c->peer_until > at)
        at = c->peer_until;
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

/* How long to wait before asking for renewal information again: what the
 * CA said (Retry-After), or 6 hours, kept between a minute (less for a
 * certificate that lives under ten minutes) and a day, RFC 9773 section
 * 4.3.2's suggestion. */
static long ari_interval(const acme_cert_info *cert, int retry_after)
{
    long floor = (long)(cert->not_after - cert->not_before) / 10;
    if (floor > ARI_MIN_INTERVAL_S)
        floor = ARI_MIN_INTERVAL_S;
    if (floor < 1)
        floor = 1;
    long s = retry_after > 0 ? retry_after : ARI_DEFAULT_INTERVAL_S;
    return s < floor ? floor : s > ARI_MAX_INTERVAL_S ? ARI_MAX_INTERVAL_S : s;
}

static void format_time(time_t t, char *out, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Asks the CA when to renew the certificate in service (called without
 * the lock) and schedules the renewal and the next question. */
static void ask_renewal_info(certificates *c)
{
    pthread_mutex_lock(&c->lock);
    acme_cert_info cert = c->cert;
    pthread_mutex_unlock(&c->lock);
    acme_renewal ri;
    char err[1024] = "";
    int rc = cert.cert_id[0] ? acme_renewal_info(&c->settings, cert.cert_id, &ri, err, sizeof err) : -1;
    if (!cert.cert_id[0])
        snprintf(err, sizeof err, "the certificate has no authority key identifier to name it by");
    time_t now = time(NULL);
    pthread_mutex_lock(&c->lock);
    if (strcmp(cert.serial, c->cert.serial) != 0) {
        /* replaced meanwhile: its own question is already scheduled */
    } else if (rc == 1) {
        c->ari_ask_at = 0;
    } else if (rc == 0) {
        c->ari_failures = 0;
        c->ari_fallback_logged = 0;
        c->ari_ask_at = now + ari_interval(&cert, ri.retry_after);
        /* A new moment only when the window moved: picking again at every
         * question would drift towards the window's start. */
        if (ri.start != c->ari_start || ri.end != c->ari_end) {
            c->ari_start = ri.start;
            c->ari_end = ri.end;
            c->ari_renew_at = acme_renewal_pick(ri.start, ri.end, cert.not_before, cert.not_after,
                                                randombytes_uniform(1000000) / 1e6);
            if (c->ari_renew_at <= 0)
                c->ari_renew_at = 1; /* 0 means "no window" */
            char start[32], end[32], at[32];
            format_time(ri.start, start, sizeof start);
            format_time(ri.end, end, sizeof end);
            format_time(c->ari_renew_at, at, sizeof at);
            log_info("acme: the CA suggests renewing %s (serial %s) between %s and %s: renewing %s%s%s%s", c->names[0],
                     cert.serial, start, end, c->ari_renew_at <= now ? "now" : "at ", c->ari_renew_at <= now ? "" : at,
                     ri.explanation[0] ? "; the CA explains: " : "", ri.explanation);
        }
        pthread_cond_signal(&c->wake);
    } else {
        c->ari_failures++;
        long wait = ari_interval(&cert, 1);
        for (int i = 1; i < c->ari_failures && wait < ARI_MAX_INTERVAL_S; i++)
            wait *= 2;
        c->ari_ask_at = now + (wait < ARI_MAX_INTERVAL_S ? wait : ARI_MAX_INTERVAL_S);
        c->ari_start = c->ari_end = c->ari_renew_at = 0;
        if (!c->ari_fallback_logged)
            log_warn("acme: no renewal information from the CA, renewing %s at two thirds of its lifetime "
                     "instead (asking again later): %s",
                     c->names[0], err);
        c->ari_fallback_logged = 1;
    }
    pthread_mutex_unlock(&c->lock);
}

/* Why a renewal is due now, for the log. */
static const char *renewal_reason(certificates *c)
{
    if (c->failures_in_row)
        return "retrying after a failure";
    if (!c->ari_renew_at)
        return "a third of its lifetime is left";
    return c->ari_renew_at >= acme_renewal_deadline(c->cert.not_before, c->cert.not_after)
               ? "close to its expiry, later than the CA's window allows"
               : "inside the CA's renewal window";
}

/* ---- PostgreSQL: one certificate, one orderer, for every instance ---- */

/* Copies the shared rows into this instance's state directory, whose files
 * acme_obtain and the TLS listener read. *chain = 1 when there is one. */
static int db_fetch(certificates *c, int *chain, char *err, size_t errlen)
{
    const char *rows[] = {c->row_account, c->row_key, c->row_chain};
    const char *files[] = {c->files.account_key, c->files.key, c->files.chain};
    *chain = 0;
    for (int i = 0; i < 3; i++) {
        char *pem;
        int found;
        if (store_acme_get(c->db, rows[i], &pem, &found, err, errlen) != 0)
            return -1;
        if (!found)
            continue;
        int rc = fs_write_atomic(files[i], pem, strlen(pem), i == 2 ? 0644 : 0600, err, errlen);
        sodium_memzero(pem, strlen(pem));
        free(pem);
        if (rc != 0)
            return -1;
        *chain = i == 2;
    }
    return 0;
}

/* Stores what an order brought (and the account key) for the others. */
static int db_publish(certificates *c, const acme_result *res, char *err, size_t errlen)
{
    unsigned char *account;
    size_t len, size;
    if (fs_read_file(c->files.account_key, 1u << 20, &account, &len, &size, err, errlen) != 0)
        return -1;
    const char *rows[] = {c->row_account, c->row_key, c->row_chain};
    const char *pems[] = {(const char *)account, res->key_pem, res->chain_pem};
    int rc = store_acme_put(c->db, rows, pems, 3, err, errlen);
    sodium_memzero(account, len);
    free(account);
    return rc;
}

static void db_unlock(certificates *c)
{
    char err[512];
    if (store_acme_lock(c->db, 0, NULL, err, sizeof err) != 0)
        log_warn("acme: %s", err);
}

/* Before an order: takes the order lock, then the certificate another
 * instance may have stored meanwhile. 1: order (the lock is held); 0:
 * nothing to order now (another instance is ordering: look again in
 * PEER_POLL_S; or its new certificate is now in service); -1: err. */
static int db_turn(certificates *c, char *err, size_t errlen)
{
    int got, chain;
    if (store_acme_lock(c->db, 1, &got, err, errlen) != 0)
        return -1;
    pthread_mutex_lock(&c->lock);
    int first_wait = c->peer_until == 0;
    c->peer_until = got ? 0 : time(NULL) + PEER_POLL_S;
    char before[sizeof c->cert.serial];
    snprintf(before, sizeof before, "%s", c->have_cert ? c->cert.serial : "");
    pthread_mutex_unlock(&c->lock);
    if (!got) {
        if (first_wait)
            log_info("acme: another instance is ordering the certificate for %s: waiting for it", c->names[0]);
        return 0;
    }
    if (db_fetch(c, &chain, err, errlen) != 0) {
        db_unlock(c);
        return -1;
    }
    char why[1024];
    if (chain && load_stored(c, why, sizeof why) == 0) {
        pthread_mutex_lock(&c->lock);
        int adopted = strcmp(c->cert.serial, before) != 0 && next_attempt(c) > time(NULL);
        acme_cert_info cert = c->cert;
        pthread_mutex_unlock(&c->lock);
        if (adopted) {
            db_unlock(c);
            log_info("acme: serving the certificate for %s that another instance obtained (serial %s, valid until "
                     "%lld)",
                     c->names[0], cert.serial, (long long)cert.not_after);
            return 0;
        }
    }
    return 1;
}

static void *run(void *arg)
{
    certificates *c = arg;
    acme_responder responder = {present, cleanup, c};
    pthread_mutex_lock(&c->lock);
    while (!atomic_load(&c->stopping)) {
        time_t now = time(NULL);
        if (c->have_cert && c->ari_ask_at && c->ari_ask_at <= now) {
            pthread_mutex_unlock(&c->lock);
            ask_renewal_info(c);
            pthread_mutex_lock(&c->lock);
            continue;
        }
        time_t at = next_attempt(c);
        time_t wake = c->have_cert && c->ari_ask_at && c->ari_ask_at < at ? c->ari_ask_at : at;
        if (wake > now) {
            struct timespec until = {wake, 0};
            pthread_cond_timedwait(&c->wake, &c->lock, &until);
            continue;
        }
        int renewing = c->have_cert;
        acme_settings settings = c->settings;
        char replaces[sizeof c->cert.cert_id];
        snprintf(replaces, sizeof replaces, "%s", renewing ? c->cert.cert_id : "");
        settings.replaces = replaces;
        const char *why = renewing ? renewal_reason(c) : "none yet";
        pthread_mutex_unlock(&c->lock);

        acme_result res = {0};
        char err[1024];
        int turn = c->db ? db_turn(c, err, sizeof err) : 1;
        if (turn == 0) {
            pthread_mutex_lock(&c->lock);
            continue;
        }
        if (turn == 1 && c->db) { /* the certificate may be the one just fetched */
            pthread_mutex_lock(&c->lock);
            snprintf(replaces, sizeof replaces, "%s", c->have_cert ? c->cert.cert_id : "");
            pthread_mutex_unlock(&c->lock);
        }
        if (turn == 1)
            log_info("acme: %s a certificate for %s from %s (%s)", renewing ? "renewing" : "obtaining", c->names[0],
                     c->settings.directory, why);
        if (turn < 0 || acme_obtain(&settings, &responder, &res, err, sizeof err) != 0 ||
            store_and_load(c, &res, err, sizeof err) != 0) {
            note_failure(c, err);
        } else {
            if (c->db && db_publish(c, &res, err, sizeof err) != 0)
                log_error("acme: the new certificate is in service here but not stored for the other instances: %s",
                          err);
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
        if (turn == 1 && c->db)
            db_unlock(c);
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

/* PostgreSQL: a connection for this thread and the rows' names; the state
 * directory starts from what the database holds. */
static int open_shared(certificates *c, const config *cfg, char *err, size_t errlen)
{
    if (store_open(cfg->database_url, &c->db, err, errlen) != 0)
        return -1;
    /* One account per CA; one certificate per list of names. */
    buf names = BUF_INIT, b = BUF_INIT;
    for (size_t i = 0; i < c->nnames; i++)
        buf_printf(&names, "%s%s", i ? "," : "", c->names[i]);
    buf_printf(&b, "account %s", cfg->acme_directory);
    c->row_account = buf_steal(&b, NULL);
    buf_printf(&b, "chain %s", names.data);
    c->row_chain = buf_steal(&b, NULL);
    buf_printf(&b, "key %s", names.data);
    c->row_key = buf_steal(&b, NULL);
    buf_free(&names);
    int chain;
    char why[1024];
    if (db_fetch(c, &chain, why, sizeof why) != 0)
        log_warn("acme: cannot read the shared certificate from the database yet: %s", why);
    return 0;
}

static void free_shared(certificates *c)
{
    if (c->db)
        store_close(c->db);
    free(c->row_account);
    free(c->row_chain);
    free(c->row_key);
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
    if (!config_sqlite_path(cfg) && open_shared(c, cfg, err, errlen) != 0)
        goto fail;
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
    free_shared(c);
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
    free_shared(c);
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
