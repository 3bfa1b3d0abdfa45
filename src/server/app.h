/*
 * app.h — the running server's composition root: it puts the layers
 * together and owns what lives as long as the process.
 *
 * app_start creates the state directory and the secret key (or checks the
 * configured one), opens the database, backs it up and applies migrations,
 * seeds an empty database when asked, creates the first admin when there is
 * none, builds the first snapshot, starts the layout thread and registers
 * every route. While the server runs, app_tick (main thread, every 250 ms)
 * compares the database's data version with the snapshot's and rebuilds
 * when another process changed the data; a write handler refreshes right
 * after its commit (api.h), so its response already sees it. Both rebuild
 * on the thread that asks, one at a time: today that is the main thread
 * or a worker thread of the HTTP server (see docs/architecture.md).
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
