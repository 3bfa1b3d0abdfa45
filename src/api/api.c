/*
 * api.c — the handlers' database connections and the refresh after a write
 * (see api.h).
 */
#include "api/api.h"

static __thread store *thread_store;

store *api_store(api *a, char *err, size_t errlen)
{
    if (!thread_store && store_open(a->cfg->database_url, &thread_store, err, errlen) != 0)
        return NULL;
    return thread_store;
}

int api_refresh(api *a, store *s, char *err, size_t errlen) { return a->refresh(a, s, err, errlen); }
