/*
 * snapshots.c — building, publishing and laying out the snapshot; the
 * publisher thread that folds writes into rebuilds (see snapshots.h).
 */
#include "server/snapshots.h"

#include "api/pages.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "graph/positions.h"
#include "graph/snapshot.h"
#include "store/store.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Building a snapshot takes a core for a while (about a second for 20,000
 * bands); the event loops must win that core whenever they have requests.
 * The layout is background work of minutes at worst. */
#define PUBLISHER_NICE 10
#define LAYOUT_NICE    15
/* The brotli form waits until no snapshot was published for this long: in a
 * burst of edits each snapshot is replaced within a few hundred ms, and
 * compressing every one would only take the cores from the rebuilds (of
 * this instance and of the others on the same machine). */
#define BROTLI_QUIET_MS 300
/* Retries of a failed rebuild: 50 ms doubling up to 5 s; a write waiting to
 * be shown gives up after this many failed rebuilds since it came (about
 * 1.5 s when they start failing, longer after a long outage). */
#define RETRY_FIRST_MS     50
#define RETRY_MAX_MS       5000
#define WAITERS_GIVE_UP_AT 5

typedef struct waiter {
    int64_t version;
    int failed; /* rebuilds that failed since it came */
    snapshots_shown_fn done;
    void *arg;
    struct waiter *next;
} waiter;

struct snapshots {
    const config *cfg;
    store *store; /* the publisher's own connection */
    /* Publishing and the positions below (publisher, layout thread); the
     * builds themselves run outside it, so neither waits for the other's. */
    pthread_mutex_t publish_lock;
    graph_layout *saved_layout; /* positions saved by the last run, used at start */
    graph_layout *fresh_layout; /* the layout thread's last positions, until a build published them */
    unsigned fresh_seq;         /* counts the fresh layouts set */
    char layout_path[4096];
    _Atomic double build_seconds, layout_seconds;

    /* The publisher and what it is asked for, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t publisher;
    int publisher_started;
    int poll_asked, stop;
    int64_t shown;           /* data version of the published snapshot */
    waiter *waiters;         /* writes waiting for a newer version */
    graph_snapshot **unused; /* snapshots nobody holds any more, to free */
    size_t nunused, unused_cap;
    int failures;      /* rebuilds failed in a row */
    uint64_t retry_at; /* monotonic ns; 0: no retry pending */

    /* The last snapshot given its gzip form, whose pieces the next reuses
     * (graph_add_gzip); gzip_lock makes one compression at a time. */
    pthread_mutex_t gzip_lock;
    graph_snapshot *gzip_base;

    /* The layout thread (which also makes the brotli forms). */
    pthread_t layout_thread;
    int layout_started;
    pthread_mutex_t layout_lock;
    pthread_cond_t layout_cond;
    int layout_pending, brotli_pending, layout_stop;
    uint64_t brotli_due;      /* monotonic ns: when the brotli form may be made */
    atomic_int layout_cancel; /* set by snapshots_stop: a running layout gives up */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double seconds_since(uint64_t t0) { return (double)(now_ns() - t0) / 1e9; }

/* Lowers this thread's priority (Linux keeps a nice value per thread). */
static void lower_priority(const char *who, int nice)
{
    pid_t tid = gettid();
    if (setpriority(PRIO_PROCESS, (id_t)tid, getpriority(PRIO_PROCESS, (id_t)tid) + nice) != 0)
        log_warn("%s: cannot lower the thread's priority: %s", who, strerror(errno));
}

/* Asks the layout thread for a layout, or (brotli) for the brotli form of
 * the snapshot just published, once BROTLI_QUIET_MS have passed without
 * another. */
static void background_request(snapshots *s, int brotli)
{
    pthread_mutex_lock(&s->layout_lock);
    if (brotli) {
        s->brotli_pending = 1;
        s->brotli_due = now_ns() + BROTLI_QUIET_MS * 1000000ull;
    } else {
        s->layout_pending = 1;
    }
    pthread_cond_signal(&s->layout_cond);
    pthread_mutex_unlock(&s->layout_lock);
}

/* A snapshot of d (taken) with the given positions (taken), its pages
 * rendered; NULL with err on failure. No lock: building takes the longest. */
static graph_snapshot *make_snapshot(dataset *d, int64_t version, graph_layout *layout, char *err, size_t errlen)
{
    graph_snapshot *g = graph_build_laid_out(d, version, layout, err, errlen);
    if (!g) {
        dataset_free(d);
        return NULL;
    }
    if (pages_attach(g) != 0) {
        graph_release(g);
        snprintf(err, errlen, "out of memory rendering pages");
        return NULL;
    }
    return g;
}

/* Publishes g (the caller's reference taken), logging what it did, and asks
 * for a layout when some node has no computed position; the caller holds
 * publish_lock. */
static void publish(snapshots *s, graph_snapshot *g, uint64_t t0, double load_seconds)
{
    const dataset *sd = graph_dataset(g);
    int laid_out = graph_laid_out(g);
    size_t genres = sd->ngenres, bands = sd->nbands, bytes = graph_bytes(g);
    int64_t version = graph_version(g);
    graph_publish(g);
    s->build_seconds = seconds_since(t0);
    log_info("snapshot %lld published: %zu genres, %zu bands, %zu KiB, built in %.0f ms (%.0f ms reading the "
             "database)%s",
             (long long)version, genres, bands, bytes / 1024, seconds_since(t0) * 1000, load_seconds * 1000,
             laid_out ? "" : "; laying it out in the background");
    /* The graph document's brotli form is made by the layout thread, at its
     * lower priority: no write waits for it (the document is served in gzip
     * meanwhile), and on a busy machine it yields the cores to the rebuilds
     * of other instances. */
    background_request(s, 1);
    if (!laid_out)
        background_request(s, 0);
}

/* The graph document of the published snapshot in gzip: by the publisher
 * once the writes waiting for it are answered, by the layout thread after
 * its republish. Only what changed since the last one is compressed. */
static void add_gzip(snapshots *s)
{
    pthread_mutex_lock(&s->gzip_lock);
    graph_snapshot *g = graph_acquire();
    if (g && g != s->gzip_base) {
        uint64_t t0 = now_ns();
        size_t reused;
        if (graph_add_gzip(g, s->gzip_base, &reused) != 0) {
            log_warn("the graph document is served uncompressed: out of memory compressing it in gzip");
        } else {
            log_debug("snapshot %lld's graph document in gzip in %.1f ms (%zu unchanged pieces reused)",
                      (long long)graph_version(g), seconds_since(t0) * 1000, reused);
            graph_release(s->gzip_base);
            s->gzip_base = g;
            g = NULL;
        }
    }
    graph_release(g);
    pthread_mutex_unlock(&s->gzip_lock);
}

/* The graph document of g in gzip before g is published, so that no request
 * sees it without (the layout thread's republish, which nobody waits for;
 * add_gzip then finds it done). Failure is left to add_gzip to report. */
static void gzip_ahead(snapshots *s, graph_snapshot *g)
{
    pthread_mutex_lock(&s->gzip_lock);
    graph_add_gzip(g, s->gzip_base, NULL);
    pthread_mutex_unlock(&s->gzip_lock);
}

/* The graph document of the published snapshot in brotli (on the layout
 * thread, its only writer). */
static void add_brotli(void)
{
    graph_snapshot *g = graph_acquire();
    if (g && graph_add_brotli(g) != 0)
        log_warn("the graph document is served in gzip only: out of memory compressing it in brotli");
    graph_release(g);
}

/* The positions a build starts from (a copy; the caller holds
 * publish_lock): those the layout thread computed last until a rebuild has
 * published them, else those of the published snapshot (provisional ones
 * included, so they stay put), else at start those saved by the last run. */
static graph_layout *known_layout(snapshots *s)
{
    if (s->fresh_layout)
        return graph_layout_copy(s->fresh_layout);
    graph_snapshot *current = graph_acquire();
    const graph_layout *known = current && graph_layout_of(current) ? graph_layout_of(current) : s->saved_layout;
    graph_layout *layout = known ? graph_layout_copy(known) : NULL;
    graph_release(current);
    return layout;
}

/* Loads the map and publishes a snapshot of it, labelled with the data
 * version read in the same transaction. Nodes keep the positions they had;
 * new ones are placed provisionally and laid out by the layout thread. */
static int rebuild(snapshots *s, int64_t *version, char *err, size_t errlen)
{
    uint64_t t0 = now_ns();
    dataset d;
    if (store_load(s->store, &d, version, err, errlen) != 0)
        return -1;
    double load_seconds = seconds_since(t0);
    pthread_mutex_lock(&s->publish_lock);
    graph_layout *layout = known_layout(s);
    int used_fresh = s->fresh_layout != NULL;
    unsigned fresh_seq = s->fresh_seq;
    pthread_mutex_unlock(&s->publish_lock);
    graph_snapshot *g = make_snapshot(&d, *version, layout, err, errlen);
    if (!g)
        return -1;
    pthread_mutex_lock(&s->publish_lock);
    publish(s, g, t0, load_seconds);
    /* Published with the fresh positions: the next builds take them from it
     * (a newer fresh layout set meanwhile stays for them). */
    if (used_fresh && fresh_seq == s->fresh_seq) {
        graph_layout_free(s->fresh_layout);
        s->fresh_layout = NULL;
    }
    pthread_mutex_unlock(&s->publish_lock);
    /* Building allocated and freed megabytes of temporaries (and the old
     * snapshot may be gone): give the free memory back to the system. */
    malloc_trim(0);
    return 0;
}

/* Rebuilds if the database moved past the published snapshot; *shown is
 * the version published afterwards. */
static int refresh(snapshots *s, int64_t *shown, char *err, size_t errlen)
{
    int64_t version;
    if (store_data_version(s->store, &version, err, errlen) != 0)
        return -1;
    graph_snapshot *g = graph_acquire();
    int64_t current = g ? graph_version(g) : -1;
    graph_release(g);
    if (version == current) {
        *shown = current;
        return 0;
    }
    return rebuild(s, shown, err, errlen);
}

/* Takes the waiters to call now (under lock): all of them, or those shown. */
static waiter *take_waiters(snapshots *s, int all)
{
    waiter *out = NULL, **at = &s->waiters;
    while (*at) {
        waiter *w = *at;
        if (all || w->version <= s->shown) {
            *at = w->next;
            w->next = out;
            out = w;
        } else {
            at = &w->next;
        }
    }
    return out;
}

/* After a failed rebuild (under lock): the waiters that have now seen
 * WAITERS_GIVE_UP_AT of them. */
static waiter *take_given_up(snapshots *s)
{
    waiter *out = NULL, **at = &s->waiters;
    while (*at) {
        waiter *w = *at;
        if (++w->failed >= WAITERS_GIVE_UP_AT) {
            *at = w->next;
            w->next = out;
            out = w;
        } else {
            at = &w->next;
        }
    }
    return out;
}

static void call_waiters(waiter *w, int shown)
{
    while (w) {
        waiter *next = w->next;
        w->done(w->arg, shown);
        free(w);
        w = next;
    }
}

/* Frees the snapshots handed over by reclaim (under lock, released while
 * freeing). */
static void free_unused(snapshots *s)
{
    while (s->nunused) {
        graph_snapshot *g = s->unused[--s->nunused];
        pthread_mutex_unlock(&s->lock);
        graph_free(g);
        malloc_trim(0);
        pthread_mutex_lock(&s->lock);
    }
}

/* The one instance, for graph_set_reclaimer's plain function pointer. */
static snapshots *reclaim_into;

/* The last reader of an old snapshot is usually an event loop: it hands the
 * snapshot over instead of spending milliseconds freeing a large map. */
static void reclaim(graph_snapshot *g)
{
    snapshots *s = reclaim_into;
    pthread_mutex_lock(&s->lock);
    if (s->nunused == s->unused_cap) {
        s->unused_cap = s->unused_cap ? s->unused_cap * 2 : 4;
        s->unused = xreallocarray(s->unused, s->unused_cap, sizeof *s->unused);
    }
    s->unused[s->nunused++] = g;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void *publisher_main(void *arg)
{
    snapshots *s = arg;
    lower_priority("the snapshot publisher", PUBLISHER_NICE);
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        if (!s->poll_asked && !s->waiters) {
            /* Idle: free the snapshots readers handed over (a rebuild asked
             * for goes first: freeing a large map takes milliseconds). The
             * loop checks stop again, since free_unused lets go of the lock
             * and a stop asked meanwhile signalled nobody (a hang at exit,
             * seen in the restart test). */
            if (s->nunused)
                free_unused(s);
            else
                pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        uint64_t now = now_ns();
        if (s->retry_at > now) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            uint64_t wait = s->retry_at - now;
            until.tv_sec += (time_t)(wait / 1000000000ull);
            until.tv_nsec += (long)(wait % 1000000000ull);
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cond, &s->lock, &until);
            continue;
        }
        /* Everything asked until now is answered by this one rebuild. */
        s->poll_asked = 0;
        pthread_mutex_unlock(&s->lock);
        char err[512];
        int64_t shown = -1;
        int rc = refresh(s, &shown, err, sizeof err);
        pthread_mutex_lock(&s->lock);
        waiter *done;
        int ok = rc == 0;
        if (ok) {
            if (s->failures)
                log_info("the snapshot is current again after %d failed rebuild(s)", s->failures);
            s->failures = 0;
            s->retry_at = 0;
            s->shown = shown;
            done = take_waiters(s, 0);
        } else {
            s->failures++;
            unsigned shift = s->failures - 1 < 7 ? (unsigned)s->failures - 1 : 7;
            unsigned delay = RETRY_FIRST_MS << shift;
            if (delay > RETRY_MAX_MS)
                delay = RETRY_MAX_MS;
            s->retry_at = now_ns() + (uint64_t)delay * 1000000ull;
            s->poll_asked = 1; /* retry even when no write waits */
            /* Every failure while it is young, then every 16th: a database
             * that stays away must not fill the log. */
            if (s->failures <= 4 || s->failures % 16 == 0)
                log_error("rebuilding the snapshot failed (%d in a row, next try in %u ms), still serving the "
                          "previous one: %s",
                          s->failures, delay, err);
            done = take_given_up(s);
        }
        pthread_mutex_unlock(&s->lock);
        call_waiters(done, ok);
        if (ok)
            add_gzip(s);
        pthread_mutex_lock(&s->lock);
    }
    waiter *left = take_waiters(s, 1);
    pthread_mutex_unlock(&s->lock);
    call_waiters(left, 0);
    return NULL;
}

void snapshots_poll(snapshots *s)
{
    pthread_mutex_lock(&s->lock);
    s->poll_asked = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

void snapshots_show(snapshots *s, int64_t version, snapshots_shown_fn done, void *arg)
{
    pthread_mutex_lock(&s->lock);
    if (s->shown >= version || s->stop) {
        int stopped = s->shown < version;
        pthread_mutex_unlock(&s->lock);
        done(arg, !stopped);
        return;
    }
    waiter *w = xmalloc(sizeof *w);
    w->version = version;
    w->failed = 0;
    w->done = done;
    w->arg = arg;
    w->next = s->waiters;
    s->waiters = w;
    /* A write was just committed: the database answers, so a rebuild that
     * failed during an outage is tried now rather than after its pause. */
    s->retry_at = 0;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

double snapshots_build_seconds(const snapshots *s) { return s->build_seconds; }

double snapshots_layout_seconds(const snapshots *s) { return s->layout_seconds; }

int snapshots_failures(snapshots *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->failures;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* The layout thread: it makes the brotli form of each published snapshot
 * (background_request), and whenever the published snapshot has nodes without a
 * position, it computes positions (refining the known ones), saves them,
 * hands them to the next rebuild (fresh_layout) and republishes the same
 * data with them — unless the data moved on meanwhile (an edit, another
 * instance's commit). Either way the next rebuild starts from them: they
 * hold for every node they cover, also when a rebuild that started before
 * this publish replaces it. A newer snapshot that still lacks positions has
 * asked for another round, which starts from them too. (Dropping them left
 * a new genre without a place for as long as edits kept coming faster than
 * a layout.) */
static void *layout_main(void *arg)
{
    snapshots *s = arg;
    lower_priority("the layout thread", LAYOUT_NICE);
    for (;;) {
        pthread_mutex_lock(&s->layout_lock);
        int compress = 0;
        while (!s->layout_pending && !s->layout_stop) {
            if (s->brotli_pending && now_ns() >= s->brotli_due) {
                compress = 1;
                break;
            }
            if (s->brotli_pending) {
                struct timespec until = {(time_t)(s->brotli_due / 1000000000ull),
                                         (long)(s->brotli_due % 1000000000ull)};
                pthread_cond_timedwait(&s->layout_cond, &s->layout_lock, &until);
            } else {
                pthread_cond_wait(&s->layout_cond, &s->layout_lock);
            }
        }
        int stop = s->layout_stop, lay = s->layout_pending;
        s->layout_pending = 0;
        if (compress)
            s->brotli_pending = 0;
        pthread_mutex_unlock(&s->layout_lock);
        if (stop)
            return NULL;
        if (compress)
            add_brotli();
        if (!lay)
            continue;
        graph_snapshot *g = graph_acquire();
        if (!g)
            continue;
        if (graph_laid_out(g)) {
            graph_release(g);
            continue;
        }
        pthread_mutex_lock(&s->publish_lock);
        graph_layout *fresh = s->fresh_layout ? graph_layout_copy(s->fresh_layout) : NULL;
        pthread_mutex_unlock(&s->publish_lock);
        uint64_t t0 = now_ns();
        char err[512];
        graph_layout *layout =
            graph_layout_compute(g, fresh ? fresh : graph_layout_of(g), &s->layout_cancel, err, sizeof err);
        graph_layout_free(fresh);
        if (!layout) {
            if (!atomic_load(&s->layout_cancel))
                log_error("layout failed: %s", err);
            graph_release(g);
            continue;
        }
        s->layout_seconds = seconds_since(t0);
        log_info("layout of %zu genres and %zu bands computed in %.0f ms", graph_dataset(g)->ngenres,
                 graph_dataset(g)->nbands, s->layout_seconds * 1000);
        if (graph_layout_save(layout, s->layout_path, err, sizeof err) != 0)
            log_warn("the layout is not saved (it is recomputed after a restart): %s", err);
        dataset d;
        graph_layout *positions = graph_layout_copy(layout);
        graph_snapshot *built = NULL;
        if (positions && dataset_copy(&d, graph_dataset(g)) == 0)
            built = make_snapshot(&d, graph_version(g), positions, err, sizeof err);
        else
            graph_layout_free(positions);
        if (!built)
            log_error("publishing the laid-out snapshot failed: %s", positions ? err : "out of memory");
        else
            gzip_ahead(s, built);
        pthread_mutex_lock(&s->publish_lock);
        graph_layout_free(s->fresh_layout);
        s->fresh_layout = layout;
        s->fresh_seq++;
        graph_snapshot *now = graph_acquire();
        if (built && now == g) {
            publish(s, built, t0, 0);
            built = NULL;
        }
        graph_release(now);
        pthread_mutex_unlock(&s->publish_lock);
        graph_release(built);
        graph_release(g);
        add_gzip(s);
        malloc_trim(0); /* the layout's workspace is free again */
    }
}

int snapshots_start(const config *cfg, snapshots **out, char *err, size_t errlen)
{
    snapshots *s = xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->shown = -1;
    pthread_mutex_init(&s->publish_lock, NULL);
    pthread_mutex_init(&s->gzip_lock, NULL);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr; /* both conditions are waited on until monotonic deadlines */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &attr);
    pthread_cond_init(&s->layout_cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&s->layout_lock, NULL);
    snprintf(s->layout_path, sizeof s->layout_path, "%s/layout.tsv", cfg->state_dir);
    s->saved_layout = graph_layout_load(s->layout_path);
    *out = s;
    if (store_open(cfg->database_url, &s->store, err, errlen) != 0 || refresh(s, &s->shown, err, errlen) != 0)
        return -1;
    add_gzip(s); /* before the first request */
    /* Before the threads start: their creation orders these writes before
     * anything they do (a snapshot they drop is handed to reclaim). */
    reclaim_into = s;
    graph_set_reclaimer(reclaim);
    if (pthread_create(&s->layout_thread, NULL, layout_main, s) == 0)
        s->layout_started = 1;
    else
        log_warn("cannot start the layout thread: new nodes will have no position until a restart");
    if (pthread_create(&s->publisher, NULL, publisher_main, s) != 0) {
        snprintf(err, errlen, "cannot start the snapshot publisher thread");
        return -1;
    }
    s->publisher_started = 1;
    return 0;
}

void snapshots_stop(snapshots *s)
{
    if (!s)
        return;
    if (s->publisher_started) {
        pthread_mutex_lock(&s->lock);
        s->stop = 1;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->publisher, NULL);
    }
    if (s->layout_started) {
        atomic_store(&s->layout_cancel, 1);
        pthread_mutex_lock(&s->layout_lock);
        s->layout_stop = 1;
        pthread_cond_signal(&s->layout_cond);
        pthread_mutex_unlock(&s->layout_lock);
        pthread_join(s->layout_thread, NULL);
    }
    /* No thread frees for us any more: what is left goes now. */
    graph_set_reclaimer(NULL);
    graph_release(s->gzip_base);
    reclaim_into = NULL;
    while (s->nunused)
        graph_free(s->unused[--s->nunused]);
    free(s->unused);
    graph_layout_free(s->saved_layout);
    graph_layout_free(s->fresh_layout);
    store_close(s->store);
    graph_publish(NULL);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->publish_lock);
    pthread_mutex_destroy(&s->gzip_lock);
    pthread_mutex_destroy(&s->layout_lock);
    pthread_cond_destroy(&s->layout_cond);
    free(s);
}
