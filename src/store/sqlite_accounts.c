/*
 * sqlite_accounts.c — users, sessions, login attempts and the audit log in
 * SQLite (see store.h). Small single-statement functions; the ones that must
 * read and write atomically (a change of a user, recording login attempts)
 * take the write lock first.
 */
#include "store/sqlite_internal.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int insert_user(sqlite3 *db, store_user *u, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sq_prepare(db, "INSERT INTO users (username, email, password_hash, is_admin, disabled) VALUES (?, ?, ?, ?, ?)",
                   &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, u->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, u->password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, u->is_admin ? 1 : 0);
    sqlite3_bind_int(st, 5, u->disabled ? 1 : 0);
    int rc = sq_step_done(db, st, "creating the user", err, errlen);
    if (rc == MG_ERR_CONFLICT)
        snprintf(err, errlen, "the username or email is already taken");
    if (rc == 0)
        u->id = sqlite3_last_insert_rowid(db);
    return rc;
}

int sq_user_create(store *s, store_user *u, store_user_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    store_user saved;
    store_audit audit;
    memset(&audit, 0, sizeof audit);
    if (sq_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    int found = 0;
    int rc = insert_user(db, u, err, errlen);
    if (rc == 0)
        rc = sq_user_by_id(s, u->id, &saved, &found, err, errlen);
    if (rc == 0 && fn)
        rc = fn(NULL, &saved, &audit, ctx) == 0 ? 0 : MG_ERR_DECLINED;
    if (rc == 0 && audit.action[0])
        rc = sq_audit_insert(db, &audit, err, errlen);
    store_audit_clear(&audit);
    if (rc == 0 && sq_exec(db, "COMMIT", err, errlen) != 0)
        rc = sq_fail(db, "saving the user", err, errlen);
    if (rc != 0) {
        sq_rollback(db);
        return rc;
    }
    *u = saved;
    return 0;
}

static int user_where(store *s, const char *where, const char *text, int64_t num, store_user *out, int *found,
                      char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT " USER_COLUMNS " FROM users WHERE %s", where);
    if (sq_prepare(db, sql, &st, err, errlen) != 0)
        return -1;
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, num);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found)
        sq_read_user(st, 0, out);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_fail(db, "reading the user", err, errlen);
}

int sq_user_by_name(store *s, const char *username, store_user *out, int *found, char *err, size_t errlen)
{
    return user_where(s, "username = ?", username, 0, out, found, err, errlen);
}

int sq_user_by_id(store *s, int64_t id, store_user *out, int *found, char *err, size_t errlen)
{
    return user_where(s, "id = ?", NULL, id, out, found, err, errlen);
}

int sq_user_list(store *s, store_user **users, size_t *count, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    *users = NULL;
    *count = 0;
    if (sq_prepare(db, "SELECT " USER_COLUMNS " FROM users ORDER BY username", &st, err, errlen) != 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *users = xreallocarray(*users, *count + 1, sizeof **users);
        sq_read_user(st, 0, &(*users)[(*count)++]);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(db, "listing users", err, errlen);
}

/* Writes the columns of after that differ from before, one statement. */
static int write_user_changes(sqlite3 *db, const store_user *before, const store_user *after, char *err, size_t errlen)
{
    char sql[200] = "UPDATE users SET ";
    const char *sep = "";
    int email = strcmp(before->email, after->email) != 0;
    int hash = strcmp(before->password_hash, after->password_hash) != 0;
    int admin = !before->is_admin != !after->is_admin, disabled = !before->disabled != !after->disabled;
    if (!email && !hash && !admin && !disabled)
        return 0;
    /* ?1..?4 are bound whether used or not: the text names only the changed ones. */
    const char *cols[] = {"email = ?1", "password_hash = ?2", "is_admin = ?3", "disabled = ?4"};
    int changed[] = {email, hash, admin, disabled};
    for (int i = 0; i < 4; i++)
        if (changed[i]) {
            strcat(sql, sep);
            strcat(sql, cols[i]);
            sep = ", ";
        }
    strcat(sql, " WHERE id = ?5");
    sqlite3_stmt *st;
    if (sq_prepare(db, sql, &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, after->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, after->password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, after->is_admin ? 1 : 0);
    sqlite3_bind_int(st, 4, after->disabled ? 1 : 0);
    sqlite3_bind_int64(st, 5, before->id);
    int rc = sq_step_done(db, st, "updating the user", err, errlen);
    if (rc == MG_ERR_CONFLICT && strstr(err, "last admin"))
        snprintf(err, errlen, "the last admin cannot be demoted or disabled");
    else if (rc == MG_ERR_CONFLICT)
        snprintf(err, errlen, "the email is already taken");
    return rc;
}

int sq_user_edit(store *s, int64_t id, store_user_fn fn, void *ctx, store_user *after, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    store_user before, next;
    store_audit audit;
    memset(&audit, 0, sizeof audit);
    /* The write lock first: the row fn sees stays current until commit. */
    if (sq_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    int found = 0;
    int rc = sq_user_by_id(s, id, &before, &found, err, errlen);
    if (rc == 0 && !found) {
        snprintf(err, errlen, "there is no user with id %lld", (long long)id);
        rc = MG_ERR_NOT_FOUND;
    }
    if (rc == 0) {
        next = before;
        rc = fn(&before, &next, &audit, ctx) == 0 ? 0 : MG_ERR_DECLINED;
    }
    if (rc == 0)
        rc = write_user_changes(db, &before, &next, err, errlen);
    if (rc == 0 && audit.action[0])
        rc = sq_audit_insert(db, &audit, err, errlen);
    /* A disabled account or a new password ends every session of the user. */
    if (rc == 0 && ((next.disabled && !before.disabled) || strcmp(next.password_hash, before.password_hash) != 0))
        rc = sq_sessions_delete_user(s, id, err, errlen);
    store_audit_clear(&audit);
    if (rc == 0 && sq_exec(db, "COMMIT", err, errlen) != 0)
        rc = sq_fail(db, "saving the user", err, errlen);
    if (rc != 0) {
        sq_rollback(db);
        return rc;
    }
    if (after)
        *after = next;
    return 0;
}

int sq_user_logged_in(store *s, int64_t id, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    if (sq_prepare(db, "UPDATE users SET last_login_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?", &st, err,
                   errlen) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    return sq_step_done(db, st, "recording the login", err, errlen);
}

int sq_admin_count(store *s, int64_t *count, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    if (sq_prepare(db, "SELECT count(*) FROM users WHERE is_admin = 1 AND disabled = 0", &st, err, errlen) != 0)
        return -1;
    int rc = sqlite3_step(st);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : sq_fail(db, "counting admins", err, errlen);
}

int sq_session_create(store *s, const char *token_hash, int64_t user_id, const char *csrf_token, int64_t now,
                      int64_t expires_at, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    /* Expired sessions are swept here, when somebody logs in, not on a timer. */
    sqlite3_stmt *sweep;
    if (sq_prepare(db, "DELETE FROM sessions WHERE expires_at < ?", &sweep, err, errlen) == 0) {
        sqlite3_bind_int64(sweep, 1, now);
        sqlite3_step(sweep);
        sqlite3_finalize(sweep);
    }
    if (sq_prepare(db,
                   "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_text(st, 3, csrf_token, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, expires_at);
    return sq_step_done(db, st, "creating the session", err, errlen);
}

int sq_session_get(store *s, const char *token_hash, store_session *out, int *found, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    if (sq_prepare(db,
                   "SELECT s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, "
                   "u.id, u.username, u.email, u.password_hash, u.is_admin, u.disabled, u.created_at, "
                   "coalesce(u.last_login_at, '') FROM sessions s JOIN users u ON u.id = s.user_id "
                   "WHERE s.token_hash = ?",
                   &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found) {
        memset(out, 0, sizeof *out);
        out->user_id = sqlite3_column_int64(st, 0);
        sq_column_copy(st, 1, out->csrf_token, sizeof out->csrf_token);
        out->created_at = sqlite3_column_int64(st, 2);
        out->last_seen_at = sqlite3_column_int64(st, 3);
        out->expires_at = sqlite3_column_int64(st, 4);
        sq_read_user(st, 5, &out->user);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_fail(db, "reading the session", err, errlen);
}

static int session_statement(store *s, const char *sql, const char *token_hash, int64_t num, int has_num, char *err,
                             size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    if (sq_prepare(db, sql, &st, err, errlen) != 0)
        return -1;
    int i = 1;
    if (has_num)
        sqlite3_bind_int64(st, i++, num);
    if (token_hash)
        sqlite3_bind_text(st, i, token_hash, -1, SQLITE_STATIC);
    return sq_step_done(db, st, "updating sessions", err, errlen);
}

int sq_session_touch(store *s, const char *token_hash, int64_t now, char *err, size_t errlen)
{
    return session_statement(s, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", token_hash, now, 1, err,
                             errlen);
}

int sq_session_delete(store *s, const char *token_hash, char *err, size_t errlen)
{
    return session_statement(s, "DELETE FROM sessions WHERE token_hash = ?", token_hash, 0, 0, err, errlen);
}

int sq_sessions_delete_user(store *s, int64_t user_id, char *err, size_t errlen)
{
    return session_statement(s, "DELETE FROM sessions WHERE user_id = ?", NULL, user_id, 1, err, errlen);
}

int sq_attempts_count(store *s, const char *key, int64_t since_ms, int64_t upto_id, int64_t *count, int64_t *oldest_ms,
                      char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    if (sq_prepare(db,
                   "SELECT count(*), coalesce(min(at), 0) FROM login_attempts WHERE key = ?1 AND at > ?2 "
                   "AND (?3 = 0 OR rowid <= ?3)",
                   &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since_ms);
    sqlite3_bind_int64(st, 3, upto_id);
    int rc = sqlite3_step(st);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    *oldest_ms = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : sq_fail(db, "counting login attempts", err, errlen);
}

int sq_attempts_add(store *s, const char *const *keys, size_t nkeys, int64_t now_ms, int64_t forget_before_ms,
                    int64_t *ids, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *insert = NULL, *sweep = NULL;
    if (sq_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    int rc = -1;
    if (sq_prepare(db, "DELETE FROM login_attempts WHERE at <= ?", &sweep, err, errlen) != 0 ||
        sq_prepare(db, "INSERT INTO login_attempts (key, at) VALUES (?, ?)", &insert, err, errlen) != 0)
        goto done;
    sqlite3_bind_int64(sweep, 1, forget_before_ms);
    if (sqlite3_step(sweep) != SQLITE_DONE) {
        sq_fail(db, "forgetting old login attempts", err, errlen);
        goto done;
    }
    for (size_t i = 0; i < nkeys; i++) {
        sqlite3_reset(insert);
        sqlite3_bind_text(insert, 1, keys[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(insert, 2, now_ms);
        if (sqlite3_step(insert) != SQLITE_DONE) {
            sq_fail(db, "recording the login attempt", err, errlen);
            goto done;
        }
        ids[i] = sqlite3_last_insert_rowid(db);
    }
    rc = 0;
done:
    sqlite3_finalize(insert);
    sqlite3_finalize(sweep);
    if (rc == 0)
        rc = sq_exec(db, "COMMIT", err, errlen);
    if (rc != 0)
        sq_rollback(db);
    return rc;
}

int sq_attempts_remove(store *s, const int64_t *ids, size_t n, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    if (sq_prepare(db, "DELETE FROM login_attempts WHERE rowid = ?", &st, err, errlen) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, ids[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sq_fail(db, "forgetting a login attempt", err, errlen);
    }
    sqlite3_finalize(st);
    return rc;
}

int sq_audit_list(store *s, int64_t offset, int64_t limit, store_audit **entries, size_t *count, int64_t *total,
                  char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    *entries = NULL;
    *count = 0;
    *total = 0;
    if (sq_exec(db, "BEGIN", err, errlen) != 0)
        return -1;
    int rc = -1;
    if (sq_prepare(db, "SELECT count(*) FROM audit_log", &st, err, errlen) != 0)
        goto done;
    int counted = sqlite3_step(st) == SQLITE_ROW;
    if (counted)
        *total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (!counted) {
        sq_fail(db, "counting the audit log", err, errlen);
        goto done;
    }
    if (sq_prepare(db,
                   "SELECT id, at, actor, action, entity_type, entity_id, before_json, after_json FROM audit_log "
                   "ORDER BY id DESC LIMIT ? OFFSET ?",
                   &st, err, errlen) != 0)
        goto done;
    sqlite3_bind_int64(st, 1, limit);
    sqlite3_bind_int64(st, 2, offset);
    int step = SQLITE_DONE;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        *entries = xreallocarray(*entries, *count + 1, sizeof **entries);
        store_audit *a = &(*entries)[(*count)++];
        sq_read_audit(st, a);
    }
    sqlite3_finalize(st);
    rc = step == SQLITE_DONE ? 0 : sq_fail(db, "reading the audit log", err, errlen);
done:
    sq_exec(db, "COMMIT", err, rc == 0 ? errlen : 0);
    return rc;
}
