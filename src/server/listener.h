/*
 * listener.h — hears other instances' writes as they commit.
 *
 * On PostgreSQL every committed write sends NOTIFY musicgraph_data; a
 * thread of this module LISTENs on a connection of its own and asks the
 * snapshot publisher to look (snapshots_poll) the moment one arrives, so an
 * edit made through another instance is served here without waiting for
 * the main thread's 250 ms poll, which stays as the fallback for a
 * notification missed while the connection was down. On SQLite there is
 * nothing to hear: no thread is started.
 */
#ifndef MG_SERVER_LISTENER_H
#define MG_SERVER_LISTENER_H

#include "core/config.h"
#include "server/snapshots.h"

typedef struct listener listener;

/* *out is NULL (and 0 returned) when the backend has no notifications. */
int listener_start(const config *cfg, snapshots *snaps, listener **out, char *err, size_t errlen);
/* Stops the thread (within a second) and closes its connection. */
void listener_stop(listener *l);

#endif
