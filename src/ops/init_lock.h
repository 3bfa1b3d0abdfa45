/*
 * init_lock.h — initializing a state directory one process at a time.
 *
 * Migrations, the bundled dataset and the first admin are each "look, then
 * write": two processes started together on an empty directory both see no
 * tables, no map, no admin, and one of them dies ("table genres already
 * exists", "database is locked", a misleading "no active admin"). So
 * whatever initializes — `serve` at start, `migrate`, `seed`, `user`, the
 * migrations of restore and import — first takes an exclusive lock (flock)
 * on STATE_DIR/init.lock, and holds it only while initializing: serving
 * never waits on it, and several processes serving one database stay
 * allowed. The lock ends with the process, so a crash cannot leave it held.
 */
#ifndef MG_INIT_LOCK_H
#define MG_INIT_LOCK_H

#include "core/config.h"

#include <stddef.h>

/* Creates the state directory if needed and waits for the lock (saying so
 * in the log when another process holds it). *fd is for init_unlock. */
int init_lock(const config *cfg, int *fd, char *err, size_t errlen);
void init_unlock(int fd);

#endif
