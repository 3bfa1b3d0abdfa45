/*
 * app.h — the running server's composition root: it puts the layers
 * together and owns what lives as long as the process.
 *
 * app_start creates the state directory and the secret key (or checks the
 * configured one), opens the database, backs it up and applies migrations,
 * seeds an empty database when asked, creates the first admin when there is
 * none, builds the first snapshot and starts the snapshot publisher and
 * layout threads (snapshots.h), starts the worker pools (pool.h: one for
 * the database, one for password hashes) and registers every route. The
 * handlers run their database and hashing work on those pools and ask the
 * publisher to show their writes (api.h). While the server runs, app_tick
 * (main thread, every 250 ms) asks the publisher to look for changes made by
 * other processes, and now and then has a worker refresh the backup gauges.
 * app_stop runs after the event loops stopped: what is queued finishes.
 */
#ifndef MG_SERVER_APP_H
#define MG_SERVER_APP_H

#include "core/config.h"
#include "http/http.h"

typedef struct app app;

int app_start(const config *cfg, app **out, char *err, size_t errlen);
http_router *app_router(app *a);
void app_tick(void *a);
void app_stop(app *a);

#endif
