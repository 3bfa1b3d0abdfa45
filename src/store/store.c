/*
 * store.c — picks the backend from the URL and dispatches to it, timing
 * every call for /metrics (see store.h, backend.h).
 */
#include "store/backend.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"

/* Timing and error counts of every store call, for /metrics. */
static const double latency_bounds[] = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1};
#define NLATENCY (sizeof latency_bounds / sizeof latency_bounds[0])
static atomic_uint_fast64_t latency_buckets[NLATENCY + 1], latency_sum_us, calls, errors;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Records a finished call; -1 is a database error, other codes are answers. */
static int observe(uint64_t t0, int rc)
{
    uint64_t us = now_us() - t0;
    size_t b = 0;
    while (b < NLATENCY && (double)us / 1e6 > latency_bounds[b])
        b++;
    atomic_fetch_add_explicit(&latency_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_us, us, memory_order_relaxed);
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    if (rc == -1)
        atomic_fetch_add_explicit(&errors, 1, memory_order_relaxed);
    return rc;
}

void store_metrics_write(buf *out)
{
    buf_puts(out, "# HELP musicgraph_db_errors_total Database calls that failed.\n"
                  "# TYPE musicgraph_db_errors_total counter\n");
    buf_printf(out, "musicgraph_db_errors_total %llu\n", (unsigned long long)atomic_load(&errors));
    buf_puts(out, "# HELP musicgraph_db_query_duration_seconds Duration of database calls (one call may run several "
                  "statements in a transaction).\n# TYPE musicgraph_db_query_duration_seconds histogram\n");
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= NLATENCY; b++) {
        cumulative += atomic_load(&latency_buckets[b]);
        if (b < NLATENCY)
            buf_printf(out, "musicgraph_db_query_duration_seconds_bucket{le=\"%g\"} %llu\n", latency_bounds[b],
                       (unsigned long long)cumulative);
        else
            buf_printf(out, "musicgraph_db_query_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                       (unsigned long long)cumulative);
    }
    buf_printf(out, "musicgraph_db_query_duration_seconds_sum %.6f\nmusicgraph_db_query_duration_seconds_count %llu\n",
               (double)atomic_load(&latency_sum_us) / 1e6, (unsigned long long)atomic_load(&calls));
}

/* The SQLite file a sqlite: URL names (sqlite:///abs, sqlite:rel), or NULL. */
static const char *sqlite_path(const char *url)
{
    if (strncmp(url, "sqlite:", 7) != 0)
        return NULL;
    const char *path = url + 7;
    return strncmp(path, "//", 2) == 0 ? path + 2 : path;
}

static int is_postgres(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

static int open_url(const char *url, int readonly, store **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *path = sqlite_path(url);
    if (path) {
        if (!*path) {
            snprintf(err, errlen, "the SQLite URL names no file (expected sqlite:///path/to/file.db)");
            return -1;
        }
        return sqlite_store_open(path, readonly, out, err, errlen);
    }
    if (is_postgres(url))
        return postgres_store_open(url, readonly, out, err, errlen);
    snprintf(err, errlen, "unsupported database URL (expected sqlite:///path or postgresql://…)");
    return -1;
}

int store_open(const char *url, store **out, char *err, size_t errlen) { return open_url(url, 0, out, err, errlen); }

int store_open_readonly(const char *url, store **out, char *err, size_t errlen)
{
    return open_url(url, 1, out, err, errlen);
}

void store_describe(const char *url, char *out, size_t len)
{
    const char *path = sqlite_path(url);
    if (path)
        snprintf(out, len, "SQLite database %s", path);
    else if (is_postgres(url))
        postgres_describe(url, out, len);
    else
        snprintf(out, len, "an unsupported database URL");
}

void store_close(store *s)
{
    if (s)
        s->ops->close(s);
}

const char *store_backend(const store *s) { return s->ops->name; }

int store_lost(store *s) { return s->ops->lost ? s->ops->lost(s) : 0; }

/* The public calls, one per operation of backend.h, each timed. */
#define STORE_TIMED(name, params, args)                                                                                \
    int store_##name params                                                                                            \
    {                                                                                                                  \
        uint64_t t0 = now_us();                                                                                        \
        return observe(t0, s->ops->name args);                                                                         \
    }

STORE_OPERATIONS(STORE_TIMED)
