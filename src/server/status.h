/*
 * status.h — /readyz and /metrics: the state of the running process for
 * operators and their tools.
 *
 * What they report beyond the layers' own metrics (http, store) comes from
 * the composition root, which fills in a status_source. Nothing here runs
 * slow work on an event loop: /readyz asks the database from a worker
 * thread (a job, api.h), and /metrics reads the backup gauges from a cache
 * that a worker refreshes (listing backups opens and inflates every file),
 * never the files themselves.
 */
#ifndef MG_SERVER_STATUS_H
#define MG_SERVER_STATUS_H

#include "api/api.h"
#include "http/http.h"
#include "ops/backup_target.h"
#include "server/pool.h"
#include "server/certificates.h"
#include "server/snapshots.h"

#include <pthread.h>
#include <time.h>

typedef struct status_source {
    api *api;
    snapshots *snapshots;
    pool *db, *hash;     /* the worker pools, for their backlog */
    certificates *certs; /* ACME certificates, or NULL */
    /* The newest local backup, as last read from the files. */
    pthread_mutex_t lock;
    int backup_known;
    backup_info backup;
    time_t backup_read_at;
    int backup_reading; /* a refresh is queued or running */
} status_source;

void status_register(http_router *rt, status_source *src);
/* Has a worker read the newest local backup again when the cache is older
 * than max_age_s (and no refresh is under way). Returns at once. */
void status_refresh_backups(status_source *src, int max_age_s);

#endif
