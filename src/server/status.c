/*
 * status.c — endpoints for operators and their tools: /readyz and /metrics.
 * They report on the running process as a whole (the snapshot's build and
 * layout times, the newest backup, the worker queues, shutting down), which
 * is the composition root's knowledge, so they live beside it rather than
 * with the handlers. (/healthz, which must not touch the database, lives
 * with the read API.)
 */
#include "server/status.h"

#include "api/common.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "graph/snapshot.h"
#include "ops/version.h"
#include "ops/backup.h"
#include "ops/backup_location.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Ready = database reachable, schema current, snapshot loaded, not stopping.
 * The database part runs on a worker. */
typedef struct readyz_job {
    api_job job; /* first */
    const char *database, *migrations;
} readyz_job;

static int readyz_step(api_job *j, store *s)
{
    readyz_job *rj = (readyz_job *)j;
    char err[256];
    int64_t version;
    rj->database = "ok";
    rj->migrations = "ok";
    if (store_data_version(s, &version, err, sizeof err) != 0) {
        rj->database = "unreachable";
        rj->migrations = "unknown";
        return API_DONE;
    }
    store_migration *list;
    size_t n, unknown;
    if (store_migrations(s, &list, &n, &unknown, err, sizeof err) != 0) {
        rj->migrations = "unknown";
        return API_DONE;
    }
    for (size_t i = 0; i < n; i++)
        if (!list[i].applied || !list[i].checksum_ok)
            rj->migrations = "pending or changed";
    if (unknown)
        rj->migrations = "database is newer than this binary";
    free(list);
    return API_DONE;
}

static void readyz_reply(http_request *r, api_job *j)
{
    readyz_job *rj = (readyz_job *)j;
    const char *snapshot = "ok", *server = "ok";
    graph_snapshot *g = graph_acquire();
    if (!g)
        snapshot = "not loaded";
    graph_release(g);
    if (http_server_stopping())
        server = "shutting down";
    int ready = !strcmp(rj->database, "ok") && !strcmp(rj->migrations, "ok") && !strcmp(snapshot, "ok") &&
                !strcmp(server, "ok");
    api_send_json(r, ready ? 200 : 503,
                  json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "status", ready ? "ready" : "unavailable", "checks",
                            "database", rj->database, "migrations", rj->migrations, "snapshot", snapshot, "server",
                            server));
}

static void free_job(api_job *j) { free(j); }

static int get_readyz(http_request *r, void *arg)
{
    status_source *src = arg;
    readyz_job *rj = xcalloc(1, sizeof *rj);
    rj->job.step = readyz_step;
    rj->job.lane = API_LANE_DB;
    rj->job.reply = readyz_reply;
    rj->job.destroy = free_job;
    api_job_start(src->api, r, &rj->job);
    return 0;
}

/* On a worker thread: the newest backup, read from the files. */
static void read_backups(void *arg)
{
    status_source *src = arg;
    char dir[4096];
    backup_info latest;
    backup_default_dir(src->api->cfg, dir, sizeof dir);
    int known = backup_location_latest(dir, &latest) == 0;
    pthread_mutex_lock(&src->lock);
    src->backup_known = known;
    if (known)
        src->backup = latest;
    src->backup_read_at = time(NULL);
    src->backup_reading = 0;
    pthread_mutex_unlock(&src->lock);
}

void status_refresh_backups(status_source *src, int max_age_s)
{
    pthread_mutex_lock(&src->lock);
    int go = !src->backup_reading && time(NULL) - src->backup_read_at >= max_age_s;
    if (go)
        src->backup_reading = 1;
    pthread_mutex_unlock(&src->lock);
    if (go && src->api->submit(src->api, API_LANE_DB, read_backups, src, 0) != 0) {
        pthread_mutex_lock(&src->lock);
        src->backup_reading = 0;
        pthread_mutex_unlock(&src->lock);
    }
}

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static int get_metrics(http_request *r, void *arg)
{
    status_source *src = arg;
    char build_date[32], schema[128];
    version_build_date(build_date, sizeof build_date);
    version_schema(schema, sizeof schema);
    buf out = BUF_INIT;
    http_metrics_write(&out);
    store_metrics_write(&out);
    graph_snapshot *g = graph_acquire();
    if (g) {
        buf_printf(&out,
                   "# HELP musicgraph_snapshot_version Data version of the map being served.\n"
                   "# TYPE musicgraph_snapshot_version gauge\nmusicgraph_snapshot_version %lld\n"
                   "# HELP musicgraph_snapshot_bytes Bytes of serialized documents in the snapshot.\n"
                   "# TYPE musicgraph_snapshot_bytes gauge\nmusicgraph_snapshot_bytes %zu\n"
                   "# HELP musicgraph_snapshot_genres Genres in the snapshot.\n"
                   "# TYPE musicgraph_snapshot_genres gauge\nmusicgraph_snapshot_genres %zu\n"
                   "# HELP musicgraph_snapshot_bands Bands in the snapshot.\n"
                   "# TYPE musicgraph_snapshot_bands gauge\nmusicgraph_snapshot_bands %zu\n",
                   (long long)graph_version(g), graph_bytes(g), graph_dataset(g)->ngenres, graph_dataset(g)->nbands);
        graph_release(g);
    }
    buf_printf(&out,
               "# HELP musicgraph_snapshot_build_seconds Time the last snapshot took to build.\n"
               "# TYPE musicgraph_snapshot_build_seconds gauge\nmusicgraph_snapshot_build_seconds %.6f\n"
               "# HELP musicgraph_snapshot_rebuild_failures Rebuilds failed in a row (0: the snapshot is current).\n"
               "# TYPE musicgraph_snapshot_rebuild_failures gauge\nmusicgraph_snapshot_rebuild_failures %d\n"
               "# HELP musicgraph_layout_seconds Time the last background layout took.\n"
               "# TYPE musicgraph_layout_seconds gauge\nmusicgraph_layout_seconds %.6f\n"
               "# HELP musicgraph_work_backlog Jobs queued or running on the worker threads, per pool.\n"
               "# TYPE musicgraph_work_backlog gauge\nmusicgraph_work_backlog{pool=\"db\"} %zu\n"
               "musicgraph_work_backlog{pool=\"hash\"} %zu\n"
               "# HELP musicgraph_process_resident_memory_bytes Resident memory of the process.\n"
               "# TYPE musicgraph_process_resident_memory_bytes gauge\nmusicgraph_process_resident_memory_bytes %ld\n"
               "# HELP musicgraph_build_info The running binary: version, commit, build date, database schema.\n"
               "# TYPE musicgraph_build_info gauge\n"
               "musicgraph_build_info{version=\"%s\",commit=\"%s\",build_date=\"%s\",schema=\"%s\"} 1\n",
               snapshots_build_seconds(src->snapshots), snapshots_failures(src->snapshots),
               snapshots_layout_seconds(src->snapshots), pool_backlog(src->db), pool_backlog(src->hash),
               resident_bytes(), version_string(), version_commit(), build_date, schema);
    certificates_metrics(src->certs, &out);
    /* What the files said a few seconds ago; a scrape asks for a fresh look. */
    status_refresh_backups(src, 5);
    pthread_mutex_lock(&src->lock);
    int known = src->backup_known;
    backup_info latest = src->backup;
    pthread_mutex_unlock(&src->lock);
    if (known)
        buf_printf(
            &out,
            "# HELP musicgraph_backup_last_timestamp_seconds When the newest local backup was taken.\n"
            "# TYPE musicgraph_backup_last_timestamp_seconds gauge\n"
            "musicgraph_backup_last_timestamp_seconds %lld\n"
            "# HELP musicgraph_backup_last_size_bytes Size of the newest local backup.\n"
            "# TYPE musicgraph_backup_last_size_bytes gauge\nmusicgraph_backup_last_size_bytes %lld\n"
            "# HELP musicgraph_backup_last_verified 1 if the newest backup verified, 0 if never, -1 if it failed.\n"
            "# TYPE musicgraph_backup_last_verified gauge\nmusicgraph_backup_last_verified %d\n",
            (long long)latest.created, (long long)latest.size, latest.verified);
    http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf_cstr(&out), out.len);
    buf_free(&out);
    return 0;
}

void status_register(http_router *rt, status_source *src)
{
    http_route(rt, "GET", "/readyz", get_readyz, src);
    http_route(rt, "GET", "/metrics", get_metrics, src);
}
