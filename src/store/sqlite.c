/*
 * sqlite.c — the embedded SQLite backend (see store.h, backend.h).
 *
 * One connection per store handle, in WAL mode so readers never block the
 * writer, with foreign keys on and a busy timeout so that a CLI command and
 * the server can share the file. Writes take the write lock up front
 * (BEGIN IMMEDIATE) so a transaction never fails half way on a lock upgrade.
 */
#include "store/backend.h"

#include "core/embedded.h"
#include "core/strmap.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sqlite_store {
    struct store base;
    sqlite3 *db;
} sqlite_store;

static sqlite3 *db_of(store *s)
{
    return ((sqlite_store *)s)->db;
}

static int fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
    return -1;
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static void rollback(sqlite3 *db)
{
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

static void sqlite_close(store *s)
{
    sqlite3_close(db_of(s));
    free(s);
}

static void checksum_hex(const unsigned char *data, size_t len, char out[65])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(out, 65, digest, sizeof digest);
}

static size_t migration_count(void)
{
    size_t n = 0;
    while (embedded_sqlite_migrations[n].name)
        n++;
    return n;
}

/* Copies "0001_init" from "0001_init.sql". */
static void migration_name(const char *file, char *out, size_t len)
{
    snprintf(out, len, "%s", file);
    char *dot = strrchr(out, '.');
    if (dot)
        *dot = '\0';
}

static int table_exists(sqlite3 *db, const char *name, int *exists, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return fail(db, "reading the schema", err, errlen);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *exists = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(db, "reading the schema", err, errlen);
    return 0;
}

static int sqlite_migrations(store *s, store_migration **list, size_t *count, size_t *unknown, char *err,
                             size_t errlen)
{
    sqlite3 *db = db_of(s);
    size_t n = migration_count();
    store_migration *m = calloc(n ? n : 1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        migration_name(embedded_sqlite_migrations[i].name, m[i].name, sizeof m[i].name);
    *unknown = 0;
    int exists;
    if (table_exists(db, "schema_migrations", &exists, err, errlen) != 0) {
        free(m);
        return -1;
    }
    if (exists) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT name, checksum, applied_at FROM schema_migrations ORDER BY name", -1, &st,
                               NULL) != SQLITE_OK) {
            free(m);
            return fail(db, "reading schema_migrations", err, errlen);
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            const char *sum = (const char *)sqlite3_column_text(st, 1);
            const char *at = (const char *)sqlite3_column_text(st, 2);
            size_t i;
            for (i = 0; i < n; i++)
                if (name && strcmp(m[i].name, name) == 0)
                    break;
            if (i == n) {
                (*unknown)++;
                continue;
            }
            char expected[65];
            checksum_hex(embedded_sqlite_migrations[i].data, embedded_sqlite_migrations[i].len, expected);
            m[i].applied = 1;
            m[i].checksum_ok = sum && strcmp(sum, expected) == 0;
            snprintf(m[i].applied_at, sizeof m[i].applied_at, "%s", at ? at : "");
        }
        sqlite3_finalize(st);
    }
    *list = m;
    *count = n;
    return 0;
}

static int sqlite_migrate(store *s, int *applied, char *err, size_t errlen)
{
    sqlite3 *db = db_of(s);
    *applied = 0;
    if (exec(db,
             "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, "
             "applied_at TEXT NOT NULL)",
             err, errlen) != 0)
        return -1;
    store_migration *list;
    size_t n, unknown;
    if (sqlite_migrations(s, &list, &n, &unknown, err, errlen) != 0)
        return -1;
    int rc = 0;
    if (unknown > 0) {
        snprintf(err, errlen,
                 "the database has %zu migration(s) this binary does not know: it was created by a newer "
                 "musicgraph; run that version, or restore a backup taken before the upgrade",
                 unknown);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (list[i].applied && !list[i].checksum_ok) {
            snprintf(err, errlen,
                     "migration %s was applied with different SQL than this binary carries; the schema may differ "
                     "from what this version expects: run the version that applied it, or restore a backup",
                     list[i].name);
            rc = -1;
        }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (list[i].applied)
            continue;
        const struct embedded_file *f = &embedded_sqlite_migrations[i];
        char sum[65];
        checksum_hex(f->data, f->len, sum);
        if (exec(db, "BEGIN IMMEDIATE", err, errlen) != 0) {
            rc = -1;
            break;
        }
        char what[200];
        if (exec(db, (const char *)f->data, what, sizeof what) != 0) {
            snprintf(err, errlen, "migration %s failed: %s", list[i].name, what);
            rollback(db);
            rc = -1;
            break;
        }
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO schema_migrations (name, checksum, applied_at) "
                               "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                               -1, &st, NULL) != SQLITE_OK) {
            rc = fail(db, "recording the migration", err, errlen);
            rollback(db);
            break;
        }
        sqlite3_bind_text(st, 1, list[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sum, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        sqlite3_finalize(st);
        if (step != SQLITE_DONE || exec(db, "COMMIT", err, errlen) != 0) {
            if (step != SQLITE_DONE)
                fail(db, "recording the migration", err, errlen);
            rollback(db);
            rc = -1;
            break;
        }
        (*applied)++;
    }
    free(list);
    return rc;
}

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

/* Appends s to a string array grown one at a time (lists are short). */
static int push_string(char ***v, size_t *n, char *s)
{
    char **grown = realloc(*v, (*n + 1) * sizeof **v);
    if (!grown || !s) {
        free(s);
        if (grown)
            *v = grown;
        return -1;
    }
    *v = grown;
    (*v)[(*n)++] = s;
    return 0;
}

static int load_rows(sqlite3 *db, dataset *d, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    strmap gindex = {0}, bindex = {0};
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT id, name, type, parent_id, description, origin_year FROM genres ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        goto sqlfail;
    while (sqlite3_step(st) == SQLITE_ROW) {
        genre *g = dataset_add_genre(d);
        if (!g)
            goto oom;
        g->id = column_dup(st, 0);
        g->name = column_dup(st, 1);
        g->type = genre_type_parse((const char *)sqlite3_column_text(st, 2));
        g->parent = column_dup(st, 3);
        g->description = column_dup(st, 4);
        g->origin_year = sqlite3_column_int(st, 5);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (strmap_init(&gindex, d->ngenres) != 0)
        goto oom;
    for (size_t i = 0; i < d->ngenres; i++)
        if (strmap_put(&gindex, d->genres[i].id, i) != 0)
            goto oom;

    if (sqlite3_prepare_v2(db, "SELECT genre_id, parent_id FROM genre_parents ORDER BY genre_id, position", -1, &st,
                           NULL) != SQLITE_OK)
        goto sqlfail;
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t gi;
        if (!strmap_get(&gindex, (const char *)sqlite3_column_text(st, 0), &gi))
            continue;
        genre *g = &d->genres[gi];
        if (push_string(&g->parents, &g->nparents, column_dup(st, 1)) != 0)
            goto oom;
    }
    sqlite3_finalize(st);
    st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT from_id, to_id, kind FROM genre_links ORDER BY from_id, position", -1, &st,
                           NULL) != SQLITE_OK)
        goto sqlfail;
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t gi;
        if (!strmap_get(&gindex, (const char *)sqlite3_column_text(st, 0), &gi))
            continue;
        genre *g = &d->genres[gi];
        genre_link *links = realloc(g->links, (g->nlinks + 1) * sizeof *links);
        if (!links)
            goto oom;
        g->links = links;
        g->links[g->nlinks].to = column_dup(st, 1);
        g->links[g->nlinks].kind = column_dup(st, 2);
        g->nlinks++;
    }
    sqlite3_finalize(st);
    st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT id, name, primary_genre FROM bands ORDER BY id", -1, &st, NULL) != SQLITE_OK)
        goto sqlfail;
    while (sqlite3_step(st) == SQLITE_ROW) {
        band *b = dataset_add_band(d);
        if (!b)
            goto oom;
        b->id = column_dup(st, 0);
        b->name = column_dup(st, 1);
        b->primary_genre = column_dup(st, 2);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (strmap_init(&bindex, d->nbands) != 0)
        goto oom;
    for (size_t i = 0; i < d->nbands; i++)
        if (strmap_put(&bindex, d->bands[i].id, i) != 0)
            goto oom;

    if (sqlite3_prepare_v2(db, "SELECT band_id, genre_id FROM band_genres ORDER BY band_id, position", -1, &st,
                           NULL) != SQLITE_OK)
        goto sqlfail;
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t bi;
        if (!strmap_get(&bindex, (const char *)sqlite3_column_text(st, 0), &bi))
            continue;
        band *b = &d->bands[bi];
        if (push_string(&b->genres, &b->ngenres, column_dup(st, 1)) != 0)
            goto oom;
    }
    rc = 0;
    goto done;
sqlfail:
    fail(db, "reading the map", err, errlen);
    goto done;
oom:
    snprintf(err, errlen, "out of memory while reading the map");
done:
    sqlite3_finalize(st);
    strmap_free(&gindex);
    strmap_free(&bindex);
    return rc;
}

static int sqlite_load(store *s, dataset *out, char *err, size_t errlen)
{
    sqlite3 *db = db_of(s);
    memset(out, 0, sizeof *out);
    /* One read transaction: every table is read at the same instant. */
    if (exec(db, "BEGIN", err, errlen) != 0)
        return -1;
    int rc = load_rows(db, out, err, errlen);
    exec(db, "COMMIT", err, rc == 0 ? errlen : 0);
    if (rc != 0)
        dataset_free(out);
    return rc;
}

static int sqlite_is_empty(store *s, int *empty, char *err, size_t errlen)
{
    sqlite3 *db = db_of(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM genres) + (SELECT count(*) FROM bands)", -1, &st,
                           NULL) != SQLITE_OK)
        return fail(db, "counting rows", err, errlen);
    int rc = sqlite3_step(st);
    *empty = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(db, "counting rows", err, errlen);
}

/* Runs a prepared insert; binds text values (NULL allowed) in order. */
static int insert_row(sqlite3_stmt *st, const char *const *values, int n, int64_t last_int, int has_int)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, values[i], -1, SQLITE_STATIC);
    if (has_int) {
        if (last_int == 0 && has_int == 2)
            sqlite3_bind_null(st, n + 1);
        else
            sqlite3_bind_int64(st, n + 1, last_int);
    }
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

static int replace_rows(sqlite3 *db, const dataset *d, char *err, size_t errlen)
{
    static const char *const sql[] = {
        "INSERT INTO genres (id, name, type, parent_id, description, origin_year) VALUES (?, ?, ?, ?, ?, ?)",
        "INSERT INTO genre_parents (genre_id, parent_id, position) VALUES (?, ?, ?)",
        "INSERT INTO genre_links (from_id, to_id, kind, position) VALUES (?, ?, ?, ?)",
        "INSERT INTO bands (id, name, primary_genre) VALUES (?, ?, ?)",
        "INSERT INTO band_genres (band_id, genre_id, position) VALUES (?, ?, ?)",
    };
    sqlite3_stmt *st[5] = {0};
    int rc = -1;
    char what[160] = "";
    if (exec(db, "DELETE FROM band_genres; DELETE FROM bands; DELETE FROM genre_links; DELETE FROM genre_parents; "
                 "DELETE FROM genres;",
             err, errlen) != 0)
        return -1;
    for (int i = 0; i < 5; i++)
        if (sqlite3_prepare_v2(db, sql[i], -1, &st[i], NULL) != SQLITE_OK) {
            fail(db, "preparing inserts", err, errlen);
            goto done;
        }
    for (size_t i = 0; i < d->ngenres; i++) {
        const genre *g = &d->genres[i];
        const char *v[] = {g->id, g->name, genre_type_name(g->type), g->parent, g->description};
        snprintf(what, sizeof what, "genre %s", g->id);
        if (insert_row(st[0], v, 5, g->origin_year, 2) != 0)
            goto sqlfail;
        for (size_t j = 0; j < g->nparents; j++) {
            const char *p[] = {g->id, g->parents[j]};
            if (insert_row(st[1], p, 2, (int64_t)j, 1) != 0)
                goto sqlfail;
        }
        for (size_t j = 0; j < g->nlinks; j++) {
            const char *l[] = {g->id, g->links[j].to, g->links[j].kind};
            if (insert_row(st[2], l, 3, (int64_t)j, 1) != 0)
                goto sqlfail;
        }
    }
    for (size_t i = 0; i < d->nbands; i++) {
        const band *b = &d->bands[i];
        const char *v[] = {b->id, b->name, b->primary_genre};
        snprintf(what, sizeof what, "band %s", b->id);
        if (insert_row(st[3], v, 3, 0, 0) != 0)
            goto sqlfail;
        for (size_t j = 0; j < b->ngenres; j++) {
            const char *p[] = {b->id, b->genres[j]};
            if (insert_row(st[4], p, 2, (int64_t)j, 1) != 0)
                goto sqlfail;
        }
    }
    rc = exec(db, "UPDATE data_version SET version = version + 1 WHERE id = 1", err, errlen);
    goto done;
sqlfail:
    fail(db, what, err, errlen);
done:
    for (int i = 0; i < 5; i++)
        sqlite3_finalize(st[i]);
    return rc;
}

static int sqlite_replace_all(store *s, const dataset *d, char *err, size_t errlen)
{
    sqlite3 *db = db_of(s);
    if (exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    if (replace_rows(db, d, err, errlen) != 0) {
        rollback(db);
        return -1;
    }
    /* Deferred foreign keys are checked here; a violation aborts it all. */
    if (exec(db, "COMMIT", err, errlen) != 0) {
        rollback(db);
        return -1;
    }
    return 0;
}

static int sqlite_data_version(store *s, int64_t *version, char *err, size_t errlen)
{
    sqlite3 *db = db_of(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT version FROM data_version WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
        return fail(db, "reading the data version", err, errlen);
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(db, "reading the data version", err, errlen);
}

static const struct store_ops sqlite_ops = {
    "sqlite",       sqlite_close,     sqlite_migrations,    sqlite_migrate,
    sqlite_load,    sqlite_is_empty,  sqlite_replace_all,   sqlite_data_version,
};

int sqlite_store_open(const char *path, store **out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open SQLite database %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    char what[200];
    if (exec(db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", what,
             sizeof what) != 0) {
        snprintf(err, errlen, "cannot use SQLite database %s: %s", path, what);
        sqlite3_close(db);
        return -1;
    }
    sqlite_store *s = calloc(1, sizeof *s);
    if (!s) {
        sqlite3_close(db);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->base.ops = &sqlite_ops;
    s->db = db;
    *out = &s->base;
    return 0;
}
