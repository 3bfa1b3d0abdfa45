/*
 * snapshots.h — the life cycle of the published snapshot: building it from
 * the database, publishing it, laying it out, and telling writers when
 * their change is visible.
 *
 * All rebuilds run on one thread of their own (the publisher), never on an
 * event loop or the main thread. It rebuilds when asked: by a write that
 * wants its change shown before it answers (snapshots_show), or by the
 * main thread's poll for changes made by other processes (snapshots_poll).
 * Requests that arrive during a rebuild are folded into the next one: ten
 * writes in a burst cost at most two rebuilds, not ten. A rebuild that fails
 * (a transient SQLITE_BUSY, a full disk) is retried with a growing delay
 * (50 ms doubling to 5 s) until one succeeds; writes still waiting after
 * the first few retries are told so, and answer that their change was saved
 * but is not shown yet.
 *
 * The layout thread places new nodes in the background and republishes the
 * same data with positions; it and the publisher never build at once.
 */
#ifndef MG_SERVER_SNAPSHOTS_H
#define MG_SERVER_SNAPSHOTS_H

#include "core/config.h"

#include <stdint.h>

typedef struct snapshots snapshots;

/* Opens its own database connection, builds and publishes the first
 * snapshot (on the calling thread), then starts the publisher and the
 * layout threads. */
int snapshots_start(const config *cfg, snapshots **out, char *err, size_t errlen);
/* Asks the publisher to compare the database's data version with the
 * snapshot's and rebuild when they differ. Returns at once. */
void snapshots_poll(snapshots *s);
/* Calls done(arg, 1) once a snapshot of data version >= version is
 * published (at once if it already is), or done(arg, 0) when rebuilding
 * keeps failing. done runs on the publisher's thread, or on the caller's. */
typedef void (*snapshots_shown_fn)(void *arg, int shown);
void snapshots_show(snapshots *s, int64_t version, snapshots_shown_fn done, void *arg);
/* Seconds the last build and the last background layout took. */
double snapshots_build_seconds(const snapshots *s);
double snapshots_layout_seconds(const snapshots *s);
/* Rebuilds that failed since the last one that worked (for /metrics). */
int snapshots_failures(snapshots *s);
void snapshots_stop(snapshots *s);

#endif
