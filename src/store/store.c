/*
 * store.c — picks the backend from the URL and dispatches (see store.h).
 */
#include "store/backend.h"

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

int store_open(const char *url, store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (strncmp(url, "sqlite:", 7) == 0) {
        const char *path = url + 7;
        if (strncmp(path, "//", 2) == 0)
            path += 2;
        if (!*path) {
            snprintf(err, errlen, "the SQLite URL names no file (expected sqlite:///path/to/file.db)");
            return -1;
        }
        return sqlite_store_open(path, out, err, errlen);
    }
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        snprintf(err, errlen, "the PostgreSQL backend is not built yet; use a sqlite: URL");
        return -1;
    }
    snprintf(err, errlen, "unsupported database URL (expected sqlite:///path or postgresql://…)");
    return -1;
}

void store_close(store *s)
{
    if (s)
        s->ops->close(s);
}

const char *store_backend(const store *s) { return s->ops->name; }

int store_migrations(store *s, store_migration **list, size_t *count, size_t *unknown, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->migrations(s, list, count, unknown, err, errlen));
}

int store_migrate(store *s, int *applied, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->migrate(s, applied, err, errlen));
}

int store_load(store *s, dataset *out, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->load(s, out, err, errlen));
}

int store_is_empty(store *s, int *empty, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->is_empty(s, empty, err, errlen));
}

int store_replace_all(store *s, const dataset *d, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->replace_all(s, d, err, errlen));
}

int store_data_version(store *s, int64_t *version, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->data_version(s, version, err, errlen));
}

int store_edit(store *s, store_edit_fn fn, void *ctx, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->edit(s, fn, ctx, err, errlen));
}

int store_audit_list(store *s, int64_t offset, int64_t limit, store_audit **entries, size_t *count, int64_t *total,
                     char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->audit_list(s, offset, limit, entries, count, total, err, errlen));
}

int store_audit_add(store *s, const store_audit *a, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->audit_add(s, a, err, errlen));
}

void store_audit_clear(store_audit *a)
{
    free(a->actor);
    free(a->entity_id);
    free(a->before_json);
    free(a->after_json);
    memset(a, 0, sizeof *a);
}

int store_user_create(store *s, store_user *u, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->user_create(s, u, err, errlen));
}

int store_user_by_name(store *s, const char *username, store_user *out, int *found, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->user_by_name(s, username, out, found, err, errlen));
}

int store_user_by_id(store *s, int64_t id, store_user *out, int *found, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->user_by_id(s, id, out, found, err, errlen));
}

int store_user_list(store *s, store_user **users, size_t *count, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->user_list(s, users, count, err, errlen));
}

int store_user_update(store *s, const store_user *u, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->user_update(s, u, err, errlen));
}

int store_user_logged_in(store *s, int64_t id, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->user_logged_in(s, id, err, errlen));
}

int store_admin_count(store *s, int64_t *count, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->admin_count(s, count, err, errlen));
}

int store_session_create(store *s, const char *token_hash, int64_t user_id, const char *csrf_token, int64_t now,
                         int64_t expires_at, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->session_create(s, token_hash, user_id, csrf_token, now, expires_at, err, errlen));
}

int store_session_get(store *s, const char *token_hash, store_session *out, int *found, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->session_get(s, token_hash, out, found, err, errlen));
}

int store_session_touch(store *s, const char *token_hash, int64_t now, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->session_touch(s, token_hash, now, err, errlen));
}

int store_session_delete(store *s, const char *token_hash, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->session_delete(s, token_hash, err, errlen));
}

int store_sessions_delete_user(store *s, int64_t user_id, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->sessions_delete_user(s, user_id, err, errlen));
}

int store_attempt(store *s, const char *const *keys, size_t nkeys, int64_t now_ms, int64_t window_ms, int max,
                  int record, int *allowed, int64_t *retry_after_ms, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(
        t0, s->ops->attempt(s, keys, nkeys, now_ms, window_ms, max, record, allowed, retry_after_ms, err, errlen));
}

int store_dump(store *s, store_dump_t *out, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->dump(s, out, err, errlen));
}

int store_restore(store *s, const store_dump_t *d, unsigned what, int64_t expected_version, store_restore_hook before,
                  void *ctx, int64_t *users_added, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    return observe(t0, s->ops->restore(s, d, what, expected_version, before, ctx, users_added, err, errlen));
}

void store_dump_free(store_dump_t *d)
{
    dataset_free(&d->map);
    free(d->users);
    for (size_t i = 0; i < d->naudit; i++)
        store_audit_clear(&d->audit[i]);
    free(d->audit);
    memset(d, 0, sizeof *d);
}
