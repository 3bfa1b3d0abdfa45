/*
 * copy.h — moving a whole site from one database to another: `musicgraph
 * copy --from URL --to URL` (SQLite to PostgreSQL, the reverse, or between
 * two databases of one backend).
 *
 * The map, the accounts (password hashes included) and the audit log travel
 * through the path backups take, without a file: the source's store_dump,
 * every rule of backup_check_rules, and the target's store_restore, one
 * transaction that leaves the target holding exactly the source or what it
 * held before. The public keys recorded as having signed the source's
 * backups (backup_keys.h) are recorded in the target too. Sessions and
 * login attempts do not travel (see copy.c).
 */
#ifndef MG_OPS_COPY_H
#define MG_OPS_COPY_H

#include "core/config.h"
#include "store/records.h"

#include <stddef.h>

typedef struct copy_request {
    const char *from, *to; /* database URLs */
    int replace;           /* the target may hold data: it becomes exactly the source's */
    int safety;            /* with replace: back the target up first (into the backup directory) */
} copy_request;

typedef struct copy_result {
    char from[320], to[320]; /* the databases as store_describe names them */
    store_counts counts;     /* what the target holds now */
    char safety_path[4200];  /* the safety backup of what replace replaced, or "" */
} copy_result;

/* Copies req->from into req->to. Nothing is written to the target before
 * the source was read whole and passed every rule, and nothing at all when
 * the target holds data and replace is not set. The target is migrated
 * first, under the initialization lock of cfg's state directory (and
 * PostgreSQL's advisory lock), as `migrate` does. On failure err says why,
 * naming the database (never a password), and the target's data is
 * unchanged. */
int copy_site(const config *cfg, const copy_request *req, copy_result *res, char *err, size_t errlen);

int cmd_copy(config *cfg, int argc, char **argv);
extern const char cmd_copy_usage[];

#endif
