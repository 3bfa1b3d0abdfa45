/*
 * pool.h — a small pool of worker threads with one queue: where the work
 * that must never run on an event loop runs (database transactions,
 * password hashes; docs/event-loops.md).
 *
 * The server starts one pool per kind of work, so that each is bounded on
 * its own: a few threads for the database, and a lane for argon2id hashes
 * at a lower scheduling priority (nice) with fewer threads than cores, so
 * that logins can never take every core from the event loops. A job is a
 * function and its argument, run once on one of the threads; a job may be
 * held back for a while first (delay_ms) without a thread waiting for it.
 * The queue is bounded: a full pool refuses work, and the caller answers
 * 503 rather than letting a backlog grow without end.
 */
#ifndef MG_SERVER_POOL_H
#define MG_SERVER_POOL_H

#include <stddef.h>

typedef struct pool pool;
typedef void (*pool_fn)(void *arg);

typedef struct pool_config {
    const char *name; /* for logs: "db", "hash" */
    int threads;      /* at least 1 */
    int nice;         /* added to the threads' nice value (0: as the process) */
    size_t max_queued;
    /* Run by each thread as it ends (closing its database connection). */
    void (*thread_end)(void);
} pool_config;

/* NULL with err when no thread could be started. */
pool *pool_start(const pool_config *cfg, char *err, size_t errlen);
/* Queues fn(arg) to run after delay_ms (0: as soon as a thread is free).
 * 0, or -1 when the queue is full or the pool is stopping: then fn will
 * never run and the caller still owns arg. Any thread may submit. */
int pool_submit(pool *p, pool_fn fn, void *arg, unsigned delay_ms);
/* Jobs queued and running now (for /metrics). */
size_t pool_backlog(pool *p);
/* Runs every job already queued (held-back ones at once), then ends the
 * threads and frees the pool. Jobs that submit to this pool meanwhile are
 * still run. */
void pool_stop(pool *p);

#endif
