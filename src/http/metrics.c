/*
 * metrics.c — request counters and latency histograms (see http.h).
 *
 * Counters are per route template (not per path, so ids do not explode the
 * label set) and per status code, kept in atomics that worker threads bump
 * without locks; /metrics reads them with relaxed loads. Open connections
 * are counted by each worker on its own loop and published here.
 */
#include "http/internal.h"
#include "core/xalloc.h"

#include "core/buf.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const int status_codes[] = {200, 201, 204, 301, 303, 304, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503};
#define NSTATUS (sizeof status_codes / sizeof status_codes[0])
static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NBUCKETS    (sizeof bucket_bounds / sizeof bucket_bounds[0])
#define MAX_WORKERS 256

typedef struct route_metrics {
    atomic_uint_fast64_t by_status[NSTATUS + 1]; /* last: any other status */
    atomic_uint_fast64_t buckets[NBUCKETS + 1];  /* last: +Inf */
    atomic_uint_fast64_t sum_us;
    atomic_uint_fast64_t count;
} route_metrics;

static const http_router *router;
static route_metrics *routes; /* one per route, then one for unmatched requests */
static size_t nroutes;
static atomic_int in_flight;
static atomic_int connections[MAX_WORKERS];

int http_metrics_init(const http_router *rt)
{
    router = rt;
    nroutes = http_router_count(rt);
    routes = xcalloc(nroutes + 1, sizeof *routes);
    return routes ? 0 : -1;
}

void http_metrics_begin(void) { atomic_fetch_add_explicit(&in_flight, 1, memory_order_relaxed); }

void http_metrics_end(int route_index, int status, double seconds)
{
    atomic_fetch_sub_explicit(&in_flight, 1, memory_order_relaxed);
    if (!routes)
        return;
    route_metrics *m = &routes[route_index >= 0 && (size_t)route_index < nroutes ? (size_t)route_index : nroutes];
    size_t s = 0;
    while (s < NSTATUS && status_codes[s] != status)
        s++;
    atomic_fetch_add_explicit(&m->by_status[s], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < NBUCKETS && seconds > bucket_bounds[b])
        b++;
    atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us, (uint_fast64_t)(seconds * 1e6), memory_order_relaxed);
    atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

void http_metrics_connections(int worker, int count)
{
    if (worker >= 0 && worker < MAX_WORKERS)
        atomic_store_explicit(&connections[worker], count, memory_order_relaxed);
}

static uint64_t load(atomic_uint_fast64_t *v) { return atomic_load_explicit(v, memory_order_relaxed); }

static void route_labels(buf *out, size_t i)
{
    if (i < nroutes)
        buf_printf(out, "method=\"%s\",route=\"%s\"", http_router_method(router, i), http_router_pattern(router, i));
    else
        buf_puts(out, "method=\"\",route=\"unmatched\"");
}

void http_metrics_write(buf *out)
{
    buf_puts(out, "# HELP musicgraph_http_requests_total HTTP requests answered, by route template and status.\n"
                  "# TYPE musicgraph_http_requests_total counter\n");
    for (size_t i = 0; routes && i <= nroutes; i++)
        for (size_t s = 0; s <= NSTATUS; s++) {
            uint64_t v = load(&routes[i].by_status[s]);
            if (!v)
                continue;
            buf_puts(out, "musicgraph_http_requests_total{");
            route_labels(out, i);
            if (s < NSTATUS)
                buf_printf(out, ",status=\"%d\"} %llu\n", status_codes[s], (unsigned long long)v);
            else
                buf_printf(out, ",status=\"other\"} %llu\n", (unsigned long long)v);
        }
    buf_puts(out, "# HELP musicgraph_http_request_duration_seconds Time from request start to response end.\n"
                  "# TYPE musicgraph_http_request_duration_seconds histogram\n");
    for (size_t i = 0; routes && i <= nroutes; i++) {
        uint64_t count = load(&routes[i].count);
        if (!count)
            continue;
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) {
            cumulative += load(&routes[i].buckets[b]);
            buf_puts(out, "musicgraph_http_request_duration_seconds_bucket{");
            route_labels(out, i);
            if (b < NBUCKETS)
                buf_printf(out, ",le=\"%g\"} %llu\n", bucket_bounds[b], (unsigned long long)cumulative);
            else
                buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
        }
        buf_puts(out, "musicgraph_http_request_duration_seconds_sum{");
        route_labels(out, i);
        buf_printf(out, "} %.6f\n", (double)load(&routes[i].sum_us) / 1e6);
        buf_puts(out, "musicgraph_http_request_duration_seconds_count{");
        route_labels(out, i);
        buf_printf(out, "} %llu\n", (unsigned long long)count);
    }
    int conns = 0;
    for (int w = 0; w < MAX_WORKERS; w++)
        conns += atomic_load_explicit(&connections[w], memory_order_relaxed);
    buf_printf(out,
               "# HELP musicgraph_http_requests_in_flight Requests being answered now.\n"
               "# TYPE musicgraph_http_requests_in_flight gauge\n"
               "musicgraph_http_requests_in_flight %d\n"
               "# HELP musicgraph_http_open_connections Open client connections.\n"
               "# TYPE musicgraph_http_open_connections gauge\n"
               "musicgraph_http_open_connections %d\n",
               atomic_load_explicit(&in_flight, memory_order_relaxed), conns);
}
