/*
 * postgres_accounts.c — users, sessions, login attempts and the audit log
 * in PostgreSQL (see store.h). They live in the shared database, so a
 * session opened on one instance is valid on every other one and the login
 * rate limit counts the attempts made on all of them.
 *
 * A change of a user takes PG_LOCK_USERS (the lock the "last admin" trigger
 * takes at commit) and the row lock first, so two instances changing
 * accounts at once run one after the other and neither undoes the other.
 */
#include "store/postgres_internal.h"

#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int insert_user(pg_store *p, store_user *u, char *err, size_t errlen)
{
    const char *params[] = {u->username, u->email, u->password_hash, u->is_admin ? "1" : "0", u->disabled ? "1" : "0"};
    PGresult *r = pg_run(p,
                         "INSERT INTO users (username, email, password_hash, is_admin, disabled) "
                         "VALUES ($1, $2, $3, $4::integer, $5::integer) RETURNING id",
                         5, params);
    if (!pg_ok(r)) {
        int rc = pg_fail(p, r, "creating the user", err, errlen);
        if (rc == MG_ERR_CONFLICT)
            snprintf(err, errlen, "the username or email is already taken");
        return rc;
    }
    u->id = pg_get_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

int pg_user_create(store *s, store_user *u, store_user_fn fn, void *ctx, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    store_user saved;
    store_audit audit;
    memset(&audit, 0, sizeof audit);
    if (pg_begin(p, err, errlen) != 0)
        return -1;
    int found = 0;
    int rc = insert_user(p, u, err, errlen);
    if (rc == 0)
        rc = pg_user_by_id(s, u->id, &saved, &found, err, errlen);
    if (rc == 0 && fn)
        rc = fn(NULL, &saved, &audit, ctx) == 0 ? 0 : MG_ERR_DECLINED;
    if (rc == 0 && audit.action[0])
        rc = pg_audit_insert(p, &audit, err, errlen);
    store_audit_clear(&audit);
    if (rc != 0) {
        pg_rollback(p);
        return rc;
    }
    rc = pg_commit(p, "saving the user", err, errlen);
    if (rc == MG_ERR_CONFLICT)
        snprintf(err, errlen, "the username or email is already taken");
    if (rc == 0)
        *u = saved;
    return rc;
}

static int user_where(store *s, const char *where, const char *param, store_user *out, int *found, char *err,
                      size_t errlen)
{
    pg_store *p = pg(s);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT " PG_USER_COLUMNS " FROM users WHERE %s", where);
    const char *params[] = {param};
    PGresult *r = pg_run(p, sql, 1, params);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading the user", err, errlen);
    *found = PQntuples(r) > 0;
    if (*found)
        pg_read_user(r, 0, 0, out);
    PQclear(r);
    return 0;
}

int pg_user_by_name(store *s, const char *username, store_user *out, int *found, char *err, size_t errlen)
{
    return user_where(s, "username = $1", username, out, found, err, errlen);
}

int pg_user_by_id(store *s, int64_t id, store_user *out, int *found, char *err, size_t errlen)
{
    pg_num n = pg_i64(id);
    return user_where(s, "id = $1::bigint", n.s, out, found, err, errlen);
}

/* Reads every user, ordered by order_by, into *users. */
int pg_users(pg_store *p, const char *order_by, store_user **users, size_t *count, char *err, size_t errlen)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT " PG_USER_COLUMNS " FROM users ORDER BY %s", order_by);
    *users = NULL;
    *count = 0;
    PGresult *r = pg_run(p, sql, 0, NULL);
    if (!pg_ok(r))
        return pg_fail(p, r, "listing users", err, errlen);
    int n = PQntuples(r);
    *users = xcalloc(n ? (size_t)n : 1, sizeof **users);
    for (int i = 0; i < n; i++)
        pg_read_user(r, i, 0, &(*users)[i]);
    *count = (size_t)n;
    PQclear(r);
    return 0;
}

int pg_user_list(store *s, store_user **users, size_t *count, char *err, size_t errlen)
{
    return pg_users(pg(s), "username", users, count, err, errlen);
}

/* Writes the columns of after that differ from before, one statement. */
static int write_user_changes(pg_store *p, const store_user *before, const store_user *after, char *err, size_t errlen)
{
    int changed[] = {strcmp(before->email, after->email) != 0, strcmp(before->password_hash, after->password_hash) != 0,
                     !before->is_admin != !after->is_admin, !before->disabled != !after->disabled};
    const char *cols[] = {"email = $%d", "password_hash = $%d", "is_admin = $%d::integer", "disabled = $%d::integer"};
    const char *values[] = {after->email, after->password_hash, after->is_admin ? "1" : "0",
                            after->disabled ? "1" : "0"};
    const char *params[5];
    char sql[200] = "UPDATE users SET ", part[40];
    int n = 0;
    for (int i = 0; i < 4; i++)
        if (changed[i]) {
            if (n > 0)
                strcat(sql, ", ");
            snprintf(part, sizeof part, cols[i], n + 1);
            strcat(sql, part);
            params[n++] = values[i];
        }
    if (n == 0)
        return 0;
    pg_num id = pg_i64(before->id);
    snprintf(part, sizeof part, " WHERE id = $%d::bigint", n + 1);
    strcat(sql, part);
    params[n++] = id.s;
    int rc = pg_cmd(p, sql, n, params, "updating the user", err, errlen);
    if (rc == MG_ERR_CONFLICT)
        snprintf(err, errlen, "the email is already taken");
    return rc;
}

int pg_user_edit(store *s, int64_t id, store_user_fn fn, void *ctx, store_user *after, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    store_user before, next;
    store_audit audit;
    memset(&audit, 0, sizeof audit);
    if (pg_begin(p, err, errlen) != 0)
        return -1;
    int found = 0;
    int rc = pg_lock(p, PG_LOCK_USERS, err, errlen);
    if (rc == 0) {
        pg_num n = pg_i64(id);
        rc = user_where(s, "id = $1::bigint FOR UPDATE", n.s, &before, &found, err, errlen);
    }
    if (rc == 0 && !found) {
        snprintf(err, errlen, "there is no user with id %lld", (long long)id);
        rc = MG_ERR_NOT_FOUND;
    }
    if (rc == 0) {
        next = before;
        rc = fn(&before, &next, &audit, ctx) == 0 ? 0 : MG_ERR_DECLINED;
    }
    if (rc == 0)
        rc = write_user_changes(p, &before, &next, err, errlen);
    if (rc == 0 && audit.action[0])
        rc = pg_audit_insert(p, &audit, err, errlen);
    /* A disabled account or a new password ends every session of the user. */
    if (rc == 0 && ((next.disabled && !before.disabled) || strcmp(next.password_hash, before.password_hash) != 0))
        rc = pg_sessions_delete_user(s, id, err, errlen);
    store_audit_clear(&audit);
    if (rc != 0) {
        pg_rollback(p);
        return rc;
    }
    /* The last-admin trigger runs at commit. */
    rc = pg_commit(p, "saving the user", err, errlen);
    if (rc == MG_ERR_CONFLICT && strstr(err, "last admin"))
        snprintf(err, errlen, "the last admin cannot be demoted or disabled");
    else if (rc == MG_ERR_CONFLICT)
        snprintf(err, errlen, "the email is already taken");
    if (rc == 0 && after)
        *after = next;
    return rc;
}

int pg_user_logged_in(store *s, int64_t id, char *err, size_t errlen)
{
    pg_num n = pg_i64(id);
    const char *params[] = {n.s};
    return pg_cmd(
        pg(s),
        "UPDATE users SET last_login_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "WHERE id = $1::bigint",
        1, params, "recording the login", err, errlen);
}

int pg_admin_count(store *s, int64_t *count, char *err, size_t errlen)
{
    return pg_int(pg(s), "SELECT count(*) FROM users WHERE is_admin = 1 AND disabled = 0", 0, NULL, count, err, errlen);
}

int pg_session_create(store *s, const char *token_hash, int64_t user_id, const char *csrf_token, int64_t now,
                      int64_t expires_at, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    pg_num uid = pg_i64(user_id), at = pg_i64(now), exp = pg_i64(expires_at);
    /* Expired sessions are swept here, when somebody logs in, not on a timer. */
    const char *sweep[] = {at.s};
    PQclear(pg_run(p, "DELETE FROM sessions WHERE expires_at < $1::bigint", 1, sweep));
    const char *params[] = {token_hash, uid.s, csrf_token, at.s, exp.s};
    return pg_cmd(p,
                  "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) "
                  "VALUES ($1, $2::bigint, $3, $4::bigint, $4::bigint, $5::bigint)",
                  5, params, "creating the session", err, errlen);
}

int pg_session_get(store *s, const char *token_hash, store_session *out, int *found, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    const char *params[] = {token_hash};
    PGresult *r = pg_run(p,
                         "SELECT s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, "
                         "u.id, u.username, u.email, u.password_hash, u.is_admin, u.disabled, u.created_at, "
                         "coalesce(u.last_login_at, '') FROM sessions s JOIN users u ON u.id = s.user_id "
                         "WHERE s.token_hash = $1",
                         1, params);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading the session", err, errlen);
    *found = PQntuples(r) > 0;
    if (*found) {
        memset(out, 0, sizeof *out);
        out->user_id = pg_get_i64(r, 0, 0);
        pg_copy(r, 0, 1, out->csrf_token, sizeof out->csrf_token);
        out->created_at = pg_get_i64(r, 0, 2);
        out->last_seen_at = pg_get_i64(r, 0, 3);
        out->expires_at = pg_get_i64(r, 0, 4);
        pg_read_user(r, 0, 5, &out->user);
    }
    PQclear(r);
    return 0;
}

int pg_session_touch(store *s, const char *token_hash, int64_t now, char *err, size_t errlen)
{
    pg_num at = pg_i64(now);
    const char *params[] = {at.s, token_hash};
    return pg_cmd(pg(s), "UPDATE sessions SET last_seen_at = $1::bigint WHERE token_hash = $2", 2, params,
                  "updating sessions", err, errlen);
}

int pg_session_delete(store *s, const char *token_hash, char *err, size_t errlen)
{
    const char *params[] = {token_hash};
    return pg_cmd(pg(s), "DELETE FROM sessions WHERE token_hash = $1", 1, params, "updating sessions", err, errlen);
}

int pg_sessions_delete_user(store *s, int64_t user_id, char *err, size_t errlen)
{
    pg_num uid = pg_i64(user_id);
    const char *params[] = {uid.s};
    return pg_cmd(pg(s), "DELETE FROM sessions WHERE user_id = $1::bigint", 1, params, "updating sessions", err,
                  errlen);
}

int pg_attempts_count(store *s, const char *key, int64_t since_ms, int64_t upto_id, int64_t *count, int64_t *oldest_ms,
                      char *err, size_t errlen)
{
    pg_store *p = pg(s);
    pg_num since = pg_i64(since_ms), upto = pg_i64(upto_id);
    const char *params[] = {key, since.s, upto.s};
    PGresult *r = pg_run(p,
                         "SELECT count(*), coalesce(min(at), 0) FROM login_attempts WHERE key = $1 "
                         "AND at > $2::bigint AND ($3::bigint = 0 OR id <= $3::bigint)",
                         3, params);
    if (!pg_ok(r))
        return pg_fail(p, r, "counting login attempts", err, errlen);
    *count = pg_get_i64(r, 0, 0);
    *oldest_ms = pg_get_i64(r, 0, 1);
    PQclear(r);
    return 0;
}

static int by_string(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* An attempt learns its place among concurrent ones by counting the ids up
 * to its own (store_attempts_count). Identity values are handed out before
 * commit, so without a lock a later id could commit first and count without
 * an earlier one still in flight. A lock per key, held to commit, orders
 * them as SQLite's single writer does; taken in one order (sorted) so that
 * two attempts sharing keys cannot deadlock. */
static int lock_keys(pg_store *p, const char *const *keys, size_t nkeys, char *err, size_t errlen)
{
    const char **sorted = xcalloc(nkeys ? nkeys : 1, sizeof *sorted);
    memcpy(sorted, keys, nkeys * sizeof *sorted);
    qsort(sorted, nkeys, sizeof *sorted, by_string);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nkeys; i++) {
        const char *params[] = {sorted[i]};
        rc = pg_cmd(p, "SELECT pg_advisory_xact_lock(" PG_LOCK_ATTEMPTS_CLASS ", hashtext($1))", 1, params,
                    "locking the login attempts", err, errlen);
    }
    free(sorted);
    return rc;
}

int pg_attempts_add(store *s, const char *const *keys, size_t nkeys, int64_t now_ms, int64_t forget_before_ms,
                    int64_t *ids, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    if (pg_begin(p, err, errlen) != 0)
        return -1;
    pg_num before = pg_i64(forget_before_ms), at = pg_i64(now_ms);
    const char *sweep[] = {before.s};
    int rc = lock_keys(p, keys, nkeys, err, errlen);
    if (rc == 0)
        rc = pg_cmd(p, "DELETE FROM login_attempts WHERE at <= $1::bigint", 1, sweep, "forgetting old login attempts",
                    err, errlen);
    for (size_t i = 0; rc == 0 && i < nkeys; i++) {
        const char *params[] = {keys[i], at.s};
        PGresult *r = pg_run(p, "INSERT INTO login_attempts (key, at) VALUES ($1, $2::bigint) RETURNING id", 2, params);
        if (!pg_ok(r)) {
            rc = pg_fail(p, r, "recording the login attempt", err, errlen);
            break;
        }
        ids[i] = pg_get_i64(r, 0, 0);
        PQclear(r);
    }
    if (rc != 0) {
        pg_rollback(p);
        return rc;
    }
    return pg_commit(p, "recording the login attempt", err, errlen);
}

int pg_attempts_remove(store *s, const int64_t *ids, size_t n, char *err, size_t errlen)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        pg_num id = pg_i64(ids[i]);
        const char *params[] = {id.s};
        rc = pg_cmd(pg(s), "DELETE FROM login_attempts WHERE id = $1::bigint", 1, params, "forgetting a login attempt",
                    err, errlen);
    }
    return rc;
}

#define AUDIT_COLUMNS "id, at, actor, action, entity_type, entity_id, before_json, after_json"

int pg_audit_list(store *s, int64_t offset, int64_t limit, store_audit **entries, size_t *count, int64_t *total,
                  char *err, size_t errlen)
{
    pg_store *p = pg(s);
    *entries = NULL;
    *count = 0;
    *total = 0;
    pg_num lim = pg_i64(limit), off = pg_i64(offset);
    const char *params[] = {lim.s, off.s};
    /* One statement: the count and the page from the same snapshot. */
    PGresult *r = pg_run(p,
                         "SELECT " AUDIT_COLUMNS ", count(*) OVER () FROM audit_log "
                         "ORDER BY id DESC LIMIT $1::bigint OFFSET $2::bigint",
                         2, params);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading the audit log", err, errlen);
    int n = PQntuples(r);
    if (n > 0) {
        *entries = xcalloc((size_t)n, sizeof **entries);
        for (int i = 0; i < n; i++)
            pg_read_audit(r, i, &(*entries)[i]);
        *count = (size_t)n;
        *total = pg_get_i64(r, 0, 8);
    }
    PQclear(r);
    if (n == 0)
        return pg_int(p, "SELECT count(*) FROM audit_log", 0, NULL, total, err, errlen);
    return 0;
}
