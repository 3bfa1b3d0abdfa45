/*
 * test_pool.c — the worker pool of src/server/pool.h: every job runs once,
 * in order on one thread, held-back jobs after the others; a full queue
 * refuses; stop runs what is queued; the threads run at the asked
 * priority and call their end hook. No timing is asserted (DESIGN §6): the
 * order of events is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int order[64];
static int norder;
static atomic_int ended;
static atomic_int niceness_seen;

static void record(void *arg)
{
    pthread_mutex_lock(&lock);
    order[norder++] = (int)(intptr_t)arg;
    pthread_mutex_unlock(&lock);
}

static void reset(void)
{
    norder = 0;
    memset(order, 0, sizeof order);
    atomic_store(&ended, 0);
}

static void on_thread_end(void) { atomic_fetch_add(&ended, 1); }

static pool *start(int threads, int nice, size_t max_queued)
{
    char err[128];
    pool_config cfg = {"test", threads, nice, max_queued, on_thread_end};
    pool *p = pool_start(&cfg, err, sizeof err);
    assert_non_null(p);
    return p;
}

static void test_jobs_run_once_in_order_on_one_thread(void **state)
{
    (void)state;
    reset();
    pool *p = start(1, 0, 64);
    for (intptr_t i = 1; i <= 20; i++)
        assert_int_equal(pool_submit(p, record, (void *)i, 0), 0);
    pool_stop(p);
    assert_int_equal(norder, 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(order[i], i + 1);
    assert_int_equal(atomic_load(&ended), 1);
}

/* A job held back runs after jobs submitted later without a delay; while
 * it waits, no thread is taken (the one thread runs the others). */
static void test_a_held_back_job_runs_after_the_others(void **state)
{
    (void)state;
    reset();
    pool *p = start(1, 0, 64);
    assert_int_equal(pool_submit(p, record, (void *)1, 300), 0);
    assert_int_equal(pool_submit(p, record, (void *)2, 0), 0);
    assert_int_equal(pool_submit(p, record, (void *)3, 0), 0);
    /* Wait for the held job without assuming how long it takes. */
    for (;;) {
        pthread_mutex_lock(&lock);
        int n = norder;
        pthread_mutex_unlock(&lock);
        if (n == 3)
            break;
        usleep(10000);
    }
    pool_stop(p);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 3);
    assert_int_equal(order[2], 1);
}

/* Stopping runs held-back jobs at once rather than dropping them. */
static void test_stop_runs_what_is_queued(void **state)
{
    (void)state;
    reset();
    pool *p = start(2, 0, 64);
    assert_int_equal(pool_submit(p, record, (void *)7, 3600 * 1000), 0);
    pool_stop(p);
    assert_int_equal(norder, 1);
    assert_int_equal(order[0], 7);
    assert_int_equal(atomic_load(&ended), 2);
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static atomic_int at_gate;

static void wait_at_gate(void *arg)
{
    (void)arg;
    atomic_store(&at_gate, 1);
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
}

/* A full queue refuses: the caller keeps its job and answers 503. */
static void test_a_full_queue_refuses(void **state)
{
    (void)state;
    reset();
    pthread_mutex_lock(&gate);
    pool *p = start(1, 0, 2);
    assert_int_equal(pool_submit(p, wait_at_gate, NULL, 0), 0);
    /* Once the thread holds that job, two more fit and the third does not. */
    while (!atomic_load(&at_gate))
        usleep(1000);
    assert_int_equal(pool_submit(p, record, (void *)1, 0), 0);
    assert_int_equal(pool_submit(p, record, (void *)2, 0), 0);
    assert_int_equal(pool_submit(p, record, (void *)3, 0), -1);
    assert_int_equal(pool_backlog(p), 3);
    pthread_mutex_unlock(&gate);
    pool_stop(p);
    assert_int_equal(norder, 2);
}

static void note_nice(void *arg)
{
    (void)arg;
    atomic_store(&niceness_seen, getpriority(PRIO_PROCESS, (id_t)gettid()));
}

/* The hash lane's threads run nicer than the process; others do not. */
static void test_threads_run_at_the_asked_priority(void **state)
{
    (void)state;
    int base = getpriority(PRIO_PROCESS, (id_t)gettid());
    pool *p = start(1, 10, 8);
    assert_int_equal(pool_submit(p, note_nice, NULL, 0), 0);
    pool_stop(p);
    int expected = base + 10 > 19 ? 19 : base + 10;
    assert_int_equal(atomic_load(&niceness_seen), expected);
    assert_int_equal(getpriority(PRIO_PROCESS, (id_t)gettid()), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_run_once_in_order_on_one_thread),
        cmocka_unit_test(test_a_held_back_job_runs_after_the_others),
        cmocka_unit_test(test_stop_runs_what_is_queued),
        cmocka_unit_test(test_a_full_queue_refuses),
        cmocka_unit_test(test_threads_run_at_the_asked_priority),
    };
    return cmocka_run_group_tests_name("pool", tests, NULL, NULL) ? 1 : 0;
}
