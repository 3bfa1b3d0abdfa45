/*
 * backend.h — what a store backend implements (private to src/store/).
 *
 * store.c dispatches the public store_* calls through this table, so adding
 * PostgreSQL is one more file implementing it, not a change above store.h.
 */
#ifndef MG_STORE_BACKEND_H
#define MG_STORE_BACKEND_H

#include "store/store.h"

struct store_ops {
    const char *name;
    void (*close)(store *s);
    int (*migrations)(store *s, store_migration **list, size_t *count, size_t *unknown, char *err, size_t errlen);
    int (*migrate)(store *s, int *applied, char *err, size_t errlen);
    int (*load)(store *s, dataset *out, char *err, size_t errlen);
    int (*is_empty)(store *s, int *empty, char *err, size_t errlen);
    int (*replace_all)(store *s, const dataset *d, char *err, size_t errlen);
    int (*data_version)(store *s, int64_t *version, char *err, size_t errlen);
    int (*edit)(store *s, store_edit_fn fn, void *ctx, char *err, size_t errlen);
    int (*audit_list)(store *s, int64_t offset, int64_t limit, store_audit **entries, size_t *count, int64_t *total,
                      char *err, size_t errlen);
    int (*audit_add)(store *s, const store_audit *a, char *err, size_t errlen);
    int (*user_create)(store *s, store_user *u, char *err, size_t errlen);
    int (*user_by_name)(store *s, const char *username, store_user *out, int *found, char *err, size_t errlen);
    int (*user_by_id)(store *s, int64_t id, store_user *out, int *found, char *err, size_t errlen);
    int (*user_list)(store *s, store_user **users, size_t *count, char *err, size_t errlen);
    int (*user_update)(store *s, const store_user *u, char *err, size_t errlen);
    int (*user_logged_in)(store *s, int64_t id, char *err, size_t errlen);
    int (*admin_count)(store *s, int64_t *count, char *err, size_t errlen);
    int (*session_create)(store *s, const char *token_hash, int64_t user_id, const char *csrf_token, int64_t now,
                          int64_t expires_at, char *err, size_t errlen);
    int (*session_get)(store *s, const char *token_hash, store_session *out, int *found, char *err, size_t errlen);
    int (*session_touch)(store *s, const char *token_hash, int64_t now, char *err, size_t errlen);
    int (*session_delete)(store *s, const char *token_hash, char *err, size_t errlen);
    int (*sessions_delete_user)(store *s, int64_t user_id, char *err, size_t errlen);
    int (*attempt)(store *s, const char *const *keys, size_t nkeys, int64_t now_ms, int64_t window_ms, int max,
                   int record, int *allowed, int64_t *retry_after_ms, char *err, size_t errlen);
    int (*dump)(store *s, store_dump_t *out, char *err, size_t errlen);
    int (*restore)(store *s, const store_dump_t *d, unsigned what, int64_t expected_version, store_restore_hook before,
                   void *ctx, int64_t *users_added, char *err, size_t errlen);
};

/* Every backend's handle starts with this. */
struct store {
    const struct store_ops *ops;
};

int sqlite_store_open(const char *path, store **out, char *err, size_t errlen);

#endif
