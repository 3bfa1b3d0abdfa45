/*
 * postgres_keys.c — the public keys that signed this database's backups, in
 * table backup_keys (migration 0005; see store.h), shared by every instance
 * on the database. A schema that predates the table answers
 * MG_ERR_NOT_FOUND (a pre-migration backup is signed before it exists).
 */
#include "store/postgres_internal.h"

#include "core/buf.h"
#include "core/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int keys_table(pg_store *p, char *err, size_t errlen)
{
    int exists = 0;
    if (pg_table_exists(p, "backup_keys", &exists, err, errlen) != 0)
        return -1;
    if (!exists) {
        snprintf(err, errlen, "the database's schema predates recorded backup keys (migration 0005)");
        return MG_ERR_NOT_FOUND;
    }
    return 0;
}

int pg_backup_keys(store *s, char **text, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    *text = NULL;
    int rc = keys_table(p, err, errlen);
    if (rc != 0)
        return rc;
    PGresult *r = pg_run(p, "SELECT public_key, comment FROM backup_keys ORDER BY added_at, public_key", 0, NULL);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading the backup keys", err, errlen);
    buf out = BUF_INIT;
    for (int i = 0; i < PQntuples(r); i++)
        buf_printf(&out, "%s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    if (buf_failed(&out)) {
        buf_free(&out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *text = buf_steal(&out, NULL);
    return 0;
}

int pg_backup_key_add(store *s, const char *key, const char *comment, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    int rc = keys_table(p, err, errlen);
    if (rc != 0)
        return rc;
    pg_num now = pg_i64((int64_t)time(NULL));
    const char *params[] = {key, comment, now.s};
    return pg_cmd(p,
                  "INSERT INTO backup_keys (public_key, comment, added_at) VALUES ($1, $2, $3::bigint) "
                  "ON CONFLICT (public_key) DO NOTHING",
                  3, params, "recording the backup key", err, errlen);
}
