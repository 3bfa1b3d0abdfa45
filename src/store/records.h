/*
 * records.h — the values a store takes and gives back: migrations, audit
 * entries, users, sessions, whole-database dumps, and the callbacks that run
 * inside a store's transactions.
 *
 * Apart from store.h so that a backend (backend.h) can use them without the
 * dispatching functions of store.c: the backends sit below store.c.
 */
#ifndef MG_STORE_RECORDS_H
#define MG_STORE_RECORDS_H

#include "core/errors.h"
#include "domain/model.h"

#include <stddef.h>
#include <stdint.h>

typedef struct store_migration {
    char name[128];  /* "0001_init" */
    int applied;     /* 1 if recorded in schema_migrations */
    int checksum_ok; /* applied with the same SQL as embedded now */
    char applied_at[32];
} store_migration;

/* One audit log entry; before/after are JSON documents or NULL. */
typedef struct store_audit {
    int64_t id;
    char at[40];
    char *actor;          /* username, NULL when unknown or anonymized */
    char action[16];      /* create | update | delete */
    char entity_type[16]; /* genre | band | user */
    char *entity_id;
    char *before_json;
    char *after_json;
} store_audit;

void store_audit_clear(store_audit *a);

/* Called inside the write transaction with the current map and a copy to
 * change. Returns 0 to commit next (and fills audit), MG_ERR_DECLINED to roll
 * back. */
typedef int (*store_edit_fn)(const dataset *current, dataset *next, store_audit *audit, void *ctx);

typedef struct store_user {
    int64_t id;
    char username[96];
    char email[256];
    char password_hash[256];
    int is_admin;
    int disabled;
    char created_at[32];
    char last_login_at[32]; /* "" when never */
} store_user;

/* Called by store_user_edit inside its write transaction with the user as
 * stored now and a copy to change. Returns 0 to save after (only the columns
 * that differ are written) and fills audit; MG_ERR_DECLINED to roll back. */
typedef int (*store_user_fn)(const store_user *before, store_user *after, store_audit *audit, void *ctx);

/* Called by store_startup while no other process starting on the same
 * database runs its own; returns 0 or -1 with err filled. */
struct store;
typedef int (*store_startup_fn)(struct store *s, void *ctx, char *err, size_t errlen);

typedef struct store_session {
    int64_t user_id;
    char csrf_token[96];
    int64_t created_at, last_seen_at, expires_at;
    store_user user;
} store_session;

/* Rows per table, as counted by the database. */
typedef struct store_counts {
    int64_t genres, genre_parents, genre_links, bands, band_genres, users, audit_log;
} store_counts;

/* Everything a backup holds: the map, the accounts (with password hashes)
 * and the audit log, read at one instant. Sessions and login attempts are
 * not part of it: they are short-lived and belong to one installation. */
typedef struct store_dump_t {
    dataset map;
    store_user *users; /* by id */
    size_t nusers;
    store_audit *audit; /* oldest first */
    size_t naudit;
    char schema_version[128]; /* latest applied migration ("0002_accounts"), "" when none */
    int64_t data_version;
    int64_t audit_last_id; /* the newest audit entry's id, 0 when none */
    store_counts counts;
    int has_users; /* 0 when the schema had no accounts tables yet */
    int has_audit;
} store_dump_t;

void store_dump_free(store_dump_t *d);

/* What store_restore replaces. */
#define STORE_RESTORE_MAP       1u /* every genre and band */
#define STORE_RESTORE_USERS     2u /* every user (ids kept); sessions and login attempts are cleared */
#define STORE_RESTORE_AUDIT     4u /* the audit log (ids and times kept) */
#define STORE_RESTORE_ADD_USERS 8u /* import: users whose username and email are free are added, new ids */
#define STORE_RESTORE_ALL       (STORE_RESTORE_MAP | STORE_RESTORE_USERS | STORE_RESTORE_AUDIT)

#endif
