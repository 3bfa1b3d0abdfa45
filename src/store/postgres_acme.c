/*
 * postgres_acme.c — the ACME account key, certificate chain and key that
 * several instances on one database share (see store.h), in table
 * acme_state, and the session advisory lock that lets exactly one of them
 * place an order while the others wait and then take its certificate.
 */
#include "store/postgres_internal.h"

#include "core/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int pg_acme_get(store *s, const char *name, char **pem, int *found, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    const char *params[] = {name};
    PGresult *r = pg_run(p, "SELECT pem FROM acme_state WHERE name = $1", 1, params);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading the ACME state", err, errlen);
    *found = PQntuples(r) == 1;
    *pem = *found ? pg_dup(r, 0, 0) : NULL;
    PQclear(r);
    return 0;
}

int pg_acme_put(store *s, const char *const *names, const char *const *pems, size_t n, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    if (pg_begin(p, err, errlen) != 0)
        return -1;
    pg_num now = pg_i64((int64_t)time(NULL));
    for (size_t i = 0; i < n; i++) {
        const char *params[] = {names[i], pems[i], now.s};
        if (pg_cmd(p,
                   "INSERT INTO acme_state (name, pem, updated_at) VALUES ($1, $2, $3::bigint) "
                   "ON CONFLICT (name) DO UPDATE SET pem = EXCLUDED.pem, updated_at = EXCLUDED.updated_at",
                   3, params, "storing the ACME state", err, errlen) != 0) {
            pg_rollback(p);
            return -1;
        }
    }
    return pg_commit(p, "storing the ACME state", err, errlen);
}

int pg_acme_lock(store *s, int take, int *got, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    pg_num key = pg_i64(PG_LOCK_ACME);
    const char *params[] = {key.s};
    int64_t ok = 0;
    int rc =
        pg_int(p, take ? "SELECT pg_try_advisory_lock($1::bigint)::int" : "SELECT pg_advisory_unlock($1::bigint)::int",
               1, params, &ok, err, errlen);
    if (got)
        *got = rc == 0 && ok == 1;
    return rc;
}
