/*
 * app.c — start-up, the snapshot's life cycle and the layout thread (see
 * app.h).
 */
#include "server/app.h"

#include "server/status.h"

#include "api/api.h"
#include "api/pages.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/password.h"
#include "graph/positions.h"
#include "graph/snapshot.h"
#include "ops/backup.h"
#include "ops/seed.h"
#include "domain/user.h"

#include <malloc.h>
#include <sodium.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void layout_request(app *a);

struct app {
    api api;              /* what the handlers see (api.h) */
    status_source status; /* what /readyz and /metrics report (status.h) */
    const config *cfg;
    store *store; /* the main thread's connection: migrations, rebuilds */
    http_router *router;
    pthread_mutex_t rebuild_lock; /* one rebuild at a time */
    int64_t last_failed_version;  /* do not retry a broken rebuild every tick */
    graph_layout *saved_layout;   /* positions saved by the last run, used at start */
    char layout_path[4096];
    pthread_t layout_thread;
    int layout_started;
    pthread_mutex_t layout_lock;
    pthread_cond_t layout_cond;
    int layout_pending, layout_stop;
    atomic_int layout_cancel; /* set by app_stop: a running layout gives up */
};

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Publishes a snapshot of d with the given layout (taken), logging what it did. */
static int publish(app *a, dataset *d, int64_t version, graph_layout *layout, const struct timespec *t0,
                   double load_seconds, char *err, size_t errlen)
{
    graph_snapshot *s = graph_build_laid_out(d, version, layout, err, errlen);
    if (!s) {
        dataset_free(d);
        return -1;
    }
    if (pages_attach(s) != 0) {
        graph_release(s);
        snprintf(err, errlen, "out of memory rendering pages");
        return -1;
    }
    const dataset *sd = graph_dataset(s);
    int laid_out = layout && graph_layout_covers(layout, sd);
    size_t genres = sd->ngenres, bands = sd->nbands, bytes = graph_bytes(s);
    graph_publish(s);
    /* Building allocated and freed megabytes of temporaries (and the old
     * snapshot may be gone): give the free memory back to the system. */
    malloc_trim(0);
    a->status.build_seconds = seconds_since(t0);
    log_info("snapshot %lld published: %zu genres, %zu bands, %zu KiB, built in %.0f ms (%.0f ms reading the "
             "database)%s",
             (long long)version, genres, bands, bytes / 1024, seconds_since(t0) * 1000, load_seconds * 1000,
             laid_out ? "" : "; laying it out in the background");
    if (!laid_out)
        layout_request(a);
    return 0;
}

/* Loads the map and publishes a snapshot of it; the caller holds rebuild_lock.
 * Nodes keep the positions they had (from the current snapshot, or at start
 * from the saved layout); new ones are placed by the layout thread. */
static int rebuild_locked(app *a, store *st, int64_t version, char *err, size_t errlen)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dataset d;
    if (store_load(st, &d, err, errlen) != 0)
        return -1;
    double load_seconds = seconds_since(&t0);
    graph_snapshot *current = graph_acquire();
    const graph_layout *known = current && graph_layout_of(current) ? graph_layout_of(current) : a->saved_layout;
    graph_layout *layout = known ? graph_layout_copy(known) : NULL;
    graph_release(current);
    return publish(a, &d, version, layout, &t0, load_seconds, err, errlen);
}

/* The layout thread: whenever the published snapshot has nodes without a
 * position, it computes positions (refining the known ones), saves them, and
 * republishes the same data with them — unless the data moved on meanwhile,
 * in which case the newer snapshot has already asked for another round. */
static void *layout_main(void *arg)
{
    app *a = arg;
    for (;;) {
        pthread_mutex_lock(&a->layout_lock);
        while (!a->layout_pending && !a->layout_stop)
            pthread_cond_wait(&a->layout_cond, &a->layout_lock);
        int stop = a->layout_stop;
        a->layout_pending = 0;
        pthread_mutex_unlock(&a->layout_lock);
        if (stop)
            return NULL;
        graph_snapshot *s = graph_acquire();
        if (!s)
            continue;
        const graph_layout *known = graph_layout_of(s);
        if (known && graph_layout_covers(known, graph_dataset(s))) {
            graph_release(s);
            continue;
        }
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        char err[512];
        graph_layout *layout = graph_layout_compute(s, known, &a->layout_cancel, err, sizeof err);
        if (!layout) {
            if (!atomic_load(&a->layout_cancel))
                log_error("layout failed: %s", err);
            graph_release(s);
            continue;
        }
        a->status.layout_seconds = seconds_since(&t0);
        malloc_trim(0); /* the layout's workspace is free again */
        log_info("layout of %zu genres and %zu bands computed in %.0f ms", graph_dataset(s)->ngenres,
                 graph_dataset(s)->nbands, a->status.layout_seconds * 1000);
        if (graph_layout_save(layout, a->layout_path, err, sizeof err) != 0)
            log_warn("the layout is not saved (it is recomputed after a restart): %s", err);
        pthread_mutex_lock(&a->rebuild_lock);
        graph_snapshot *now = graph_acquire();
        dataset d;
        if (now == s && dataset_copy(&d, graph_dataset(s)) == 0) {
            if (publish(a, &d, graph_version(s), layout, &t0, 0, err, sizeof err) != 0)
                log_error("publishing the laid-out snapshot failed: %s", err);
        } else {
            graph_layout_free(layout);
        }
        graph_release(now);
        pthread_mutex_unlock(&a->rebuild_lock);
        graph_release(s);
    }
}

static void layout_request(app *a)
{
    pthread_mutex_lock(&a->layout_lock);
    a->layout_pending = 1;
    pthread_cond_signal(&a->layout_cond);
    pthread_mutex_unlock(&a->layout_lock);
}

/* Rebuilds and publishes the snapshot if the database moved past it. */
static int refresh(app *a, store *st, char *err, size_t errlen)
{
    pthread_mutex_lock(&a->rebuild_lock);
    int64_t version;
    int rc = store_data_version(st, &version, err, errlen);
    if (rc == 0) {
        graph_snapshot *s = graph_acquire();
        int64_t current = s ? graph_version(s) : -1;
        graph_release(s);
        /* The version can be read before the load: a write in between only
         * makes the snapshot newer than its label, and the next refresh fixes it. */
        if (version != current && version != a->last_failed_version) {
            rc = rebuild_locked(a, st, version, err, errlen);
            if (rc != 0)
                a->last_failed_version = version;
        }
    }
    pthread_mutex_unlock(&a->rebuild_lock);
    return rc;
}

/* The handlers' refresh after a commit (api.h). */
static int refresh_after_write(api *handlers, store *st, char *err, size_t errlen)
{
    app *a = (app *)((char *)handlers - offsetof(app, api));
    return refresh(a, st, err, errlen);
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
static int ensure_admin(app *a, char *err, size_t errlen)
{
    int64_t admins;
    if (store_admin_count(a->store, &admins, err, errlen) != 0)
        return -1;
    if (admins > 0)
        return 0;
    char generated[21] = "";
    const char *password = a->cfg->admin_password;
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
    int rc = store_user_create(a->store, &u, err, errlen);
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

int app_start(const config *cfg, app **out, char *err, size_t errlen)
{
    app *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->cfg = cfg;
    a->api.cfg = cfg;
    a->api.refresh = refresh_after_write;
    a->status.api = &a->api;
    a->last_failed_version = -1;
    pthread_mutex_init(&a->rebuild_lock, NULL);
    pthread_mutex_init(&a->layout_lock, NULL);
    pthread_cond_init(&a->layout_cond, NULL);
    snprintf(a->layout_path, sizeof a->layout_path, "%s/layout.tsv", cfg->state_dir);
    a->saved_layout = graph_layout_load(a->layout_path);
    if (fs_make_dirs(cfg->state_dir, err, errlen) != 0 || load_secret(a, err, errlen) != 0 ||
        pages_init(err, errlen) != 0 || store_open(cfg->database_url, &a->store, err, errlen) != 0)
        goto fail;
    int applied;
    /* A database that is about to change shape is backed up first. */
    if (backup_before_migrate(a->store, cfg, err, errlen) != 0 || store_migrate(a->store, &applied, err, errlen) != 0)
        goto fail;
    if (applied)
        log_info("applied %d migration(s)", applied);
    int empty;
    if (store_is_empty(a->store, &empty, err, errlen) != 0)
        goto fail;
    if (empty && strcmp(cfg->seed, "0") != 0) {
        size_t genres, bands;
        if (seed_run(a->store, NULL, &genres, &bands, err, errlen) != 0)
            goto fail;
        log_info("seeded the bundled dataset: %zu genres, %zu bands", genres, bands);
    }
    if (ensure_admin(a, err, errlen) != 0 || refresh(a, a->store, err, errlen) != 0)
        goto fail;
    if (pthread_create(&a->layout_thread, NULL, layout_main, a) == 0)
        a->layout_started = 1;
    a->router = http_router_new();
    if (!a->router) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
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
    char err[512];
    if (refresh(a, a->store, err, sizeof err) != 0)
        log_error("refreshing the snapshot failed, still serving the previous one: %s", err);
}

void app_stop(app *a)
{
    if (!a)
        return;
    if (a->layout_started) {
        atomic_store(&a->layout_cancel, 1);
        pthread_mutex_lock(&a->layout_lock);
        a->layout_stop = 1;
        pthread_cond_signal(&a->layout_cond);
        pthread_mutex_unlock(&a->layout_lock);
        pthread_join(a->layout_thread, NULL);
    }
    graph_layout_free(a->saved_layout);
    http_router_free(a->router);
    store_close(a->store);
    graph_publish(NULL);
    free(a);
}
