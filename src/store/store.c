/*
 * store.c — picks the backend from the URL and dispatches (see store.h).
 */
#include "store/backend.h"

#include <stdio.h>
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
