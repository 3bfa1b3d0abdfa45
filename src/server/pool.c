/*
 * pool.c — worker threads with one queue (see pool.h).
 *
 * One mutex and one condition variable: the jobs are few and long (a hash
 * takes ~100 ms, a transaction milliseconds), so nothing fancier pays.
 * Jobs due now wait in a FIFO list; held-back jobs in a list sorted by due
 * time, which an idle thread sleeps towards with a timed wait.
 */
#include "server/pool.h"

#include "core/log.h"
#include "core/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef struct pool_item {
    pool_fn fn;
    void *arg;
    uint64_t due_ns;
    struct pool_item *next;
} pool_item;

struct pool {
    pool_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pool_item *ready, *ready_tail; /* FIFO, due now */
    pool_item *held;               /* sorted by due_ns */
    size_t queued, running;
    int stopping;
    pthread_t *threads;
    int nthreads;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Moves held-back jobs that are due (all of them when stopping) to ready. */
static void release_due(pool *p)
{
    uint64_t now = now_ns();
    while (p->held && (p->stopping || p->held->due_ns <= now)) {
        pool_item *it = p->held;
        p->held = it->next;
        it->next = NULL;
        if (p->ready_tail)
            p->ready_tail->next = it;
        else
            p->ready = it;
        p->ready_tail = it;
    }
}

static void *thread_main(void *arg)
{
    pool *p = arg;
    /* Linux keeps a nice value per thread: this lowers only this one. */
    if (p->cfg.nice &&
        setpriority(PRIO_PROCESS, (id_t)gettid(), getpriority(PRIO_PROCESS, (id_t)gettid()) + p->cfg.nice) != 0)
        log_warn("pool %s: cannot lower the thread's priority: %s", p->cfg.name, strerror(errno));
    pthread_mutex_lock(&p->lock);
    for (;;) {
        release_due(p);
        if (p->ready) {
            pool_item *it = p->ready;
            p->ready = it->next;
            if (!p->ready)
                p->ready_tail = NULL;
            p->queued--;
            p->running++;
            pthread_mutex_unlock(&p->lock);
            it->fn(it->arg);
            free(it);
            pthread_mutex_lock(&p->lock);
            p->running--;
            continue;
        }
        if (p->stopping)
            break;
        if (p->held) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            uint64_t wait = p->held->due_ns - now_ns();
            if ((int64_t)wait > 0) {
                until.tv_sec += (time_t)(wait / 1000000000ull);
                until.tv_nsec += (long)(wait % 1000000000ull);
                if (until.tv_nsec >= 1000000000L) {
                    until.tv_sec++;
                    until.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&p->wake, &p->lock, &until);
            }
        } else {
            pthread_cond_wait(&p->wake, &p->lock);
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (p->cfg.thread_end)
        p->cfg.thread_end();
    return NULL;
}

pool *pool_start(const pool_config *cfg, char *err, size_t errlen)
{
    pool *p = xcalloc(1, sizeof *p);
    p->cfg = *cfg;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &attr);
    pthread_condattr_destroy(&attr);
    int want = cfg->threads > 0 ? cfg->threads : 1;
    p->threads = xcalloc((size_t)want, sizeof *p->threads);
    while (p->nthreads < want && pthread_create(&p->threads[p->nthreads], NULL, thread_main, p) == 0)
        p->nthreads++;
    if (p->nthreads == 0) {
        snprintf(err, errlen, "cannot start the %s worker threads", cfg->name);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p->threads);
        free(p);
        return NULL;
    }
    if (p->nthreads < want)
        log_warn("pool %s: started %d of %d threads", cfg->name, p->nthreads, want);
    return p;
}

int pool_submit(pool *p, pool_fn fn, void *arg, unsigned delay_ms)
{
    pool_item *it = xmalloc(sizeof *it);
    it->fn = fn;
    it->arg = arg;
    it->due_ns = now_ns() + (uint64_t)delay_ms * 1000000ull;
    it->next = NULL;
    pthread_mutex_lock(&p->lock);
    /* While stopping, jobs of running jobs are still taken (a login's next
     * step): refusing them would leave a request without its answer. */
    if (p->queued >= p->cfg.max_queued || (p->stopping && p->running == 0)) {
        pthread_mutex_unlock(&p->lock);
        free(it);
        return -1;
    }
    p->queued++;
    if (delay_ms == 0) {
        if (p->ready_tail)
            p->ready_tail->next = it;
        else
            p->ready = it;
        p->ready_tail = it;
        pthread_cond_signal(&p->wake);
    } else {
        pool_item **at = &p->held;
        while (*at && (*at)->due_ns <= it->due_ns)
            at = &(*at)->next;
        it->next = *at;
        *at = it;
        /* A new earliest due time: the sleeping threads must wait less. */
        pthread_cond_broadcast(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
    return 0;
}

size_t pool_backlog(pool *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->queued + p->running;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void pool_stop(pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}
