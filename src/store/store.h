/*
 * store.h — the database, behind one backend-neutral interface.
 *
 * A store is one connection: the server opens one per worker thread, a CLI
 * command opens one. The URL chooses the backend (sqlite:… today,
 * postgresql:… next); nothing above this header knows which one it is.
 * Every write runs in one transaction: it happens whole or not at all.
 * Errors come back as -1 with a one-line message in the caller's buffer.
 */
#ifndef MG_STORE_H
#define MG_STORE_H

#include "domain/model.h"

#include <stddef.h>
#include <stdint.h>

typedef struct store store;

typedef struct store_migration {
    char name[128];    /* "0001_init" */
    int applied;       /* 1 if recorded in schema_migrations */
    int checksum_ok;   /* applied with the same SQL as embedded now */
    char applied_at[32];
} store_migration;

/* Opens (and for SQLite creates) the database. Does not migrate. */
int store_open(const char *url, store **out, char *err, size_t errlen);
void store_close(store *s);
/* "sqlite" or "postgresql". */
const char *store_backend(const store *s);

/* Lists embedded migrations and their state; *list is malloc'd. Also reports
 * migrations recorded in the database that this binary does not know. */
int store_migrations(store *s, store_migration **list, size_t *count, size_t *unknown, char *err, size_t errlen);
/* Applies pending migrations in order, each in its own transaction. Refuses
 * (without changing anything) when the database has migrations this binary
 * does not know or whose checksum differs. *applied counts what ran. */
int store_migrate(store *s, int *applied, char *err, size_t errlen);

/* Reads the whole map in one read transaction: a consistent picture. */
int store_load(store *s, dataset *out, char *err, size_t errlen);
/* 1 when there are no genres and no bands. */
int store_is_empty(store *s, int *empty, char *err, size_t errlen);
/* Replaces every genre and band with d in one transaction (seed, restore). */
int store_replace_all(store *s, const dataset *d, char *err, size_t errlen);
/* Counter bumped by every committed data change; readers compare it to know
 * whether their snapshot is current (also across processes). */
int store_data_version(store *s, int64_t *version, char *err, size_t errlen);

#endif
