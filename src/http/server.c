/*
 * server.c — listening, worker threads, request lifecycle, graceful stop.
 *
 * Every worker thread runs its own h2o event loop and accepts from the same
 * listening socket (its own dup of it), so there is no hand-off between
 * threads. The listening socket comes from systemd when it passes one
 * (socket activation), otherwise it is created here. Signals are taken by
 * the main thread only: SIGTERM/SIGINT set a flag the workers see within
 * 100 ms; they stop accepting, let open requests finish, and return.
 */
#include "http/internal.h"
#include "core/xalloc.h"

#include "core/log.h"
#include "core/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <h2o.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

typedef struct worker {
    pthread_t thread;
    int index;
    int fd;
    atomic_int connections; /* open on this loop, lingering ones included */
    h2o_timeout_t linger_timeout;
    unsigned tls_generation; /* which published TLS context accept_ctx holds */
    h2o_context_t ctx;
    http_resumer resumer; /* requests answered later (defer.c) */
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    int plain_fd;               /* the plain-HTTP listener (ACME http-01, redirects), or -1 */
    h2o_accept_ctx_t plain_ctx; /* its context: never TLS */
    h2o_socket_t *plain_listener;
} worker;

static h2o_globalconf_t globalconf;
static http_router *router;
static atomic_int stopping;
static atomic_uint_fast64_t requests_served;
static int shutdown_timeout_ms;
static int max_connections;            /* for the whole process, across workers */
static int max_connections_per_client; /* per client address, trusted proxies exempt */
static worker *workers;
static int nworkers;
static int tls_required;    /* the main listener speaks only TLS, even before a certificate exists */
static int plain_redirects; /* requests on the plain listener are redirected to HTTPS */

http_resumer *http_resumer_of(h2o_context_t *ctx) { return &H2O_STRUCT_FROM_MEMBER(worker, ctx, ctx)->resumer; }

uint64_t http_requests_served(void) { return atomic_load(&requests_served); }

int http_server_stopping(void) { return atomic_load(&stopping); }

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What the access log needs, kept outside the request so it can be written
 * when h2o disposes of the request (after the last byte went out). */
typedef struct request_record {
    http_request r;
    char method[12];
    char path[256];
    char client[64];
} request_record;

void http_log_request(http_request *r, size_t bytes)
{
    request_record *rec = (request_record *)r;
    char status[8], size[24], ms[24];
    snprintf(status, sizeof status, "%d", r->status);
    snprintf(size, sizeof size, "%zu", bytes);
    snprintf(ms, sizeof ms, "%.3f", (double)(now_ns() - r->started_ns) / 1e6);
    const char *kv[] = {"method", rec->method, "path", rec->path, "route",       r->route, "status",    status, "bytes",
                        size,     "ms",        ms,     "id",      r->request_id, "client", rec->client, NULL};
    log_fields(LOG_INFO, "request", kv);
}

static void on_request_done(void *p)
{
    request_record *rec = p;
    atomic_fetch_add_explicit(&requests_served, 1, memory_order_relaxed);
    http_metrics_end(rec->r.route_index, rec->r.status, (double)(now_ns() - rec->r.started_ns) / 1e9);
    if (log_enabled(LOG_INFO))
        http_log_request(&rec->r, rec->r.req ? rec->r.req->bytes_sent : 0);
}

/* Accepts a client-supplied request id only if it is short and plain. */
static int request_id_ok(const char *s, size_t len)
{
    if (len == 0 || len > 32)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            return 0;
    }
    return 1;
}

int http_handle_request(http_router *rt, h2o_req_t *req)
{
    request_record *rec = h2o_mem_alloc_shared(&req->pool, sizeof *rec, on_request_done);
    memset(rec, 0, sizeof *rec);
    http_request *r = &rec->r;
    r->req = req;
    r->route_index = -1;
    r->started_ns = now_ns();
    http_metrics_begin();
    snprintf(rec->method, sizeof rec->method, "%.*s", (int)req->method.len, req->method.base);
    /* The path without its query: a query string is where a careless client
     * would put a token, and the log must never hold one. */
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    snprintf(rec->path, sizeof rec->path, "%.*s", (int)(plen < 255 ? plen : 255), req->path.base);
    if (log_enabled(LOG_INFO))
        http_client_address_into(req, rec->client, sizeof rec->client);
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
    if (i >= 0 && request_id_ok(req->headers.entries[i].value.base, req->headers.entries[i].value.len)) {
        memcpy(r->request_id, req->headers.entries[i].value.base, req->headers.entries[i].value.len);
    } else {
        unsigned char raw[8];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(r->request_id, sizeof r->request_id, raw, sizeof raw);
    }
    /* While stopping, every response closes its connection, so clients move
     * to the next server between two requests, never in the middle of one. */
    if (atomic_load_explicit(&stopping, memory_order_relaxed))
        req->http1_is_persistent = 0;
    const char *title, *detail;
    int refused = http_check_framing(req, &title, &detail);
    if (refused) {
        /* Nothing more is read from a connection whose framing is in doubt. */
        req->http1_is_persistent = 0;
        r->route = "-";
        http_problem(r, refused, title, detail, NULL);
        return 0;
    }
    /* ACME challenges first: the CA asks on whichever listener it reaches. */
    if (http_acme_answer(r))
        return 0;
    if (plain_redirects && req->scheme != &H2O_URL_SCHEME_HTTPS) {
        http_redirect_to_https(r);
        return 0;
    }
    if (http_check_origin(r, &detail) != 0) {
        r->route = "-";
        http_problem(r, 403, "Forbidden", detail, NULL);
        return 0;
    }
    log_set_request_id(r->request_id);
    http_dispatch(rt, r);
    log_set_request_id(NULL);
    /* The disposal callback may run after the request struct is gone. */
    return 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    return http_handle_request(router, req);
}

/*
 * Connection accounting and lingering close.
 *
 * The cap on open connections is global: with one cap per worker, a worker
 * that won most accept races refused newcomers while the process as a whole
 * was far below its limit (a request of the slow-client test waited on such
 * a refused connection). Each accepted socket carries a small record whose
 * on_close hook keeps the counts exact.
 *
 * h2o 2.2.5 closes a connection as soon as an error response (413 for a body
 * over the limit, 400 for a malformed request) is written, with the rest of
 * the request still unread; the kernel then answers with a reset that can
 * destroy the response before the client reads it. So every accepted socket
 * is duplicated: when h2o closes its descriptor, ours keeps the connection
 * open, half-closes it (FIN after the response) and discards what the client
 * still sends, for at most LINGER_MS or LINGER_MAX_BYTES, before closing.
 */
#define LINGER_MS        2000
#define LINGER_MAX_BYTES (8u << 20)

typedef struct tracked_conn {
    worker *w;
    http_client_key client;
    int per_client; /* counted against the client's limit */
    int fd;         /* our duplicate of the client socket */
    size_t drained;
    h2o_socket_t *linger;
    h2o_timeout_entry_t deadline;
} tracked_conn;

static atomic_int open_total;

static void conn_release(tracked_conn *c)
{
    if (c->per_client)
        http_clients_release(&c->client);
    atomic_fetch_sub_explicit(&c->w->connections, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&open_total, 1, memory_order_relaxed);
    free(c);
}

static void linger_close(tracked_conn *c)
{
    if (h2o_timeout_is_linked(&c->deadline))
        h2o_timeout_unlink(&c->deadline);
    h2o_socket_close(c->linger); /* closes c->fd */
    conn_release(c);
}

static void on_linger_deadline(h2o_timeout_entry_t *entry)
{
    linger_close(H2O_STRUCT_FROM_MEMBER(tracked_conn, deadline, entry));
}

static void on_linger_read(h2o_socket_t *sock, const char *err)
{
    tracked_conn *c = sock->data;
    c->drained += sock->input->size;
    h2o_buffer_consume(&sock->input, sock->input->size);
    if (err || c->drained > LINGER_MAX_BYTES)
        linger_close(c);
}

/* h2o has closed its descriptor; ours still holds the connection. */
static void on_conn_closed(void *data)
{
    tracked_conn *c = data;
    int unread = 0;
    /* Nothing left to read and the client already done: close at once, the
     * common case of a client that closed its keep-alive connection. */
    if (shutdown(c->fd, SHUT_WR) != 0 || atomic_load(&stopping) ||
        (ioctl(c->fd, FIONREAD, &unread) == 0 && unread == 0 &&
         recv(c->fd, &(char){0}, 1, MSG_PEEK | MSG_DONTWAIT) == 0)) {
        close(c->fd);
        conn_release(c);
        return;
    }
    c->linger = h2o_evloop_socket_create(c->w->ctx.loop, c->fd, 0);
    c->linger->data = c;
    c->deadline.cb = on_linger_deadline;
    h2o_timeout_link(c->w->ctx.loop, &c->w->linger_timeout, &c->deadline);
    h2o_socket_read_start(c->linger, on_linger_read);
}

/* Accepts what is waiting, a bounded batch per wake-up so one busy listener
 * cannot starve the requests already on this loop. */
#define ACCEPT_BATCH 16

/* Admits a new connection against the global and the per-client limits, or
 * returns NULL (the caller closes it). */
static tracked_conn *admit(worker *w, h2o_socket_t *sock)
{
    if (atomic_load_explicit(&open_total, memory_order_relaxed) >= max_connections)
        return NULL;
    tracked_conn *c = xcalloc(1, sizeof *c);
    struct sockaddr_storage peer;
    socklen_t plen = h2o_socket_getpeername(sock, (struct sockaddr *)&peer);
    if (plen > 0 && http_client_key_of((struct sockaddr *)&peer, &c->client) == 0 &&
        !http_is_trusted_proxy_key(&c->client)) {
        if (!http_clients_acquire(&c->client, max_connections_per_client)) {
            free(c);
            return NULL;
        }
        c->per_client = 1;
    }
    if ((c->fd = fcntl(h2o_socket_get_fd(sock), F_DUPFD_CLOEXEC, 0)) < 0) {
        if (c->per_client)
            http_clients_release(&c->client);
        free(c);
        return NULL;
    }
    c->w = w;
    atomic_fetch_add_explicit(&w->connections, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&open_total, 1, memory_order_relaxed);
    return c;
}

static void accept_from(worker *w, h2o_socket_t *listener, h2o_accept_ctx_t *actx)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock)
            return;
        /* Over a limit, a new connection is closed at once: established
         * clients keep being served rather than everyone slowing down. */
        tracked_conn *c = admit(w, sock);
        if (!c) {
            h2o_socket_close(sock);
            continue;
        }
        sock->on_close.cb = on_conn_closed;
        sock->on_close.data = c;
        h2o_accept(actx, sock);
    }
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    worker *w = listener->data;
    if (err)
        return;
    /* The newest certificate for every new connection: a loop that slept
     * through a swap would otherwise hand its first newcomers the previous
     * context (or none: the first ACME certificate) for up to a turn. */
    http_tls_refresh(&w->accept_ctx.ssl_ctx, &w->tls_generation);
    /* Until the first certificate arrives (ACME), a TLS listener has
     * nothing to handshake with: answering in plain HTTP on it would be
     * worse than closing. */
    if (tls_required && !w->accept_ctx.ssl_ctx) {
        h2o_socket_t *sock;
        for (int i = 0; i < ACCEPT_BATCH && (sock = h2o_evloop_socket_accept(listener)) != NULL; i++)
            h2o_socket_close(sock);
        return;
    }
    accept_from(w, listener, &w->accept_ctx);
}

static void on_accept_plain(h2o_socket_t *listener, const char *err)
{
    if (!err)
        accept_from(listener->data, listener, &((worker *)listener->data)->plain_ctx);
}

static int bind_listener(const char *address, int reuseport, char *err, size_t errlen);

int http_open_listener(const char *address, char *err, size_t errlen)
{
    int n = sd_listen_fds(1);
    if (n > 1) {
        snprintf(err, errlen, "systemd passed %d sockets; musicgraph listens on exactly one", n);
        return -1;
    }
    if (n == 1) {
        int fd = SD_LISTEN_FDS_START;
        if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
            snprintf(err, errlen, "the socket systemd passed is not a listening TCP socket");
            return -1;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        log_info("using the listening socket passed by systemd or a previous process (LISTEN_FDS)");
        return fd;
    }
    return bind_listener(address, 0, err, errlen);
}

/* Nobody passes the plain listener on at SIGUSR2 (LISTEN_FDS holds one
 * socket): the new process binds it again beside the old one, hence
 * SO_REUSEPORT, for the moment both run. */
int http_open_plain_listener(const char *address, char *err, size_t errlen)
{
    return bind_listener(address, 1, err, errlen);
}

static int bind_listener(const char *address, int reuseport, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (net_parse_listen(address, &ss, &sl, err, errlen) != 0)
        return -1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) ||
        bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", address, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return fd;
}

static int has_connections(h2o_context_t *ctx)
{
    return !h2o_linklist_is_empty(&ctx->http1._conns) || !h2o_linklist_is_empty(&ctx->http2._conns);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    h2o_context_init(&w->ctx, h2o_evloop_create(), &globalconf);
    http_resumer_init(&w->resumer, &w->ctx);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = globalconf.hosts;
    h2o_timeout_init(w->ctx.loop, &w->linger_timeout, LINGER_MS);
    http_tls_refresh(&w->accept_ctx.ssl_ctx, &w->tls_generation);
    w->listener = h2o_evloop_socket_create(w->ctx.loop, w->fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listener->data = w;
    h2o_socket_read_start(w->listener, on_accept);
    if (w->plain_fd >= 0) {
        w->plain_ctx.ctx = &w->ctx;
        w->plain_ctx.hosts = globalconf.hosts;
        w->plain_listener = h2o_evloop_socket_create(w->ctx.loop, w->plain_fd, H2O_SOCKET_FLAG_DONT_READ);
        w->plain_listener->data = w;
        h2o_socket_read_start(w->plain_listener, on_accept_plain);
    }

    while (!atomic_load(&stopping)) {
        h2o_evloop_run(w->ctx.loop, 100);
        http_tls_refresh(&w->accept_ctx.ssl_ctx, &w->tls_generation);
        http_metrics_connections(w->index, atomic_load_explicit(&w->connections, memory_order_relaxed));
    }

    /* Stop accepting first, then give open requests time to finish. Idle
     * keep-alive connections are closed after a short grace period (clients
     * retry an idempotent request on a closed idle connection); busy ones get
     * "Connection: close" on their response (see on_req). */
    h2o_socket_read_stop(w->listener);
    h2o_socket_close(w->listener);
    if (w->plain_listener) {
        h2o_socket_read_stop(w->plain_listener);
        h2o_socket_close(w->plain_listener);
    }
    w->ctx.http1.req_timeout.timeout = 100;
    uint64_t deadline = now_ns() + (uint64_t)shutdown_timeout_ms * 1000000ull;
    while (has_connections(&w->ctx) && now_ns() < deadline)
        h2o_evloop_run(w->ctx.loop, 50);
    /* Work handed to other threads ends in a message to this loop: it must
     * turn until the last one came, or a worker would write into a queue
     * nobody reads (work is bounded: a hash, a transaction, a rebuild). */
    if (w->resumer.pending > 0)
        log_info("waiting for %d request(s) still at work", w->resumer.pending);
    while (w->resumer.pending > 0)
        h2o_evloop_run(w->ctx.loop, 50);
    http_resumer_dispose(&w->resumer, &w->ctx);
    return NULL;
}

void http_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, set, NULL); /* inherited by every thread created after */
    signal(SIGPIPE, SIG_IGN);
}

int http_server_run(const http_server_config *cfg, http_router *rt, char *err, size_t errlen)
{
    router = rt;
    shutdown_timeout_ms = cfg->shutdown_timeout_s * 1000;
    atomic_store(&stopping, 0);
    atomic_store(&open_total, 0);

    sigset_t signals;
    http_block_signals(&signals);

    int fd = cfg->listen_fd >= 0 ? cfg->listen_fd : http_open_listener(cfg->listen, err, errlen);
    if (fd < 0)
        return -1;

    h2o_config_init(&globalconf);
    globalconf.max_request_entity_size = cfg->max_body;
    globalconf.server_name = h2o_iovec_init(H2O_STRLIT("musicgraph"));
    globalconf.http1.upgrade_to_http2 = 0;
    globalconf.http1.req_timeout = (uint64_t)(cfg->request_timeout_s > 0 ? cfg->request_timeout_s : 10) *
                                   1000; /* HTTP/2 only as an opt-in (Debian's 2.2.5 lacks later DoS fixes) */
    h2o_hostconf_t *host = h2o_config_register_host(&globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = on_req;

    if (http_metrics_init(rt) != 0) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    nworkers = cfg->threads > 0 ? cfg->threads : 1;
    tls_required = cfg->tls_required;
    plain_redirects = cfg->plain_listen_fd >= 0;
    max_connections = cfg->max_connections > 0 ? cfg->max_connections : 4096;
    max_connections_per_client =
        cfg->max_connections_per_client > 0 && cfg->max_connections_per_client < max_connections
            ? cfg->max_connections_per_client
            : max_connections;
    workers = xcalloc((size_t)nworkers, sizeof *workers);
    int started = 0;
    for (; started < nworkers; started++) {
        workers[started].index = started;
        workers[started].fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        workers[started].plain_fd = cfg->plain_listen_fd >= 0 ? fcntl(cfg->plain_listen_fd, F_DUPFD_CLOEXEC, 0) : -1;
        if (workers[started].fd < 0 ||
            pthread_create(&workers[started].thread, NULL, worker_main, &workers[started]) != 0)
            break;
    }
    if (started < nworkers) {
        snprintf(err, errlen, "cannot start worker thread %d of %d", started + 1, nworkers);
        atomic_store(&stopping, 1);
        for (int i = 0; i < started; i++)
            pthread_join(workers[i].thread, NULL);
        free(workers);
        workers = NULL;
        close(fd);
        return -1;
    }
    sd_notify(0, "READY=1");

    struct timespec tick = {0, 250 * 1000000L};
    while (!atomic_load(&stopping)) {
        int sig = sigtimedwait(&signals, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            log_info("received %s: stopping (finishing open requests, at most %d s)",
                     sig == SIGTERM ? "SIGTERM" : "SIGINT", cfg->shutdown_timeout_s);
            sd_notify(0, "STOPPING=1");
            atomic_store(&stopping, 1);
        } else if (sig == SIGHUP) {
            log_info("received SIGHUP: reloading");
            if (cfg->on_reload)
                cfg->on_reload(cfg->ctx);
        } else if (sig == SIGUSR2) {
            http_upgrade_start(cfg->exec_path, cfg->argv, fd);
        }
        if (http_upgrade_poll() == 1)
            atomic_store(&stopping, 1);
        if (cfg->on_tick && !atomic_load(&stopping))
            cfg->on_tick(cfg->ctx);
    }
    for (int i = 0; i < nworkers; i++)
        pthread_join(workers[i].thread, NULL);
    free(workers);
    workers = NULL;
    nworkers = 0;
    close(fd);
    log_info("stopped after %llu requests", (unsigned long long)http_requests_served());
    return 0;
}
