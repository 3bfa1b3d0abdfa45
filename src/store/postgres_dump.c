/*
 * postgres_dump.c — whole-database copies for backup, restore and import in
 * PostgreSQL (see store.h: store_dump, store_restore), in the same portable
 * form as SQLite's, so a backup taken on one backend restores on the other.
 *
 * A dump is one REPEATABLE READ transaction: every query in it sees the
 * database at one instant, whatever other instances write meanwhile. A
 * restore is one transaction that takes the map and account locks first
 * (the ones edits and account changes take), checks that nothing changed
 * since the caller read the database, replaces the parts, moves the id
 * sequences past the restored ids, and bumps the data version (which
 * notifies every instance). The deferred constraints and rule triggers
 * check the result once, at commit.
 */
#include "store/postgres_internal.h"

#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dump_audit(pg_store *p, store_dump_t *out, char *err, size_t errlen)
{
    PGresult *r = pg_run(
        p, "SELECT id, at, actor, action, entity_type, entity_id, before_json, after_json FROM audit_log ORDER BY id",
        0, NULL);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading the audit log", err, errlen);
    int n = PQntuples(r);
    out->audit = xcalloc(n ? (size_t)n : 1, sizeof *out->audit);
    for (int i = 0; i < n; i++)
        pg_read_audit(r, i, &out->audit[i]);
    out->naudit = (size_t)n;
    PQclear(r);
    return 0;
}

static int dump_all(pg_store *p, store_dump_t *out, char *err, size_t errlen)
{
    int exists;
    if (pg_table_exists(p, "schema_migrations", &exists, err, errlen) != 0)
        return -1;
    if (exists) {
        PGresult *r = pg_run(p, "SELECT coalesce(max(name), '') FROM schema_migrations", 0, NULL);
        if (!pg_ok(r))
            return pg_fail(p, r, "reading schema_migrations", err, errlen);
        pg_copy(r, 0, 0, out->schema_version, sizeof out->schema_version);
        PQclear(r);
    }
    if (pg_table_exists(p, "genres", &exists, err, errlen) != 0)
        return -1;
    if (exists &&
        (pg_load_map(p, &out->map, err, errlen) != 0 ||
         pg_int(p, "SELECT version FROM data_version WHERE id = 1", 0, NULL, &out->data_version, err, errlen) != 0 ||
         pg_int(p, "SELECT count(*) FROM genres", 0, NULL, &out->counts.genres, err, errlen) != 0 ||
         pg_int(p, "SELECT count(*) FROM genre_parents", 0, NULL, &out->counts.genre_parents, err, errlen) != 0 ||
         pg_int(p, "SELECT count(*) FROM genre_links", 0, NULL, &out->counts.genre_links, err, errlen) != 0 ||
         pg_int(p, "SELECT count(*) FROM bands", 0, NULL, &out->counts.bands, err, errlen) != 0 ||
         pg_int(p, "SELECT count(*) FROM band_genres", 0, NULL, &out->counts.band_genres, err, errlen) != 0))
        return -1;
    if (pg_table_exists(p, "users", &out->has_users, err, errlen) != 0)
        return -1;
    if (out->has_users && (pg_users(p, "id", &out->users, &out->nusers, err, errlen) != 0 ||
                           pg_int(p, "SELECT count(*) FROM users", 0, NULL, &out->counts.users, err, errlen) != 0))
        return -1;
    if (pg_table_exists(p, "audit_log", &out->has_audit, err, errlen) != 0)
        return -1;
    if (out->has_audit &&
        (dump_audit(p, out, err, errlen) != 0 ||
         pg_int(p, "SELECT count(*) FROM audit_log", 0, NULL, &out->counts.audit_log, err, errlen) != 0 ||
         pg_int(p, "SELECT max(id) FROM audit_log", 0, NULL, &out->audit_last_id, err, errlen) != 0))
        return -1;
    return 0;
}

int pg_dump(store *s, store_dump_t *out, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    memset(out, 0, sizeof *out);
    if (pg_cmd(p, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, "starting the dump", err, errlen) != 0)
        return -1;
    p->in_tx = 1;
    int rc = dump_all(p, out, err, errlen);
    if (rc == 0)
        rc = pg_commit(p, "reading the database", err, errlen);
    else
        pg_rollback(p);
    if (rc != 0)
        store_dump_free(out);
    return rc;
}

/* The accounts as the guard compares them: everything but the last login. */
static int same_user(const store_user *a, const store_user *b)
{
    return a->id == b->id && strcmp(a->username, b->username) == 0 && strcmp(a->email, b->email) == 0 &&
           strcmp(a->password_hash, b->password_hash) == 0 && a->is_admin == b->is_admin && a->disabled == b->disabled;
}

/* MG_ERR_CONFLICT when the database is no longer what expected was read
 * as. The locks are held, so nothing that matters can change after this. */
static int check_unchanged(pg_store *p, const store_dump_t *expected, char *err, size_t errlen)
{
    store_dump_t now;
    memset(&now, 0, sizeof now);
    int rc = pg_int(p, "SELECT version FROM data_version WHERE id = 1", 0, NULL, &now.data_version, err, errlen);
    if (rc == 0 && expected->has_audit)
        rc = pg_int(p, "SELECT max(id) FROM audit_log", 0, NULL, &now.audit_last_id, err, errlen);
    if (rc == 0 && expected->has_users)
        rc = pg_users(p, "id", &now.users, &now.nusers, err, errlen);
    int same = now.data_version == expected->data_version && now.audit_last_id == expected->audit_last_id &&
               now.nusers == expected->nusers;
    for (size_t i = 0; rc == 0 && same && i < now.nusers; i++)
        same = same_user(&now.users[i], &expected->users[i]);
    if (rc == 0 && !same) {
        snprintf(err, errlen,
                 "the data changed while this command ran (data version %lld, it read %lld; or an account or the "
                 "audit log changed): nothing was written; run it again",
                 (long long)now.data_version, (long long)expected->data_version);
        rc = MG_ERR_CONFLICT;
    }
    store_dump_free(&now);
    return rc;
}

static int put_user(pg_store *p, const store_user *u, int keep_id, int64_t *added, char *err, size_t errlen)
{
    char what[160];
    snprintf(what, sizeof what, "restoring user %.80s", u->username);
    pg_num id = pg_i64(u->id);
    const char *params[] = {id.s,
                            u->username,
                            u->email,
                            u->password_hash,
                            u->is_admin ? "1" : "0",
                            u->disabled ? "1" : "0",
                            u->created_at[0] ? u->created_at : NULL,
                            u->last_login_at[0] ? u->last_login_at : NULL};
    if (keep_id)
        return pg_cmd(p,
                      "INSERT INTO users (id, username, email, password_hash, is_admin, disabled, created_at, "
                      "last_login_at) VALUES ($1::bigint, $2, $3, $4, $5::integer, $6::integer, "
                      "coalesce($7, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')), $8)",
                      8, params, what, err, errlen);
    PGresult *r = pg_run(p,
                         "INSERT INTO users (username, email, password_hash, is_admin, disabled, created_at, "
                         "last_login_at) SELECT $2, $3, $4, $5::integer, $6::integer, "
                         "coalesce($7, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')), $8 "
                         "WHERE $1::bigint IS NOT NULL AND NOT EXISTS "
                         "(SELECT 1 FROM users WHERE username = $2 OR lower(email) = lower($3))",
                         8, params);
    if (!pg_ok(r))
        return pg_fail(p, r, what, err, errlen);
    if (added)
        *added += strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

static int put_audit(pg_store *p, const store_audit *a, char *err, size_t errlen)
{
    char what[160];
    snprintf(what, sizeof what, "restoring audit entry %lld", (long long)a->id);
    pg_num id = pg_i64(a->id);
    const char *params[] = {id.s,           a->at,        a->actor,       a->action,
                            a->entity_type, a->entity_id, a->before_json, a->after_json};
    return pg_cmd(p,
                  "INSERT INTO audit_log (id, at, actor, action, entity_type, entity_id, before_json, after_json) "
                  "VALUES ($1::bigint, $2, $3, $4, $5, $6, $7, $8)",
                  8, params, what, err, errlen);
}

static int restore_rows(pg_store *p, const store_dump_t *d, unsigned what, const store_dump_t *expected,
                        int64_t *users_added, char *err, size_t errlen)
{
    if (pg_lock(p, PG_LOCK_MAP, err, errlen) != 0 || pg_lock(p, PG_LOCK_USERS, err, errlen) != 0)
        return -1;
    int rc = expected ? check_unchanged(p, expected, err, errlen) : 0;
    if (rc != 0)
        return rc;
    if ((what & STORE_RESTORE_MAP) && (rc = pg_write_map(p, &d->map, err, errlen)) != 0)
        return rc;
    if (what & STORE_RESTORE_USERS) {
        /* Sessions point at user ids that may now name somebody else. */
        if (pg_cmd(p, "DELETE FROM sessions; DELETE FROM login_attempts; DELETE FROM users", 0, NULL,
                   "emptying the accounts", err, errlen) != 0)
            return -1;
        for (size_t i = 0; i < d->nusers; i++)
            if ((rc = put_user(p, &d->users[i], 1, NULL, err, errlen)) != 0)
                return rc;
    }
    if (what & STORE_RESTORE_ADD_USERS)
        for (size_t i = 0; i < d->nusers; i++)
            if ((rc = put_user(p, &d->users[i], 0, users_added, err, errlen)) != 0)
                return rc;
    if (what & STORE_RESTORE_AUDIT) {
        if (pg_cmd(p, "DELETE FROM audit_log", 0, NULL, "emptying the audit log", err, errlen) != 0)
            return -1;
        for (size_t i = 0; i < d->naudit; i++)
            if ((rc = put_audit(p, &d->audit[i], err, errlen)) != 0)
                return rc;
    }
    /* Rows inserted with their ids leave the identity sequences behind them. */
    if (pg_cmd(p,
               "SELECT setval(pg_get_serial_sequence('users', 'id'), coalesce((SELECT max(id) FROM users), 0) + 1, "
               "false), setval(pg_get_serial_sequence('audit_log', 'id'), "
               "coalesce((SELECT max(id) FROM audit_log), 0) + 1, false)",
               0, NULL, "moving the id sequences", err, errlen) != 0)
        return -1;
    return pg_bump_version(p, err, errlen);
}

int pg_restore(store *s, const store_dump_t *d, unsigned what, const store_dump_t *expected, int64_t *users_added,
               char *err, size_t errlen)
{
    pg_store *p = pg(s);
    if (users_added)
        *users_added = 0;
    if (pg_begin(p, err, errlen) != 0)
        return -1;
    int rc = restore_rows(p, d, what, expected, users_added, err, errlen);
    if (rc != 0) {
        pg_rollback(p);
        return rc;
    }
    return pg_commit(p, "the database refused the restored data", err, errlen);
}
