/*
 * api.c — the handlers' jobs off the event loop and their database
 * connections (see api.h).
 *
 * A job crosses threads by hand-over only: the loop fills it and submits
 * it; one worker at a time runs its steps (a hand-over between lanes goes
 * through the pool's queue, a mutex); the snapshot publisher or the worker
 * hands it back through http_resume (h2o's queue, a mutex again). So no
 * field of a job is ever touched by two threads at once, and none needs a
 * lock.
 */
#include "api/api.h"

#include "core/log.h"

#include <stdio.h>
#include <string.h>

static __thread store *thread_store;

store *api_store(api *a, char *err, size_t errlen)
{
    if (!thread_store && store_open(a->cfg->database_url, &thread_store, err, errlen) != 0)
        return NULL;
    return thread_store;
}

void api_store_close(void)
{
    store_close(thread_store);
    thread_store = NULL;
}

enum { JOB_OK, JOB_BUSY, JOB_NO_DATABASE };

/* On the request's loop: the reply, or the 503 that replaces it. */
static void finish_on_loop(http_request *r, void *arg)
{
    api_job *j = arg;
    if (r && j->failure == JOB_BUSY) {
        http_add_header(r, "retry-after", "1");
        http_problem(r, 503, "Service Unavailable", "The server is busy; try again in a moment.", NULL);
    } else if (r && j->failure == JOB_NO_DATABASE) {
        http_add_header(r, "retry-after", "5");
        http_problem(r, 503, "Service Unavailable", "The database is not reachable.", NULL);
    } else if (r) {
        j->reply(r, j);
    }
    j->destroy(j);
}

static void finish(api_job *j) { http_resume(j->deferred, finish_on_loop, j); }

static void on_shown(void *arg, int shown)
{
    api_job *j = arg;
    j->shown = shown;
    finish(j);
}

/* On a worker thread: one step, then the next hand-over. */
static void run_step(void *arg)
{
    api_job *j = arg;
    log_set_request_id(j->request_id);
    int next = API_DONE;
    char err[256];
    store *s = j->lane == API_LANE_DB ? api_store(j->a, err, sizeof err) : NULL;
    if (j->lane == API_LANE_DB && !s) {
        log_error("no database connection for a request: %s", err);
        j->failure = JOB_NO_DATABASE;
    } else {
        next = j->step(j, s);
        /* Whatever the step made of it, a database out of reach is "try
         * again later" — unless what the step did is done already. */
        if (s && store_lost(s) && !j->acknowledged) {
            log_error("the database is not reachable");
            j->failure = JOB_NO_DATABASE;
            next = API_DONE;
        }
    }
    log_set_request_id(NULL);
    if (next == API_NEXT) {
        if (j->a->submit(j->a, j->lane, run_step, j, j->delay_ms) == 0)
            return;
        j->failure = JOB_BUSY;
    } else if (j->show_version > 0 && !j->failure) {
        j->a->show(j->a, j->show_version, on_shown, j);
        return;
    }
    finish(j);
}

void api_job_start(api *a, http_request *r, api_job *j)
{
    j->a = a;
    snprintf(j->request_id, sizeof j->request_id, "%s", r->request_id);
    j->deferred = http_defer(r);
    if (a->submit(a, j->lane, run_step, j, j->delay_ms) != 0) {
        j->failure = JOB_BUSY;
        finish(j);
    }
}
