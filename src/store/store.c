/*
 * store.c — picks the backend from the URL and dispatches (see store.h).
 */
#include "store/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_open(const char *url, store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (strncmp(url, "sqlite:", 7) == 0) {
        const char *path = url + 7;
        if (strncmp(path, "//", 2) == 0)
            path += 2;
        if (!*path) {
            snprintf(err, errlen, "the SQLite URL names no file (expected sqlite:///path/to/file.db)");
            return -1;
        }
        return sqlite_store_open(path, out, err, errlen);
    }
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        snprintf(err, errlen, "the PostgreSQL backend is not built yet; use a sqlite: URL");
        return -1;
    }
    snprintf(err, errlen, "unsupported database URL (expected sqlite:///path or postgresql://…)");
    return -1;
}

void store_close(store *s)
{
    if (s)
        s->ops->close(s);
}

const char *store_backend(const store *s)
{
    return s->ops->name;
}

int store_migrations(store *s, store_migration **list, size_t *count, size_t *unknown, char *err, size_t errlen)
{
    return s->ops->migrations(s, list, count, unknown, err, errlen);
}

int store_migrate(store *s, int *applied, char *err, size_t errlen)
{
    return s->ops->migrate(s, applied, err, errlen);
}

int store_load(store *s, dataset *out, char *err, size_t errlen)
{
    return s->ops->load(s, out, err, errlen);
}

int store_is_empty(store *s, int *empty, char *err, size_t errlen)
{
    return s->ops->is_empty(s, empty, err, errlen);
}

int store_replace_all(store *s, const dataset *d, char *err, size_t errlen)
{
    return s->ops->replace_all(s, d, err, errlen);
}

int store_data_version(store *s, int64_t *version, char *err, size_t errlen)
{
    return s->ops->data_version(s, version, err, errlen);
}

int store_edit(store *s, store_edit_fn fn, void *ctx, char *err, size_t errlen)
{
    return s->ops->edit(s, fn, ctx, err, errlen);
}

int store_audit_list(store *s, int64_t offset, int64_t limit, store_audit **entries, size_t *count, int64_t *total,
                     char *err, size_t errlen)
{
    return s->ops->audit_list(s, offset, limit, entries, count, total, err, errlen);
}

int store_audit_add(store *s, const store_audit *a, char *err, size_t errlen)
{
    return s->ops->audit_add(s, a, err, errlen);
}

void store_audit_clear(store_audit *a)
{
    free(a->actor);
    free(a->entity_id);
    free(a->before_json);
    free(a->after_json);
    memset(a, 0, sizeof *a);
}

int store_user_create(store *s, store_user *u, char *err, size_t errlen)
{
    return s->ops->user_create(s, u, err, errlen);
}

int store_user_by_name(store *s, const char *username, store_user *out, int *found, char *err, size_t errlen)
{
    return s->ops->user_by_name(s, username, out, found, err, errlen);
}

int store_user_by_id(store *s, int64_t id, store_user *out, int *found, char *err, size_t errlen)
{
    return s->ops->user_by_id(s, id, out, found, err, errlen);
}

int store_user_list(store *s, store_user **users, size_t *count, char *err, size_t errlen)
{
    return s->ops->user_list(s, users, count, err, errlen);
}

int store_user_update(store *s, const store_user *u, char *err, size_t errlen)
{
    return s->ops->user_update(s, u, err, errlen);
}

int store_user_logged_in(store *s, int64_t id, char *err, size_t errlen)
{
    return s->ops->user_logged_in(s, id, err, errlen);
}

int store_admin_count(store *s, int64_t *count, char *err, size_t errlen)
{
    return s->ops->admin_count(s, count, err, errlen);
}

int store_session_create(store *s, const char *token_hash, int64_t user_id, const char *csrf_token, int64_t now,
                         int64_t expires_at, char *err, size_t errlen)
{
    return s->ops->session_create(s, token_hash, user_id, csrf_token, now, expires_at, err, errlen);
}

int store_session_get(store *s, const char *token_hash, store_session *out, int *found, char *err, size_t errlen)
{
    return s->ops->session_get(s, token_hash, out, found, err, errlen);
}

int store_session_touch(store *s, const char *token_hash, int64_t now, char *err, size_t errlen)
{
    return s->ops->session_touch(s, token_hash, now, err, errlen);
}

int store_session_delete(store *s, const char *token_hash, char *err, size_t errlen)
{
    return s->ops->session_delete(s, token_hash, err, errlen);
}

int store_sessions_delete_user(store *s, int64_t user_id, char *err, size_t errlen)
{
    return s->ops->sessions_delete_user(s, user_id, err, errlen);
}

int store_attempt(store *s, const char *const *keys, size_t nkeys, int64_t now_ms, int64_t window_ms, int max,
                  int *allowed, int64_t *retry_after_ms, char *err, size_t errlen)
{
    return s->ops->attempt(s, keys, nkeys, now_ms, window_ms, max, allowed, retry_after_ms, err, errlen);
}
