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
};

/* Every backend's handle starts with this. */
struct store {
    const struct store_ops *ops;
};

int sqlite_store_open(const char *path, store **out, char *err, size_t errlen);

#endif
