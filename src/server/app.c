/*
 * app.c — start-up, the worker pools, and what the handlers get from the
 * server (see app.h).
 */
#include "server/app.h"

#include "server/certificates.h"
#include "server/listener.h"
#include "server/pool.h"
#include "server/snapshots.h"
#include "server/status.h"

#include "api/api.h"
#include "api/pages.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/password.h"
#include "core/xalloc.h"
#include "ops/backup.h"
#include "ops/init_lock.h"
#include "ops/seed.h"
#include "domain/user.h"

#include <sodium.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Backup gauges for /metrics are read from the files at least this often. */
#define BACKUP_GAUGES_EVERY_S 15

struct app {
    api api;              /* what the handlers see (api.h) */
    status_source status; /* what /readyz and /metrics report (status.h) */
    const config *cfg;
    http_router *router;
    snapshots *snapshots;
    listener *listener; /* NULL on SQLite */
    pool *db, *hash;
    certificates *certs; /* NULL without ACME */
};

static app *app_of(api *handlers) { return (app *)((char *)handlers - offsetof(app, api)); }

/* api.submit: the lane's pool. */
static int submit(api *handlers, api_lane lane, api_work_fn fn, void *arg, unsigned delay_ms)
{
    app *a = app_of(handlers);
    return pool_submit(lane == API_LANE_HASH ? a->hash : a->db, fn, arg, delay_ms);
}

/* api.show: the snapshot publisher tells when the version is visible. */
static void show(api *handlers, int64_t version, api_shown_fn done, void *arg)
{
    snapshots_show(app_of(handlers)->snapshots, version, done, arg);
}

/* The secret keys the session token hashes. Production refuses to start
 * without a strong one; elsewhere one is generated once into the state
 * directory (mode 0600) so development needs no setup. */
static int load_secret(app *a, char *err, size_t errlen)
{
    const config *cfg = a->cfg;
    char why[256], generated[65];
    const char *secret = cfg->secret_key;
    if (config_is_production(cfg)) {
        if (config_secret_strength(secret, why, sizeof why) != 0) {
            snprintf(err, errlen, "refusing to start in production: %s", why);
            return -1;
        }
    } else if (!secret || !*secret) {
        char path[4096];
        snprintf(path, sizeof path, "%s/secret_key", cfg->state_dir);
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(generated, sizeof generated, f))
                generated[0] = '\0';
            fclose(f);
            generated[strcspn(generated, "\r\n")] = '\0';
        }
        if (!f || strlen(generated) < 32) {
            unsigned char raw[32];
            randombytes_buf(raw, sizeof raw);
            sodium_bin2hex(generated, sizeof generated, raw, sizeof raw);
            /* Atomic: a crash while writing must not leave half a key that a
             * restart would take for a short one and replace, ending every session. */
            if (fs_write_atomic(path, generated, strlen(generated), 0600, err, errlen) != 0)
                return -1;
            log_info("generated a secret key in %s (set MUSICGRAPH_SECRET_KEY to choose one)", path);
        }
        secret = generated;
    }
    crypto_generichash(a->api.session_key, sizeof a->api.session_key, (const unsigned char *)secret, strlen(secret),
                       NULL, 0);
    sodium_memzero(generated, sizeof generated);
    return 0;
}

/* No default password anywhere: when there is no admin, the first one is
 * created with MUSICGRAPH_ADMIN_PASSWORD or a random password shown once. */
static int ensure_admin(store *st, const config *cfg, char *err, size_t errlen)
{
    int64_t admins;
    if (store_admin_count(st, &admins, err, errlen) != 0)
        return -1;
    if (admins > 0)
        return 0;
    char generated[21] = "";
    const char *password = cfg->admin_password;
    if (password && *password) {
        domain_errors errs = {0};
        user_check_password(password, &errs);
        if (errs.count) {
            snprintf(err, errlen, "MUSICGRAPH_ADMIN_PASSWORD %s", errs.items[0].message);
            domain_errors_free(&errs);
            return -1;
        }
    } else {
        password_generate(generated, sizeof generated);
        password = generated;
    }
    store_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "admin");
    snprintf(u.email, sizeof u.email, "admin@localhost");
    u.is_admin = 1;
    if (password_hash(password, u.password_hash, sizeof u.password_hash) != 0) {
        snprintf(err, errlen, "cannot hash the admin password (out of memory?)");
        return -1;
    }
    int rc = store_user_create(st, &u, NULL, NULL, err, errlen);
    if (rc == MG_ERR_CONFLICT) {
        snprintf(err, errlen,
                 "there is no active admin and the name 'admin' is taken: "
                 "run 'musicgraph user promote NAME' for an existing user");
        return -1;
    }
    if (rc != 0)
        return -1;
    log_info("created the first admin account 'admin'");
    if (generated[0]) {
        /* Printed once on the console, never through the logger. */
        printf("\n  musicgraph: first start, an admin account was created.\n"
               "    username: admin\n    password: %s\n"
               "  It is shown only now; change it with 'musicgraph user passwd admin'.\n\n",
               generated);
        fflush(stdout);
    }
    return 0;
}

static int cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* The worker pools, below the event loops' priority (a loop that has a
 * request to answer wins the core). Database work waits on I/O and locks
 * more than it computes, but an edit reads and checks the whole map: a few
 * threads, slightly lower (nice 5). argon2id hashes compute for ~100 ms
 * each: one thread fewer than the cores, lower still (nice 10), so that
 * logins can never take every core from the event loops. */
static int start_pools(app *a, char *err, size_t errlen)
{
    int n = cores();
    pool_config db = {"db", n < 2 ? 2 : n > 8 ? 8 : n, 5, 1024, api_store_close};
    pool_config hash = {"hash", n > 1 ? n - 1 : 1, 10, 64, NULL};
    a->db = pool_start(&db, err, errlen);
    a->hash = a->db ? pool_start(&hash, err, errlen) : NULL;
    return a->hash ? 0 : -1;
}

/* Migrations, the bundled dataset and the first admin: what one server
 * does at start, while no other one starting on the same database does. */
static int prepare_locked(store *st, void *ctx, char *err, size_t errlen)
{
    const config *cfg = ctx;
    int applied, empty, rc = -1;
    /* A database that is about to change shape is backed up first. */
    if (backup_before_migrate(st, cfg, err, errlen) != 0 || store_migrate(st, &applied, err, errlen) != 0)
        goto done;
    if (applied)
        log_info("applied %d migration(s)", applied);
    if (store_is_empty(st, &empty, err, errlen) != 0)
        goto done;
    if (empty && strcmp(cfg->seed, "0") != 0) {
        size_t genres, bands;
        if (seed_run(st, NULL, &genres, &bands, err, errlen) != 0)
            goto done;
        log_info("seeded the bundled dataset: %zu genres, %zu bands", genres, bands);
    }
    rc = ensure_admin(st, cfg, err, errlen);
done:
    return rc;
}

/* On a connection of the main thread that is closed before serving. */
static int prepare_database(app *a, char *err, size_t errlen)
{
    store *st;
    if (store_open(a->cfg->database_url, &st, err, errlen) != 0)
        return -1;
    int rc = store_startup(st, prepare_locked, (void *)a->cfg, err, errlen);
    store_close(st);
    return rc;
}

/* The generated secret, migrations, the dataset and the first admin: one
 * process at a time (init_lock.h). */
static int initialize(app *a, char *err, size_t errlen)
{
    int lock;
    if (init_lock(a->cfg, &lock, err, errlen) != 0)
        return -1;
    int rc = load_secret(a, err, errlen) == 0 && prepare_database(a, err, errlen) == 0 ? 0 : -1;
    init_unlock(lock);
    return rc;
}

int app_start(const config *cfg, app **out, char *err, size_t errlen)
{
    app *a = xcalloc(1, sizeof *a);
    a->cfg = cfg;
    a->api.cfg = cfg;
    a->api.submit = submit;
    a->api.show = show;
    a->status.api = &a->api;
    pthread_mutex_init(&a->status.lock, NULL);
    if (pages_init(err, errlen) != 0 || initialize(a, err, errlen) != 0 ||
        snapshots_start(cfg, &a->snapshots, err, errlen) != 0 ||
        listener_start(cfg, a->snapshots, &a->listener, err, errlen) != 0 || start_pools(a, err, errlen) != 0 ||
        certificates_start(cfg, &a->certs, err, errlen) != 0)
        goto fail;
    a->status.snapshots = a->snapshots;
    a->status.db = a->db;
    a->status.hash = a->hash;
    a->status.certs = a->certs;
    a->router = http_router_new();
    api_register_read(a->router, &a->api);
    api_register_pages(a->router, &a->api);
    api_register_session(a->router, &a->api);
    api_register_edit(a->router, &a->api);
    api_register_users(a->router, &a->api);
    status_register(a->router, &a->status);
    *out = a;
    return 0;
fail:
    app_stop(a);
    return -1;
}

http_router *app_router(app *a) { return a->router; }

void app_tick(void *arg)
{
    app *a = arg;
    /* Another process (restore, import) may have changed the data. */
    snapshots_poll(a->snapshots);
    status_refresh_backups(&a->status, BACKUP_GAUGES_EVERY_S);
}

void app_stop(app *a)
{
    if (!a)
        return;
    certificates_stop(a->certs);
    /* The event loops are done: what is still queued only finishes. */
    pool_stop(a->hash);
    pool_stop(a->db);
    listener_stop(a->listener);
    snapshots_stop(a->snapshots);
    http_router_free(a->router);
    pthread_mutex_destroy(&a->status.lock);
    free(a);
}
