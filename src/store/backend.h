/*
 * backend.h — what a store backend implements (private to src/store/).
 *
 * store.c dispatches the public store_* calls through a table of
 * operations, so adding PostgreSQL is one more backend filling the table,
 * not a change above store.h. The operations are listed once, below: the
 * table's fields, store.c's timed wrappers and a backend's prototypes are
 * generated from the list, so a new operation is one line here, its
 * documented prototype in store.h (which the compiler holds to the same
 * parameters) and its implementation in each backend.
 */
#ifndef MG_STORE_BACKEND_H
#define MG_STORE_BACKEND_H

#include "store/records.h"

typedef struct store store;

/* X(name, parameters, arguments) for every operation store_NAME. */
// clang-format off
#define STORE_OPERATIONS(X)                                                                                            \
    X(migrations, (store *s, store_migration **list, size_t *count, size_t *unknown, char *err, size_t errlen),        \
      (s, list, count, unknown, err, errlen))                                                                          \
    X(migrate, (store *s, int *applied, char *err, size_t errlen), (s, applied, err, errlen))                          \
    X(startup, (store *s, store_startup_fn fn, void *ctx, char *err, size_t errlen), (s, fn, ctx, err, errlen))        \
    X(load, (store *s, dataset *out, int64_t *version, char *err, size_t errlen), (s, out, version, err, errlen))      \
    X(is_empty, (store *s, int *empty, char *err, size_t errlen), (s, empty, err, errlen))                             \
    X(replace_all, (store *s, const dataset *d, char *err, size_t errlen), (s, d, err, errlen))                        \
    X(data_version, (store *s, int64_t *version, char *err, size_t errlen), (s, version, err, errlen))                 \
    X(wait_change, (store *s, int timeout_ms, int *changed, char *err, size_t errlen),                                 \
      (s, timeout_ms, changed, err, errlen))                                                                           \
    X(server_check, (store *s, char *info, size_t infolen, int *warn, char *err, size_t errlen),                        \
      (s, info, infolen, warn, err, errlen))                                                                           \
    X(edit, (store *s, store_edit_fn fn, void *ctx, char *err, size_t errlen), (s, fn, ctx, err, errlen))              \
    X(audit_list, (store *s, int64_t offset, int64_t limit, store_audit **entries, size_t *count, int64_t *total,      \
                   char *err, size_t errlen), (s, offset, limit, entries, count, total, err, errlen))                  \
    X(user_create, (store *s, store_user *u, store_user_fn fn, void *ctx, char *err, size_t errlen),                   \
      (s, u, fn, ctx, err, errlen))                                                                                    \
    X(user_by_name, (store *s, const char *username, store_user *out, int *found, char *err, size_t errlen),           \
      (s, username, out, found, err, errlen))                                                                          \
    X(user_by_id, (store *s, int64_t id, store_user *out, int *found, char *err, size_t errlen),                       \
      (s, id, out, found, err, errlen))                                                                                \
    X(user_list, (store *s, store_user **users, size_t *count, char *err, size_t errlen),                              \
      (s, users, count, err, errlen))                                                                                  \
    X(user_edit, (store *s, int64_t id, store_user_fn fn, void *ctx, store_user *after, char *err, size_t errlen),     \
      (s, id, fn, ctx, after, err, errlen))                                                                            \
    X(user_logged_in, (store *s, int64_t id, char *err, size_t errlen), (s, id, err, errlen))                          \
    X(admin_count, (store *s, int64_t *count, char *err, size_t errlen), (s, count, err, errlen))                      \
    X(session_create, (store *s, const char *token_hash, int64_t user_id, const char *csrf_token, int64_t now,         \
                       int64_t expires_at, char *err, size_t errlen),                                                  \
      (s, token_hash, user_id, csrf_token, now, expires_at, err, errlen))                                              \
    X(session_get, (store *s, const char *token_hash, store_session *out, int *found, char *err, size_t errlen),       \
      (s, token_hash, out, found, err, errlen))                                                                        \
    X(session_touch, (store *s, const char *token_hash, int64_t now, char *err, size_t errlen),                        \
      (s, token_hash, now, err, errlen))                                                                               \
    X(session_delete, (store *s, const char *token_hash, char *err, size_t errlen), (s, token_hash, err, errlen))      \
    X(sessions_delete_user, (store *s, int64_t user_id, char *err, size_t errlen), (s, user_id, err, errlen))          \
    X(attempts_count, (store *s, const char *key, int64_t since_ms, int64_t upto_id, int64_t *count,                  \
                       int64_t *oldest_ms, char *err, size_t errlen),                                                  \
      (s, key, since_ms, upto_id, count, oldest_ms, err, errlen))                                                      \
    X(attempts_add, (store *s, const char *const *keys, size_t nkeys, int64_t now_ms, int64_t forget_before_ms,       \
                     int64_t *ids, char *err, size_t errlen),                                                          \
      (s, keys, nkeys, now_ms, forget_before_ms, ids, err, errlen))                                                    \
    X(attempts_remove, (store *s, const int64_t *ids, size_t n, char *err, size_t errlen), (s, ids, n, err, errlen))  \
    X(dump, (store *s, store_dump_t *out, char *err, size_t errlen), (s, out, err, errlen))                            \
    X(restore, (store *s, const store_dump_t *d, unsigned what, const store_dump_t *expected, int64_t *users_added,   \
                char *err, size_t errlen),                                                                             \
      (s, d, what, expected, users_added, err, errlen))                                                                \
    X(acme_get, (store *s, const char *name, char **pem, int *found, char *err, size_t errlen),                        \
      (s, name, pem, found, err, errlen))                                                                              \
    X(acme_put, (store *s, const char *const *names, const char *const *pems, size_t n, char *err, size_t errlen),     \
      (s, names, pems, n, err, errlen))                                                                                \
    X(acme_lock, (store *s, int take, int *got, char *err, size_t errlen), (s, take, got, err, errlen))                \
    X(backup_keys, (store *s, char **text, char *err, size_t errlen), (s, text, err, errlen))                          \
    X(backup_key_add, (store *s, const char *key, const char *comment, char *err, size_t errlen),                      \
      (s, key, comment, err, errlen))
// clang-format on

#define STORE_OPERATION_FIELD(name, params, args) int(*name) params;

struct store_ops {
    const char *name;
    void (*close)(store *s);
    int (*lost)(store *s); /* may be NULL: the backend never loses its database */
    STORE_OPERATIONS(STORE_OPERATION_FIELD)
};

/* Every backend's handle starts with this. */
struct store {
    const struct store_ops *ops;
};

/* readonly: the file must exist and is never written (store_open_readonly). */
int sqlite_store_open(const char *path, int readonly, store **out, char *err, size_t errlen);
/* url: postgres://… or postgresql://… as libpq reads it; readonly: every
 * transaction of the session is read-only (default_transaction_read_only). */
int postgres_store_open(const char *url, int readonly, store **out, char *err, size_t errlen);
/* "PostgreSQL database \"x\" on host:port" for url, never its password. */
void postgres_describe(const char *url, char *out, size_t len);

#endif
