/*
 * sqlite_backend.c — the SQLite backend as store.c sees it: opening a
 * connection and the table of its operations (backend.h).
 *
 * One connection per store handle, in WAL mode so readers never block the
 * writer, with foreign keys on and a busy timeout so that a CLI command and
 * the server can share the file.
 */
#include "store/sqlite_internal.h"
#include "core/errors.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void sqlite_close(store *s)
{
    sqlite3_close(sq_db(s));
    free(s);
}

#define SQLITE_OPERATION(name, params, args) .name = sq_##name,

static const struct store_ops sqlite_ops = {.name = "sqlite",
                                            .close = sqlite_close,
                                            /* .NAME = sq_NAME for every operation */
                                            STORE_OPERATIONS(SQLITE_OPERATION)};

int sqlite_store_open(const char *path, int readonly, store **out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
    if (readonly && access(path, F_OK) != 0) {
        snprintf(err, errlen, "there is no SQLite database at %s: %s", path, strerror(errno));
        return -1;
    }
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open SQLite database %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    char what[200];
    /* A small page cache: the map is read once per change into the snapshot,
     * so every connection caching megabytes of pages would only cost memory. */
    /* Read-only: the journal mode stays the file's (a server made it WAL). */
    if (sq_exec(db,
                readonly ? "PRAGMA foreign_keys = ON; PRAGMA cache_size = -256;"
                         : "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; "
                           "PRAGMA cache_size = -256;",
                what, sizeof what) != 0) {
        snprintf(err, errlen, "cannot use SQLite database %s: %s", path, what);
        sqlite3_close(db);
        return -1;
    }
    sqlite_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
    s->db = db;
    *out = &s->base;
    return 0;
}

/* One machine, one instance: the ACME state stays in the state directory. */
static int sq_acme_absent(char *err, size_t errlen)
{
    snprintf(err, errlen, "on SQLite the ACME state is kept in the state directory");
    return MG_ERR_NOT_FOUND;
}

int sq_acme_get(store *s, const char *name, char **pem, int *found, char *err, size_t errlen)
{
    (void)s, (void)name, (void)pem, (void)found;
    return sq_acme_absent(err, errlen);
}

int sq_acme_put(store *s, const char *const *names, const char *const *pems, size_t n, char *err, size_t errlen)
{
    (void)s, (void)names, (void)pems, (void)n;
    return sq_acme_absent(err, errlen);
}

int sq_acme_lock(store *s, int take, int *got, char *err, size_t errlen)
{
    (void)s, (void)take, (void)got;
    return sq_acme_absent(err, errlen);
}
