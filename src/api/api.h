/*
 * api.h — what the HTTP handlers of src/api/ need from the server that runs
 * them, and the functions that register their routes.
 *
 * The server (src/server/app.c) owns the snapshot's life cycle, the secret
 * key and the database; it fills in an api and registers each handler
 * file's routes with it. The handlers see the configuration, the key that
 * session tokens are hashed with, this thread's database connection, and
 * one call back up: refresh, right after a committed write, so that the
 * response and every later read already show the change.
 */
#ifndef MG_API_H
#define MG_API_H

#include "core/config.h"
#include "http/http.h"
#include "store/store.h"

typedef struct api api;

struct api {
    const config *cfg;
    unsigned char session_key[32];
    /* Rebuilds and publishes the snapshot if the database moved past it. */
    int (*refresh)(api *a, store *s, char *err, size_t errlen);
};

/* This thread's database connection (opened on first use), or NULL with err:
 * each worker thread keeps its own, as SQLite wants. */
store *api_store(api *a, char *err, size_t errlen);
/* After a commit: a->refresh. */
int api_refresh(api *a, store *s, char *err, size_t errlen);

/* Route registration, one function per handler file. */
void api_register_read(http_router *rt, api *a);
void api_register_pages(http_router *rt, api *a);
void api_register_session(http_router *rt, api *a);
void api_register_edit(http_router *rt, api *a);
void api_register_users(http_router *rt, api *a);

#endif
