/*
 * app.h — the running application: store, snapshot life cycle, routes.
 *
 * app_start opens the database, applies migrations, seeds an empty database
 * when asked, creates the first admin when there is none, builds the first
 * snapshot and registers every route. While the server runs, app_tick (main
 * thread, every 250 ms) compares the database's data version with the
 * snapshot's and rebuilds when another process changed the data; a write
 * handler refreshes right after its commit, so its response already sees it.
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
const config *app_config(app *a);
void app_tick(void *a);
void app_stop(app *a);
/* This thread's database connection (opened on first use), or NULL with err. */
store *app_store(app *a, char *err, size_t errlen);
/* Rebuilds and publishes the snapshot if the database moved past it. */
int app_refresh(app *a, store *s, char *err, size_t errlen);

/* 32-byte key for hashing session tokens (from MUSICGRAPH_SECRET_KEY). */
const unsigned char *app_session_key(app *a);
/* Seconds the last snapshot took to build. */
double app_last_build_seconds(app *a);
/* Seconds the last background layout took (0 before the first). */
double app_last_layout_seconds(app *a);

/* Route registration, one function per handler file. */
void api_register_ops(http_router *rt, app *a);
void api_register_read(http_router *rt, app *a);
void api_register_pages(http_router *rt, app *a);
void api_register_session(http_router *rt, app *a);
void api_register_edit(http_router *rt, app *a);
void api_register_users(http_router *rt, app *a);
/* Renders the explorer page for a snapshot (attached as an extra). */
int pages_attach(graph_snapshot *s);
int pages_init(char *err, size_t errlen);
/* Renders an embedded page template (login.html, admin.html, …) with
 * @@ASSET:…@@ and the given @@KEY@@ values (escaped); kv ends with NULL. */
void pages_render_template(const char *name, const char *const *kv, buf *out);

#endif
