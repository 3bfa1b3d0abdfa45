/*
 * listener.c — the thread that waits for other instances' commits (see
 * listener.h).
 *
 * It waits in slices of LISTEN_SLICE_MS so that a stop is seen promptly. A
 * lost connection is retried with a growing pause (up to 5 s), logged once
 * when it goes and once when it is back; each reconnection also asks for a
 * poll, since what was committed meanwhile was not heard.
 */
#include "server/listener.h"

#include "core/log.h"
#include "core/xalloc.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define LISTEN_SLICE_MS 500
#define RETRY_MAX_MS    5000

struct listener {
    store *store;
    snapshots *snaps;
    pthread_t thread;
    atomic_int stop;
};

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *listen_main(void *arg)
{
    listener *l = arg;
    int retry_ms = 0;
    while (!atomic_load(&l->stop)) {
        int changed = 0;
        char err[512];
        if (store_wait_change(l->store, LISTEN_SLICE_MS, &changed, err, sizeof err) != 0) {
            if (retry_ms == 0)
                log_warn("change notifications stopped (polling continues): %s", err);
            retry_ms = retry_ms ? (retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : retry_ms * 2) : 100;
            for (int waited = 0; waited < retry_ms && !atomic_load(&l->stop); waited += 100)
                pause_ms(100);
            continue;
        }
        if (retry_ms) {
            log_info("change notifications are back");
            retry_ms = 0;
        }
        if (changed)
            snapshots_poll(l->snaps);
    }
    return NULL;
}

int listener_start(const config *cfg, snapshots *snaps, listener **out, char *err, size_t errlen)
{
    *out = NULL;
    store *st;
    if (store_open(cfg->database_url, &st, err, errlen) != 0)
        return -1;
    int changed;
    char why[256];
    /* The first wait issues LISTEN: a backend without notifications says so here. */
    int rc = store_wait_change(st, 0, &changed, why, sizeof why);
    if (rc == MG_ERR_NOT_FOUND) {
        store_close(st);
        return 0;
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s", why);
        store_close(st);
        return -1;
    }
    listener *l = xcalloc(1, sizeof *l);
    l->store = st;
    l->snaps = snaps;
    if (pthread_create(&l->thread, NULL, listen_main, l) != 0) {
        snprintf(err, errlen, "cannot start the change listener thread");
        store_close(st);
        free(l);
        return -1;
    }
    *out = l;
    return 0;
}

void listener_stop(listener *l)
{
    if (!l)
        return;
    atomic_store(&l->stop, 1);
    pthread_join(l->thread, NULL);
    store_close(l->store);
    free(l);
}
