/*
 * defer.c — answering a request later, from its own event loop (see http.h:
 * http_defer, http_resume; docs/event-loops.md says why it works so).
 *
 * Each event loop has one h2o_multithread receiver on its context's queue
 * (h2o's pipe and mutex: a worker thread appends a message and wakes the
 * loop with one byte, several messages share a wake-up). http_resume sends
 * the deferred request's record there; the loop takes it and runs the
 * caller's function with the request.
 *
 * The record outlives the request: it is malloc'd, and a small guard in the
 * request's memory pool points at it. If h2o frees the request first (the
 * client went away; HTTP/1.1 in h2o 2.2.5 stops reading while a handler
 * works, so today that is a stream reset or a write error), the guard's
 * disposal clears the record's request pointer and the function is called
 * with NULL: it frees its work and answers nobody. Only the loop thread
 * touches the request, the guard and the count of pending records, so none
 * of them needs a lock; the worker thread touches only the message.
 */
#include "http/internal.h"

#include "core/log.h"
#include "core/xalloc.h"

#include <h2o.h>

struct http_deferred {
    h2o_multithread_message_t msg; /* first: the queue links messages */
    http_resumer *resumer;
    http_request *r;       /* NULL once h2o has freed the request */
    http_deferred **guard; /* in the request's pool, pointing back here */
    http_resume_fn fn;
    void *arg;
};

static void on_guard_dispose(void *p)
{
    http_deferred **guard = p;
    http_deferred *d = *guard;
    if (!d)
        return;
    /* "Client closed request": the access log is written after this (the
     * pool releases in reverse order of allocation). */
    if (d->r->status == 0)
        d->r->status = 499;
    d->r = NULL;
    d->guard = NULL;
}

http_deferred *http_defer(http_request *r)
{
    http_deferred *d = xcalloc(1, sizeof *d);
    d->resumer = http_resumer_of(r->req->conn->ctx);
    d->r = r;
    d->guard = h2o_mem_alloc_shared(&r->req->pool, sizeof *d->guard, on_guard_dispose);
    *d->guard = d;
    d->resumer->pending++;
    return d;
}

void http_resume(http_deferred *d, http_resume_fn fn, void *arg)
{
    d->fn = fn;
    d->arg = arg;
    h2o_multithread_send_message(&d->resumer->receiver, &d->msg);
}

static void on_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        http_deferred *d = H2O_STRUCT_FROM_MEMBER(http_deferred, msg.link, messages->next);
        h2o_linklist_unlink(&d->msg.link);
        d->resumer->pending--;
        if (d->guard)
            *d->guard = NULL;
        http_request *r = d->r;
        if (r) {
            log_set_request_id(r->request_id);
            if (http_server_stopping())
                r->req->http1_is_persistent = 0;
        }
        d->fn(r, d->arg);
        log_set_request_id(NULL);
        free(d);
    }
}

void http_resumer_init(http_resumer *rs, h2o_context_t *ctx)
{
    rs->pending = 0;
    h2o_multithread_register_receiver(ctx->queue, &rs->receiver, on_messages);
}

void http_resumer_dispose(http_resumer *rs, h2o_context_t *ctx)
{
    h2o_multithread_unregister_receiver(ctx->queue, &rs->receiver);
}
