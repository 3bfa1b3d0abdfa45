/*
 * app.c — application start-up and snapshot life cycle (see app.h).
 */
#include "api/app.h"

#include "core/log.h"
#include "graph/snapshot.h"
#include "ops/seed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct app {
    const config *cfg;
    store *store; /* the main thread's connection: migrations, rebuilds */
    http_router *router;
    int64_t last_failed_version; /* do not retry a broken rebuild every tick */
};

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int app_rebuild(app *a, char *err, size_t errlen)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t version;
    dataset d;
    if (store_data_version(a->store, &version, err, errlen) != 0 || store_load(a->store, &d, err, errlen) != 0)
        return -1;
    graph_snapshot *s = graph_build(&d, version, err, errlen);
    if (!s) {
        dataset_free(&d);
        return -1;
    }
    if (pages_attach(s) != 0) {
        graph_release(s);
        snprintf(err, errlen, "out of memory rendering pages");
        return -1;
    }
    size_t genres = graph_dataset(s)->ngenres, bands = graph_dataset(s)->nbands, bytes = graph_bytes(s);
    graph_publish(s);
    log_info("snapshot %lld published: %zu genres, %zu bands, %zu KiB, built in %.0f ms", (long long)version, genres,
             bands, bytes / 1024, seconds_since(&t0) * 1000);
    return 0;
}

static int ensure_dir(const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create state directory %s: %s", tmp, strerror(errno));
        return -1;
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
    a->last_failed_version = -1;
    if (ensure_dir(cfg->state_dir, err, errlen) != 0 || pages_init(err, errlen) != 0 ||
        store_open(cfg->database_url, &a->store, err, errlen) != 0)
        goto fail;
    int applied;
    if (store_migrate(a->store, &applied, err, errlen) != 0)
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
    if (app_rebuild(a, err, errlen) != 0)
        goto fail;
    a->router = http_router_new();
    if (!a->router) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    api_register_read(a->router, a);
    api_register_pages(a->router, a);
    *out = a;
    return 0;
fail:
    app_stop(a);
    return -1;
}

http_router *app_router(app *a)
{
    return a->router;
}

void app_tick(void *arg)
{
    app *a = arg;
    char err[512];
    int64_t version;
    if (store_data_version(a->store, &version, err, sizeof err) != 0) {
        log_warn("cannot read the data version: %s", err);
        return;
    }
    graph_snapshot *s = graph_acquire();
    int64_t current = s ? graph_version(s) : -1;
    graph_release(s);
    if (version == current || version == a->last_failed_version)
        return;
    if (app_rebuild(a, err, sizeof err) != 0) {
        log_error("rebuilding the snapshot for data version %lld failed, still serving %lld: %s", (long long)version,
                  (long long)current, err);
        a->last_failed_version = version;
    }
}

void app_stop(app *a)
{
    if (!a)
        return;
    http_router_free(a->router);
    store_close(a->store);
    graph_publish(NULL);
    free(a);
}
