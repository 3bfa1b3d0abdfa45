/*
 * schema.h — the embedded migrations of a backend and what the database
 * says it applied: the one place that decides whether a database can be
 * migrated by this binary (private to src/store/).
 *
 * A backend reads its schema_migrations rows and files each one here; the
 * refusal rules and their messages are the same on every backend.
 */
#ifndef MG_STORE_SCHEMA_H
#define MG_STORE_SCHEMA_H

#include "core/embedded.h"
#include "store/records.h"

typedef struct schema_state {
    const struct embedded_file *files; /* the backend's embedded migrations */
    store_migration *list;             /* one per embedded file, malloc'd */
    size_t count;
    size_t unknown;           /* applied rows this binary does not know */
    char newest_unknown[128]; /* the newest of them */
    char needs_version[64];   /* the musicgraph version that applied it, "" when not recorded */
} schema_state;

void schema_init(schema_state *st, const struct embedded_file *files);
/* Files one row of schema_migrations (app_version may be NULL). */
void schema_record(schema_state *st, const char *name, const char *checksum, const char *applied_at,
                   const char *app_version);
/* 0 when every applied migration is known and unchanged; else -1 with the
 * reason and what to run instead. */
int schema_check(const schema_state *st, char *err, size_t errlen);
/* Hands the list to the caller (store_migrations) or frees it. */
void schema_take(schema_state *st, store_migration **list, size_t *count, size_t *unknown);
void schema_free(schema_state *st);
/* "0001_init" from "0001_init.sql". */
void schema_name(const char *file, char *out, size_t len);

#endif
