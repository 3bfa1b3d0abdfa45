/*
 * sqlite.c — the schema and the map in SQLite: migrations, reading the whole
 * map in one transaction, writing an edit as the difference between two
 * maps (see store.h; the connection is opened in sqlite_backend.c).
 *
 * Writes take the write lock up front (BEGIN IMMEDIATE) so a transaction
 * never fails half way on a lock upgrade.
 */
#include "store/sqlite_internal.h"
#include "core/xalloc.h"

#include "core/embedded.h"
#include "core/sha256.h"
#include "store/schema.h"
#include "store/maprows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Files the rows of schema_migrations (if any) into st. */
static int read_schema(sqlite3 *db, schema_state *st, char *err, size_t errlen)
{
    int exists = 0;
    if (sq_table_exists(db, "schema_migrations", &exists, err, errlen) != 0)
        return -1;
    if (!exists)
        return 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT name, checksum, applied_at FROM schema_migrations ORDER BY name", -1, &q,
                           NULL) != SQLITE_OK)
        return sq_fail(db, "reading schema_migrations", err, errlen);
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW)
        schema_record(st, (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1),
                      (const char *)sqlite3_column_text(q, 2), NULL);
    sqlite3_finalize(q);
    /* A scan that ends on an error is not a complete list. */
    return step == SQLITE_DONE ? 0 : sq_fail(db, "reading schema_migrations", err, errlen);
}

int sq_migrations(store *s, store_migration **list, size_t *count, size_t *unknown, char *err, size_t errlen)
{
    schema_state st;
    schema_init(&st, embedded_sqlite_migrations);
    int rc = read_schema(sq_db(s), &st, err, errlen);
    if (rc == 0)
        schema_take(&st, list, count, unknown);
    schema_free(&st);
    return rc;
}

int sq_migrate(store *s, int *applied, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    *applied = 0;
    if (sq_exec(db,
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, "
                "applied_at TEXT NOT NULL)",
                err, errlen) != 0)
        return -1;
    schema_state sch;
    schema_init(&sch, embedded_sqlite_migrations);
    store_migration *list = sch.list;
    size_t n = sch.count;
    int rc = read_schema(db, &sch, err, errlen);
    if (rc == 0)
        rc = schema_check(&sch, err, errlen);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (list[i].applied)
            continue;
        const struct embedded_file *f = &embedded_sqlite_migrations[i];
        char sum[SHA256_HEX_SIZE];
        sha256_hex(f->data, f->len, sum);
        if (sq_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0) {
            rc = -1;
            break;
        }
        char what[200];
        if (sq_exec(db, (const char *)f->data, what, sizeof what) != 0) {
            snprintf(err, errlen, "migration %s failed: %s", list[i].name, what);
            sq_rollback(db);
            rc = -1;
            break;
        }
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO schema_migrations (name, checksum, applied_at) "
                               "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                               -1, &st, NULL) != SQLITE_OK) {
            rc = sq_fail(db, "recording the migration", err, errlen);
            sq_rollback(db);
            break;
        }
        sqlite3_bind_text(st, 1, list[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sum, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        sqlite3_finalize(st);
        if (step != SQLITE_DONE || sq_exec(db, "COMMIT", err, errlen) != 0) {
            if (step != SQLITE_DONE)
                sq_fail(db, "recording the migration", err, errlen);
            sq_rollback(db);
            rc = -1;
            break;
        }
        (*applied)++;
    }
    schema_free(&sch);
    return rc;
}

int sq_startup(store *s, store_startup_fn fn, void *ctx, char *err, size_t errlen) { return fn(s, ctx, err, errlen); }

/* Runs sql, which selects (owner id, value) in owner and position order,
 * and files each value under its owner. -1: SQL error. */
static int load_list(sqlite3 *db, const char *sql, maprows *m, maprows_list list)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        maprows_add(m, list, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? 0 : -1;
}

int sq_load_map(sqlite3 *db, dataset *d, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    maprows rows = {0};
    int rc = -1, v2, has_type, step;
    /* A backup taken before migration 0003 reads a schema without its tables,
     * one taken before 0006 a bands table without its type column. */
    if (sq_table_exists(db, "genre_defining", &v2, err, errlen) != 0 ||
        sq_column_exists(db, "bands", "type", &has_type, err, errlen) != 0)
        return -1;
    if (sqlite3_prepare_v2(db,
                           v2 ? "SELECT id, name, type, parent_id, description, origin_year, region FROM genres "
                                "ORDER BY id"
                              : "SELECT id, name, type, parent_id, description, origin_year, NULL FROM genres "
                                "ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        goto sqlfail;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        genre *g = dataset_add_genre(d);
        if (!g)
            goto oom;
        g->id = sq_column_dup(st, 0);
        g->name = sq_column_dup(st, 1);
        g->type = genre_type_parse((const char *)sqlite3_column_text(st, 2));
        g->parent = sq_column_dup(st, 3);
        g->description = sq_column_dup(st, 4);
        g->origin_year = sqlite3_column_int(st, 5);
        g->region = sq_column_dup(st, 6);
    }
    if (step != SQLITE_DONE)
        goto sqlfail;
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db,
                           has_type
                               ? "SELECT id, name, primary_genre, country, active_from, type FROM bands ORDER BY id"
                           : v2 ? "SELECT id, name, primary_genre, country, active_from, NULL FROM bands ORDER BY id"
                                : "SELECT id, name, primary_genre, NULL, NULL, NULL FROM bands ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        goto sqlfail;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        band *b = dataset_add_band(d);
        if (!b)
            goto oom;
        b->id = sq_column_dup(st, 0);
        b->name = sq_column_dup(st, 1);
        b->primary_genre = sq_column_dup(st, 2);
        b->country = sq_column_dup(st, 3);
        b->active_from = sqlite3_column_int(st, 4);
        band_type_parse((const char *)sqlite3_column_text(st, 5), &b->type); /* NULL: unknown */
    }
    if (step != SQLITE_DONE)
        goto sqlfail;
    sqlite3_finalize(st);
    st = NULL;
    if (maprows_init(&rows, d) != 0)
        goto oom;

    if (load_list(db, "SELECT genre_id, parent_id FROM genre_parents ORDER BY genre_id, position", &rows,
                  MAPROWS_GENRE_PARENTS) != 0 ||
        load_list(db, "SELECT band_id, genre_id FROM band_genres ORDER BY band_id, position", &rows,
                  MAPROWS_BAND_GENRES) != 0)
        goto sqlfail;
    if (v2 && (load_list(db, "SELECT genre_id, alias FROM genre_aliases ORDER BY genre_id, position", &rows,
                         MAPROWS_GENRE_ALIASES) != 0 ||
               load_list(db, "SELECT genre_id, former_id FROM genre_former_ids ORDER BY genre_id, position", &rows,
                         MAPROWS_GENRE_FORMER_IDS) != 0 ||
               load_list(db, "SELECT genre_id, band_id FROM genre_defining ORDER BY genre_id, position", &rows,
                         MAPROWS_GENRE_DEFINING) != 0 ||
               load_list(db, "SELECT band_id, alias FROM band_aliases ORDER BY band_id, position", &rows,
                         MAPROWS_BAND_ALIASES) != 0 ||
               load_list(db, "SELECT band_id, former_id FROM band_former_ids ORDER BY band_id, position", &rows,
                         MAPROWS_BAND_FORMER_IDS) != 0))
        goto sqlfail;

    if (sqlite3_prepare_v2(db, "SELECT from_id, to_id, kind FROM genre_links ORDER BY from_id, position", -1, &st,
                           NULL) != SQLITE_OK)
        goto sqlfail;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        maprows_add_link(&rows, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
                         (const char *)sqlite3_column_text(st, 2));
    /* Only a scan that reached its end is the whole map: an I/O error, a
     * busy lock or a short allocation inside SQLite ends it early too. */
    if (step != SQLITE_DONE)
        goto sqlfail;
    rc = 0;
    goto done;
sqlfail:
    sq_fail(db, "reading the map", err, errlen);
    goto done;
oom:
    snprintf(err, errlen, "out of memory while reading the map");
done:
    sqlite3_finalize(st);
    maprows_free(&rows);
    return rc;
}

int sq_load(store *s, dataset *out, int64_t *version, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    memset(out, 0, sizeof *out);
    /* One read transaction: every table, and the version, at the same instant. */
    if (sq_exec(db, "BEGIN", err, errlen) != 0)
        return -1;
    int rc = sq_load_map(db, out, err, errlen);
    if (rc == 0 && version)
        rc = sq_data_version(s, version, err, errlen);
    sq_exec(db, "COMMIT", err, rc == 0 ? errlen : 0);
    if (rc != 0)
        dataset_free(out);
    return rc;
}

int sq_is_empty(store *s, int *empty, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM genres) + (SELECT count(*) FROM bands)", -1, &st, NULL) !=
        SQLITE_OK)
        return sq_fail(db, "counting rows", err, errlen);
    int rc = sqlite3_step(st);
    *empty = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : sq_fail(db, "counting rows", err, errlen);
}

/*
 * Row writer: prepared statements for every row kind, shared by
 * sq_write_map (delete everything, insert everything: seed, restore) and
 * edit (write only what differs between the current map and the edited one).
 */
enum {
    W_GENRE_INSERT,
    W_GENRE_UPDATE,
    W_GENRE_DELETE,
    W_PARENT_INSERT,
    W_PARENTS_DELETE,
    W_LINK_INSERT,
    W_LINKS_DELETE,
    W_GENRE_ALIAS_INSERT,
    W_GENRE_ALIASES_DELETE,
    W_GENRE_FORMER_INSERT,
    W_GENRE_FORMERS_DELETE,
    W_DEFINING_INSERT,
    W_DEFINING_DELETE,
    W_BAND_INSERT,
    W_BAND_UPDATE,
    W_BAND_DELETE,
    W_BAND_GENRE_INSERT,
    W_BAND_GENRES_DELETE,
    W_BAND_ALIAS_INSERT,
    W_BAND_ALIASES_DELETE,
    W_BAND_FORMER_INSERT,
    W_BAND_FORMERS_DELETE,
    W_COUNT
};

static const char *const writer_sql[W_COUNT] = {
    "INSERT INTO genres (id, name, type, parent_id, description, region, origin_year) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "UPDATE genres SET name = ?2, type = ?3, parent_id = ?4, description = ?5, region = ?6, origin_year = ?7, "
    "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
    "DELETE FROM genres WHERE id = ?1",
    "INSERT INTO genre_parents (genre_id, parent_id, position) VALUES (?1, ?2, ?3)",
    "DELETE FROM genre_parents WHERE genre_id = ?1",
    "INSERT INTO genre_links (from_id, to_id, kind, position) VALUES (?1, ?2, ?3, ?4)",
    "DELETE FROM genre_links WHERE from_id = ?1",
    "INSERT INTO genre_aliases (genre_id, alias, position) VALUES (?1, ?2, ?3)",
    "DELETE FROM genre_aliases WHERE genre_id = ?1",
    "INSERT INTO genre_former_ids (genre_id, former_id, position) VALUES (?1, ?2, ?3)",
    "DELETE FROM genre_former_ids WHERE genre_id = ?1",
    "INSERT INTO genre_defining (genre_id, band_id, position) VALUES (?1, ?2, ?3)",
    "DELETE FROM genre_defining WHERE genre_id = ?1",
    "INSERT INTO bands (id, name, primary_genre, country, type, active_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "UPDATE bands SET name = ?2, primary_genre = ?3, country = ?4, type = ?5, active_from = ?6, "
    "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
    "DELETE FROM bands WHERE id = ?1",
    "INSERT INTO band_genres (band_id, genre_id, position) VALUES (?1, ?2, ?3)",
    "DELETE FROM band_genres WHERE band_id = ?1",
    "INSERT INTO band_aliases (band_id, alias, position) VALUES (?1, ?2, ?3)",
    "DELETE FROM band_aliases WHERE band_id = ?1",
    "INSERT INTO band_former_ids (band_id, former_id, position) VALUES (?1, ?2, ?3)",
    "DELETE FROM band_former_ids WHERE band_id = ?1",
};

typedef struct writer {
    sqlite3 *db;
    sqlite3_stmt *st[W_COUNT];
    char what[160]; /* the row being written, for error messages */
} writer;

static int writer_open(writer *w, sqlite3 *db, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->db = db;
    for (int i = 0; i < W_COUNT; i++)
        if (sq_prepare(db, writer_sql[i], &w->st[i], err, errlen) != 0)
            return -1;
    return 0;
}

static void writer_close(writer *w)
{
    for (int i = 0; i < W_COUNT; i++)
        sqlite3_finalize(w->st[i]);
}

/* Runs statement k with text parameters (NULL binds NULL), then an optional
 * integer parameter after them (has_int; int_null binds NULL instead). */
static int run(writer *w, int k, const char *const *text, int ntext, int64_t num, int has_int, int int_null)
{
    sqlite3_stmt *st = w->st[k];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (int i = 0; i < ntext; i++)
        sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_STATIC);
    if (has_int) {
        if (int_null)
            sqlite3_bind_null(st, ntext + 1);
        else
            sqlite3_bind_int64(st, ntext + 1, num);
    }
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

/* Replaces the list of owner in one list table: delete (on update), then
 * one row (owner, value, position) per value. */
static int write_list(writer *w, int k_insert, int k_delete, int update, const char *owner, char *const *values,
                      size_t n)
{
    const char *row[] = {owner};
    if (update && run(w, k_delete, row, 1, 0, 0, 0) != 0)
        return -1;
    for (size_t j = 0; j < n; j++) {
        const char *p[] = {owner, values[j]};
        if (run(w, k_insert, p, 2, (int64_t)j, 1, 0) != 0)
            return -1;
    }
    return 0;
}

static int write_genre(writer *w, const genre *g, int update)
{
    snprintf(w->what, sizeof w->what, "genre %s", g->id);
    const char *row[] = {g->id, g->name, genre_type_name(g->type), g->parent, g->description, g->region};
    if (run(w, update ? W_GENRE_UPDATE : W_GENRE_INSERT, row, 6, g->origin_year, 1, g->origin_year == 0) != 0)
        return -1;
    if (write_list(w, W_PARENT_INSERT, W_PARENTS_DELETE, update, g->id, g->parents, g->nparents) != 0 ||
        write_list(w, W_GENRE_ALIAS_INSERT, W_GENRE_ALIASES_DELETE, update, g->id, g->aliases, g->naliases) != 0 ||
        write_list(w, W_GENRE_FORMER_INSERT, W_GENRE_FORMERS_DELETE, update, g->id, g->former_ids, g->nformer_ids) !=
            0 ||
        write_list(w, W_DEFINING_INSERT, W_DEFINING_DELETE, update, g->id, g->defining, g->ndefining) != 0)
        return -1;
    if (update && run(w, W_LINKS_DELETE, row, 1, 0, 0, 0) != 0)
        return -1;
    for (size_t j = 0; j < g->nlinks; j++) {
        const char *l[] = {g->id, g->links[j].to, g->links[j].kind};
        if (run(w, W_LINK_INSERT, l, 3, (int64_t)j, 1, 0) != 0)
            return -1;
    }
    return 0;
}

static int write_band(writer *w, const band *b, int update)
{
    snprintf(w->what, sizeof w->what, "band %s", b->id);
    const char *row[] = {b->id, b->name, b->primary_genre, b->country, band_type_name(b->type)};
    /* Genres first on update: the new primary must be linked when the row changes. */
    if (update && run(w, W_BAND_GENRES_DELETE, row, 1, 0, 0, 0) != 0)
        return -1;
    if (run(w, update ? W_BAND_UPDATE : W_BAND_INSERT, row, 5, b->active_from, 1, b->active_from == 0) != 0)
        return -1;
    return write_list(w, W_BAND_GENRE_INSERT, W_BAND_GENRES_DELETE, 0, b->id, b->genres, b->ngenres) != 0 ||
                   write_list(w, W_BAND_ALIAS_INSERT, W_BAND_ALIASES_DELETE, update, b->id, b->aliases, b->naliases) !=
                       0 ||
                   write_list(w, W_BAND_FORMER_INSERT, W_BAND_FORMERS_DELETE, update, b->id, b->former_ids,
                              b->nformer_ids) != 0
               ? -1
               : 0;
}

static int delete_row(writer *w, int k, const char *kind, const char *id)
{
    snprintf(w->what, sizeof w->what, "deleting %s %s", kind, id);
    const char *row[] = {id};
    return run(w, k, row, 1, 0, 0, 0);
}

static int genre_cb(void *w, const genre *g, int update) { return write_genre(w, g, update); }
static int band_cb(void *w, const band *b, int update) { return write_band(w, b, update); }
static int delete_genre_cb(void *w, const char *id) { return delete_row(w, W_GENRE_DELETE, "genre", id); }
static int delete_band_cb(void *w, const char *id) { return delete_row(w, W_BAND_DELETE, "band", id); }

static maprows_writer rows_writer(writer *w)
{
    return (maprows_writer){genre_cb, band_cb, delete_genre_cb, delete_band_cb, w};
}

static int bump_version(sqlite3 *db, char *err, size_t errlen)
{
    return sq_exec(db, "UPDATE data_version SET version = version + 1 WHERE id = 1", err, errlen);
}

/* Commits, turning a deferred foreign key failure into a conflict. */
static int commit(sqlite3 *db, char *err, size_t errlen)
{
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    int rc = sq_fail(db, "the database refused the change", err, errlen);
    sq_rollback(db);
    return rc;
}

int sq_write_map(sqlite3 *db, const dataset *d, char *err, size_t errlen)
{
    writer w;
    int rc = writer_open(&w, db, err, errlen);
    if (rc == 0)
        rc = sq_exec(db,
                     "DELETE FROM genre_defining; DELETE FROM genre_aliases; DELETE FROM genre_former_ids; "
                     "DELETE FROM band_aliases; DELETE FROM band_former_ids; DELETE FROM band_genres; "
                     "DELETE FROM bands; DELETE FROM genre_links; DELETE FROM genre_parents; DELETE FROM genres;",
                     err, errlen);
    maprows_writer rw = rows_writer(&w);
    if (rc == 0 && maprows_write_all(&rw, d) != 0)
        rc = sq_fail(db, w.what, err, errlen);
    writer_close(&w);
    return rc;
}

int sq_replace_all(store *s, const dataset *d, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    if (sq_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    int rc = sq_write_map(db, d, err, errlen);
    if (rc == 0)
        rc = bump_version(db, err, errlen);
    if (rc != 0) {
        sq_rollback(db);
        return rc;
    }
    return commit(db, err, errlen);
}

int sq_edit(store *s, store_edit_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    dataset current, next;
    store_audit audit;
    memset(&audit, 0, sizeof audit);
    /* The write lock first: the map fn sees stays current until commit. */
    if (sq_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    memset(&current, 0, sizeof current);
    if (sq_load_map(db, &current, err, errlen) != 0) {
        dataset_free(&current);
        sq_rollback(db);
        return -1;
    }
    if (dataset_copy(&next, &current) != 0) {
        dataset_free(&current);
        sq_rollback(db);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = fn(&current, &next, &audit, ctx);
    if (rc != 0) {
        rc = MG_ERR_DECLINED;
    } else {
        writer w;
        rc = writer_open(&w, db, err, errlen);
        maprows_writer rw = rows_writer(&w);
        if (rc == 0 && maprows_write_diff(&rw, &current, &next) != 0)
            rc = sq_fail(db, w.what, err, errlen);
        writer_close(&w);
        if (rc == 0 && audit.action[0])
            rc = sq_audit_insert(db, &audit, err, errlen);
        if (rc == 0)
            rc = bump_version(db, err, errlen);
    }
    dataset_free(&current);
    dataset_free(&next);
    store_audit_clear(&audit);
    if (rc != 0) {
        sq_rollback(db);
        return rc;
    }
    return commit(db, err, errlen);
}

int sq_wait_change(store *s, int timeout_ms, int *changed, char *err, size_t errlen)
{
    (void)s, (void)timeout_ms;
    *changed = 0;
    snprintf(err, errlen, "SQLite has no change notifications: poll the data version");
    return MG_ERR_NOT_FOUND;
}

int sq_server_check(store *s, char *info, size_t infolen, int *warn, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sq_prepare(sq_db(s), "PRAGMA journal_mode", &st, err, errlen) != 0)
        return -1;
    int rc = sqlite3_step(st);
    const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    snprintf(info, infolen, "SQLite %s, journal_mode %s", sqlite3_libversion(), mode ? (const char *)mode : "?");
    /* The connection sets synchronous = FULL itself; WAL is what readers need not to wait. */
    *warn = !mode || strcmp((const char *)mode, "wal") != 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : sq_fail(sq_db(s), "reading the journal mode", err, errlen);
}

int sq_data_version(store *s, int64_t *version, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT version FROM data_version WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, "reading the data version", err, errlen);
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : sq_fail(db, "reading the data version", err, errlen);
}
