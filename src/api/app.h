/*
 * app.h — the running application: store, snapshot life cycle, routes.
 *
 * app_start opens the database, applies migrations, seeds an empty database
 * when asked, builds the first snapshot and registers every route. While the
 * server runs, app_tick (main thread, every 250 ms) compares the database's
 * data version with the snapshot's and rebuilds off the request path when
 * another process or a write changed the data.
 */
#ifndef MG_APP_H
#define MG_APP_H

#include "core/config.h"
#include "graph/snapshot.h"
#include "http/http.h"
#include "store/store.h"

typedef struct app app;

int app_start(const config *cfg, app **out, char *err, size_t errlen);
http_router *app_router(app *a);
void app_tick(void *a);
void app_stop(app *a);
/* Rebuilds the snapshot from the database now and publishes it. */
int app_rebuild(app *a, char *err, size_t errlen);

/* Route registration, one function per handler file. */
void api_register_read(http_router *rt, app *a);
void api_register_pages(http_router *rt, app *a);
/* Renders the explorer page for a snapshot (attached as an extra). */
int pages_attach(graph_snapshot *s);
int pages_init(char *err, size_t errlen);

#endif
