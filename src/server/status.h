/*
 * status.h — /readyz and /metrics: the state of the running process for
 * operators and their tools.
 *
 * What they report beyond the layers' own metrics (http, store) comes from
 * the composition root, which fills in a status_source and updates it.
 */
#ifndef MG_SERVER_STATUS_H
#define MG_SERVER_STATUS_H

#include "api/api.h"
#include "http/http.h"

typedef struct status_source {
    api *api;                      /* the configuration and this thread's database connection */
    _Atomic double build_seconds;  /* the last snapshot's build */
    _Atomic double layout_seconds; /* the last background layout (0 before the first) */
} status_source;

void status_register(http_router *rt, status_source *src);

#endif
