/*
 * api.h — what the HTTP handlers of src/api/ need from the server that runs
 * them, how they get work done off the event loop, and the functions that
 * register their routes.
 *
 * The server (src/server/app.c) owns the snapshot's life cycle, the worker
 * threads, the secret key and the database; it fills in an api and
 * registers each handler file's routes with it.
 *
 * An event loop only parses, routes, serves snapshot bytes and writes
 * responses. A handler that needs the database or a password hash reads
 * what it needs from the request, then starts an api_job and returns: the
 * job's steps run one after the other on the server's worker threads (a
 * step may hand the job on to the other lane, or ask for a delay), and its
 * reply runs back on the request's own loop with the request. A step that
 * committed a change sets show_version: the reply then waits until the
 * published snapshot shows that data version (read-your-writes), while the
 * loop serves others. docs/event-loops.md tells the whole story.
 */
#ifndef MG_API_H
#define MG_API_H

#include "core/config.h"
#include "http/http.h"
#include "store/store.h"

typedef struct api api;
typedef struct api_job api_job;

/* Where a step runs: the database threads, or the argon2id threads (fewer
 * than the cores, at a lower priority; their steps get no store). */
typedef enum api_lane { API_LANE_DB, API_LANE_HASH } api_lane;

/* A step's answer: done (reply now, or once show_version is shown), or go
 * on with the job's step on its lane (after delay_ms). */
enum { API_DONE = 0, API_NEXT = 1 };

typedef void (*api_work_fn)(void *arg);
typedef void (*api_shown_fn)(void *arg, int shown);

struct api {
    const config *cfg;
    unsigned char session_key[32];
    /* Runs fn(arg) on a worker thread of lane after delay_ms: 0, or -1 when
     * that lane's queue is full (fn will not run). */
    int (*submit)(api *a, api_lane lane, api_work_fn fn, void *arg, unsigned delay_ms);
    /* Calls done(arg, 1) once the published snapshot has data version >=
     * version, done(arg, 0) when it cannot be rebuilt. */
    void (*show)(api *a, int64_t version, api_shown_fn done, void *arg);
};

/* A job: embed it first in the handler's own struct. */
struct api_job {
    /* The next step, run on a worker of lane; s is that thread's database
     * connection on API_LANE_DB, NULL on API_LANE_HASH. */
    int (*step)(api_job *j, store *s);
    api_lane lane;
    unsigned delay_ms;    /* hold the next step back this long (no thread waits) */
    int64_t show_version; /* > 0: reply once the snapshot shows this version */
    /* On the request's loop when the steps are done; not called when the
     * client went away. */
    void (*reply)(http_request *r, api_job *j);
    /* Always called last (on the loop): frees the handler's struct. */
    void (*destroy)(api_job *j);
    int shown; /* after show_version: 1 shown, 0 the rebuild failed */
    /* Set by a step whose write committed: the answer acknowledges it even
     * when the database is lost right after (a 503 would have the client
     * retry a write that is done). */
    int acknowledged;

    /* api.c's own. */
    api *a;
    char request_id[33];
    http_deferred *deferred;
    int failure; /* answered 503 instead of reply: the queue was full, or no database */
};

/* Starts j on its lane for request r (from r's handler, on its loop). */
void api_job_start(api *a, http_request *r, api_job *j);

/* This thread's database connection (opened on first use), or NULL with err:
 * each worker thread keeps its own, as SQLite wants. */
store *api_store(api *a, char *err, size_t errlen);
/* Closes this thread's connection (a worker thread that ends). */
void api_store_close(void);

/* Route registration, one function per handler file. */
void api_register_read(http_router *rt, api *a);
void api_register_pages(http_router *rt, api *a);
void api_register_session(http_router *rt, api *a);
void api_register_edit(http_router *rt, api *a);
void api_register_users(http_router *rt, api *a);

#endif
