/*
 * postgres.c — the schema and the map in PostgreSQL: migrations, reading
 * the whole map in one snapshot, writing an edit as the difference between
 * two maps (see store.h; the connection is opened in postgres_backend.c).
 *
 * Migrations: several instances may start at once on one database. Each
 * takes a session advisory lock (PG_LOCK_MIGRATIONS) before looking: the
 * first applies what is pending, each migration in its own transaction; the
 * others wait on the lock, then find nothing to do. Each row of
 * schema_migrations records the musicgraph version that applied it, so an
 * older binary can say which one it needs.
 *
 * Concurrent edits: an edit reads the whole map, lets the domain rules
 * decide, and writes the difference. Two instances editing at once must not
 * both decide on a map the other is changing, so every map write first
 * takes one transaction-scoped advisory lock (PG_LOCK_MAP) and only then
 * reads, at READ COMMITTED: writes to the map run one after the other, each
 * on the map as the previous one left it, and nothing ever has to be
 * retried. SERIALIZABLE would give the same guarantee with retries, but an
 * edit reads every row, so any two concurrent edits would conflict anyway;
 * the lock says so up front and costs readers nothing (snapshot reads run
 * in REPEATABLE READ and never wait on it). The constraint triggers take
 * the same lock, so a writer that bypasses the server (psql) is serialized
 * with the edits too, and the rules hold whoever writes.
 */
#include "store/postgres_internal.h"

#include "core/sha256.h"
#include "core/xalloc.h"
#include "mg_version.h"
#include "store/maprows.h"
#include "store/schema.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Files the rows of schema_migrations (if the table exists) into st. */
static int read_schema(pg_store *p, schema_state *st, char *err, size_t errlen)
{
    int exists;
    if (pg_table_exists(p, "schema_migrations", &exists, err, errlen) != 0)
        return -1;
    if (!exists)
        return 0;
    PGresult *r =
        pg_run(p, "SELECT name, checksum, applied_at, app_version FROM schema_migrations ORDER BY name", 0, NULL);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading schema_migrations", err, errlen);
    for (int i = 0; i < PQntuples(r); i++)
        schema_record(st, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
    PQclear(r);
    return 0;
}

int pg_migrations(store *s, store_migration **list, size_t *count, size_t *unknown, char *err, size_t errlen)
{
    schema_state st;
    schema_init(&st, embedded_postgres_migrations);
    int rc = read_schema(pg(s), &st, err, errlen);
    if (rc == 0)
        schema_take(&st, list, count, unknown);
    schema_free(&st);
    return rc;
}

static int apply(pg_store *p, const struct embedded_file *f, const char *name, char *err, size_t errlen)
{
    char sum[SHA256_HEX_SIZE], what[200];
    sha256_hex(f->data, f->len, sum);
    if (pg_begin(p, err, errlen) != 0)
        return -1;
    /* Several statements: the simple query protocol runs them all, in this transaction. */
    PGresult *r = PQexec(p->conn, (const char *)f->data);
    snprintf(what, sizeof what, "migration %s failed", name);
    if (!pg_ok(r)) {
        int rc = pg_fail(p, r, what, err, errlen);
        pg_rollback(p);
        return rc < 0 ? rc : -1;
    }
    PQclear(r);
    const char *params[] = {name, sum, MG_VERSION};
    if (pg_cmd(p,
               "INSERT INTO schema_migrations (name, checksum, applied_at, app_version) "
               "VALUES ($1, $2, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), $3)",
               3, params, "recording the migration", err, errlen) != 0) {
        pg_rollback(p);
        return -1;
    }
    return pg_commit(p, what, err, errlen) == 0 ? 0 : -1;
}

static int migrate_locked(pg_store *p, int *applied, char *err, size_t errlen)
{
    if (pg_cmd(p,
               "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, "
               "applied_at TEXT NOT NULL, app_version TEXT NOT NULL DEFAULT '')",
               0, NULL, "creating schema_migrations", err, errlen) != 0)
        return -1;
    schema_state st;
    schema_init(&st, embedded_postgres_migrations);
    int rc = read_schema(p, &st, err, errlen);
    if (rc == 0)
        rc = schema_check(&st, err, errlen);
    for (size_t i = 0; rc == 0 && i < st.count; i++) {
        if (st.list[i].applied)
            continue;
        rc = apply(p, &embedded_postgres_migrations[i], st.list[i].name, err, errlen);
        if (rc == 0)
            (*applied)++;
    }
    schema_free(&st);
    return rc;
}

/* Takes (or gives back) the session lock of migrations and start-up work;
 * it nests, and the server drops it when the connection ends. */
static int startup_lock(pg_store *p, int take, char *err, size_t errlen)
{
    pg_num key = pg_i64(PG_LOCK_MIGRATIONS);
    const char *params[] = {key.s};
    if (take)
        return pg_cmd(p, "SELECT pg_advisory_lock($1::bigint)", 1, params, "waiting for another instance's start", err,
                      errlen);
    PQclear(pg_run(p, "SELECT pg_advisory_unlock($1::bigint)", 1, params));
    return 0;
}

int pg_migrate(store *s, int *applied, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    *applied = 0;
    if (startup_lock(p, 1, err, errlen) != 0)
        return -1;
    int rc = migrate_locked(p, applied, err, errlen);
    startup_lock(p, 0, NULL, 0);
    return rc;
}

int pg_startup(store *s, store_startup_fn fn, void *ctx, char *err, size_t errlen)
{
    if (startup_lock(pg(s), 1, err, errlen) != 0)
        return -1;
    int rc = fn(s, ctx, err, errlen);
    startup_lock(pg(s), 0, NULL, 0);
    return rc;
}

/* Runs sql, which selects (owner id, value) in owner and position order,
 * and files each value under its owner. */
static int load_list(pg_store *p, const char *sql, maprows *m, maprows_list list, char *err, size_t errlen)
{
    PGresult *r = pg_run(p, sql, 0, NULL);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading the map", err, errlen);
    for (int i = 0; i < PQntuples(r); i++)
        maprows_add(m, list, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    return 0;
}

int pg_load_map(pg_store *p, dataset *d, char *err, size_t errlen)
{
    /* The pre-migration backup reads a schema from before migration 0003,
     * without its tables and columns (as SQLite's sq_load_map does). */
    int v2, has_type;
    if (pg_table_exists(p, "genre_defining", &v2, err, errlen) != 0 ||
        pg_column_exists(p, "bands", "type", &has_type, err, errlen) != 0)
        return -1;
    PGresult *r =
        pg_run(p,
               v2 ? "SELECT id, name, type, parent_id, description, origin_year, region FROM genres ORDER BY id"
                  : "SELECT id, name, type, parent_id, description, origin_year, NULL FROM genres ORDER BY id",
               0, NULL);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading the map", err, errlen);
    for (int i = 0; i < PQntuples(r); i++) {
        genre *g = dataset_add_genre(d);
        g->id = pg_dup(r, i, 0);
        g->name = pg_dup(r, i, 1);
        g->type = genre_type_parse(PQgetvalue(r, i, 2));
        g->parent = pg_dup(r, i, 3);
        g->description = pg_dup(r, i, 4);
        g->origin_year = (int)pg_get_i64(r, i, 5);
        g->region = pg_dup(r, i, 6);
    }
    PQclear(r);
    r = pg_run(p,
               has_type ? "SELECT id, name, primary_genre, country, active_from, type FROM bands ORDER BY id"
               : v2     ? "SELECT id, name, primary_genre, country, active_from, NULL FROM bands ORDER BY id"
                        : "SELECT id, name, primary_genre, NULL, NULL, NULL FROM bands ORDER BY id",
               0, NULL);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading the map", err, errlen);
    for (int i = 0; i < PQntuples(r); i++) {
        band *b = dataset_add_band(d);
        b->id = pg_dup(r, i, 0);
        b->name = pg_dup(r, i, 1);
        b->primary_genre = pg_dup(r, i, 2);
        b->country = pg_dup(r, i, 3);
        b->active_from = (int)pg_get_i64(r, i, 4);
        band_type_parse(PQgetvalue(r, i, 5), &b->type); /* NULL reads as "": unknown */
    }
    PQclear(r);
    maprows rows;
    if (maprows_init(&rows, d) != 0) {
        maprows_free(&rows);
        snprintf(err, errlen, "out of memory while reading the map");
        return -1;
    }
    int rc = -1;
    if (load_list(p, "SELECT genre_id, parent_id FROM genre_parents ORDER BY genre_id, position", &rows,
                  MAPROWS_GENRE_PARENTS, err, errlen) != 0 ||
        load_list(p, "SELECT band_id, genre_id FROM band_genres ORDER BY band_id, position", &rows, MAPROWS_BAND_GENRES,
                  err, errlen) != 0)
        goto done;
    if (v2 && (load_list(p, "SELECT genre_id, alias FROM genre_aliases ORDER BY genre_id, position", &rows,
                         MAPROWS_GENRE_ALIASES, err, errlen) != 0 ||
               load_list(p, "SELECT genre_id, former_id FROM genre_former_ids ORDER BY genre_id, position", &rows,
                         MAPROWS_GENRE_FORMER_IDS, err, errlen) != 0 ||
               load_list(p, "SELECT genre_id, band_id FROM genre_defining ORDER BY genre_id, position", &rows,
                         MAPROWS_GENRE_DEFINING, err, errlen) != 0 ||
               load_list(p, "SELECT band_id, alias FROM band_aliases ORDER BY band_id, position", &rows,
                         MAPROWS_BAND_ALIASES, err, errlen) != 0 ||
               load_list(p, "SELECT band_id, former_id FROM band_former_ids ORDER BY band_id, position", &rows,
                         MAPROWS_BAND_FORMER_IDS, err, errlen) != 0))
        goto done;
    r = pg_run(p, "SELECT from_id, to_id, kind FROM genre_links ORDER BY from_id, position", 0, NULL);
    if (!pg_ok(r)) {
        pg_fail(p, r, "reading the map", err, errlen);
        goto done;
    }
    for (int i = 0; i < PQntuples(r); i++)
        maprows_add_link(&rows, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
    PQclear(r);
    rc = 0;
done:
    maprows_free(&rows);
    return rc;
}

/* A read-only transaction in which every query sees the same instant. */
static int begin_snapshot(pg_store *p, char *err, size_t errlen)
{
    if (pg_cmd(p, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, "starting a read", err, errlen) != 0)
        return -1;
    p->in_tx = 1;
    return 0;
}

int pg_load(store *s, dataset *out, int64_t *version, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    memset(out, 0, sizeof *out);
    if (begin_snapshot(p, err, errlen) != 0)
        return -1;
    int rc = pg_load_map(p, out, err, errlen);
    if (rc == 0 && version)
        rc = pg_data_version(s, version, err, errlen);
    if (rc == 0)
        rc = pg_commit(p, "reading the map", err, errlen);
    else
        pg_rollback(p);
    if (rc != 0)
        dataset_free(out);
    return rc;
}

int pg_is_empty(store *s, int *empty, char *err, size_t errlen)
{
    int64_t n;
    if (pg_int(pg(s), "SELECT (SELECT count(*) FROM genres) + (SELECT count(*) FROM bands)", 0, NULL, &n, err,
               errlen) != 0)
        return -1;
    *empty = n == 0;
    return 0;
}

int pg_data_version(store *s, int64_t *version, char *err, size_t errlen)
{
    return pg_int(pg(s), "SELECT version FROM data_version WHERE id = 1", 0, NULL, version, err, errlen);
}

/* Counts (and frees) the notifications libpq has read. */
static int drain(pg_store *p)
{
    int n = 0;
    PGnotify *note;
    while ((note = PQnotifies(p->conn))) {
        n++;
        PQfreemem(note);
    }
    return n;
}

int pg_wait_change(store *s, int timeout_ms, int *changed, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    *changed = 0;
    if (PQstatus(p->conn) != CONNECTION_OK)
        p->listening = 0;
    if (!p->listening) {
        /* pg_run opens the connection again if it was lost. */
        if (pg_cmd(p, "LISTEN musicgraph_data", 0, NULL, "listening for changes", err, errlen) != 0)
            return -1;
        p->listening = 1;
        *changed = 1; /* whatever happened before listening was not heard */
        return 0;
    }
    if (drain(p) > 0) {
        *changed = 1;
        return 0;
    }
    struct pollfd fd = {.fd = PQsocket(p->conn), .events = POLLIN};
    int ready = poll(&fd, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) {
        snprintf(err, errlen, "waiting for changes: %s", strerror(errno));
        return -1;
    }
    if (ready > 0 && !PQconsumeInput(p->conn)) {
        p->listening = 0;
        snprintf(err, errlen, "listening for changes: the connection to PostgreSQL %s was lost", p->where);
        return -1;
    }
    *changed = drain(p) > 0;
    return 0;
}

int pg_server_check(store *s, char *info, size_t infolen, int *warn, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    PGresult *r = pg_run(p,
                         "SELECT current_setting('server_version'), current_setting('synchronous_commit'), "
                         "current_setting('fsync'), current_setting('server_encoding')",
                         0, NULL);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading the server's settings", err, errlen);
    const char *version = PQgetvalue(r, 0, 0), *sync = PQgetvalue(r, 0, 1), *fsync = PQgetvalue(r, 0, 2);
    snprintf(info, infolen, "PostgreSQL %s (%s), synchronous_commit %s, fsync %s, encoding %s", version, p->where, sync,
             fsync, PQgetvalue(r, 0, 3));
    /* An acknowledged write must survive a crash of the database server. */
    *warn = strcmp(sync, "off") == 0 || strcmp(fsync, "on") != 0 || PQserverVersion(p->conn) < 130000 ||
            strcmp(PQgetvalue(r, 0, 3), "UTF8") != 0;
    PQclear(r);
    return 0;
}

int pg_bump_version(pg_store *p, char *err, size_t errlen)
{
    /* The notification is delivered at commit, to every instance listening. */
    return pg_cmd(p,
                  "WITH v AS (UPDATE data_version SET version = version + 1 WHERE id = 1 RETURNING version) "
                  "SELECT pg_notify('musicgraph_data', version::text) FROM v",
                  0, NULL, "bumping the data version", err, errlen);
}

/*
 * Row writer: the statements for every row kind, for pg_edit (the rows that
 * differ; a whole map goes in with COPY, postgres_copy.c).
 */
typedef struct writer {
    pg_store *p;
    char what[160]; /* the row being written */
    char *err;
    size_t errlen;
    int rc;
} writer;

static int run(writer *w, const char *sql, int n, const char *const *params)
{
    if (w->rc == 0)
        w->rc = pg_cmd(w->p, sql, n, params, w->what, w->err, w->errlen);
    return w->rc;
}

/* Replaces the list of owner in one list table: delete (on update), then
 * one row (owner, value, position) per value. */
static int write_list(writer *w, const char *table, const char *owner_col, const char *value_col, int update,
                      const char *owner, char *const *values, size_t n)
{
    char sql[200];
    const char *row[] = {owner, NULL, NULL};
    if (update) {
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = $1", table, owner_col);
        if (run(w, sql, 1, row) != 0)
            return -1;
    }
    snprintf(sql, sizeof sql, "INSERT INTO %s (%s, %s, position) VALUES ($1, $2, $3::integer)", table, owner_col,
             value_col);
    for (size_t j = 0; j < n; j++) {
        pg_num pos = pg_i64((int64_t)j);
        row[1] = values[j];
        row[2] = pos.s;
        if (run(w, sql, 3, row) != 0)
            return -1;
    }
    return 0;
}

static int write_genre(void *ctx, const genre *g, int update)
{
    writer *w = ctx;
    snprintf(w->what, sizeof w->what, "genre %s", g->id);
    pg_num year = pg_i64(g->origin_year);
    const char *row[] = {g->id,          g->name,   genre_type_name(g->type),      g->parent,
                         g->description, g->region, g->origin_year ? year.s : NULL};
    if (run(w,
            update ? "UPDATE genres SET name = $2, type = $3, parent_id = $4, description = $5, region = $6, "
                     "origin_year = $7::integer, updated_at = to_char(now() AT TIME ZONE 'UTC', "
                     "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') WHERE id = $1"
                   : "INSERT INTO genres (id, name, type, parent_id, description, region, origin_year) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7::integer)",
            7, row) != 0)
        return -1;
    if (write_list(w, "genre_parents", "genre_id", "parent_id", update, g->id, g->parents, g->nparents) != 0 ||
        write_list(w, "genre_aliases", "genre_id", "alias", update, g->id, g->aliases, g->naliases) != 0 ||
        write_list(w, "genre_former_ids", "genre_id", "former_id", update, g->id, g->former_ids, g->nformer_ids) != 0 ||
        write_list(w, "genre_defining", "genre_id", "band_id", update, g->id, g->defining, g->ndefining) != 0)
        return -1;
    if (update && run(w, "DELETE FROM genre_links WHERE from_id = $1", 1, row) != 0)
        return -1;
    for (size_t j = 0; j < g->nlinks; j++) {
        pg_num pos = pg_i64((int64_t)j);
        const char *l[] = {g->id, g->links[j].to, g->links[j].kind, pos.s};
        if (run(w, "INSERT INTO genre_links (from_id, to_id, kind, position) VALUES ($1, $2, $3, $4::integer)", 4, l) !=
            0)
            return -1;
    }
    return 0;
}

static int write_band(void *ctx, const band *b, int update)
{
    writer *w = ctx;
    snprintf(w->what, sizeof w->what, "band %s", b->id);
    pg_num year = pg_i64(b->active_from);
    const char *row[] = {
        b->id, b->name, b->primary_genre, b->country, b->active_from ? year.s : NULL, band_type_name(b->type)};
    if (run(w,
            update
                ? "UPDATE bands SET name = $2, primary_genre = $3, country = $4, active_from = $5::integer, type = $6, "
                  "updated_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
                  "WHERE id = $1"
                : "INSERT INTO bands (id, name, primary_genre, country, active_from, type) "
                  "VALUES ($1, $2, $3, $4, $5::integer, $6)",
            6, row) != 0)
        return -1;
    return write_list(w, "band_genres", "band_id", "genre_id", update, b->id, b->genres, b->ngenres) != 0 ||
                   write_list(w, "band_aliases", "band_id", "alias", update, b->id, b->aliases, b->naliases) != 0 ||
                   write_list(w, "band_former_ids", "band_id", "former_id", update, b->id, b->former_ids,
                              b->nformer_ids) != 0
               ? -1
               : 0;
}

static int delete_genre(void *ctx, const char *id)
{
    writer *w = ctx;
    snprintf(w->what, sizeof w->what, "deleting genre %s", id);
    const char *row[] = {id};
    return run(w, "DELETE FROM genres WHERE id = $1", 1, row);
}

static int delete_band(void *ctx, const char *id)
{
    writer *w = ctx;
    snprintf(w->what, sizeof w->what, "deleting band %s", id);
    const char *row[] = {id};
    return run(w, "DELETE FROM bands WHERE id = $1", 1, row);
}

static maprows_writer rows_writer(writer *w, pg_store *p, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->p = p;
    w->err = err;
    w->errlen = errlen;
    return (maprows_writer){write_genre, write_band, delete_genre, delete_band, w};
}

/* The failure of a writer: its statement's, or the diff's own (memory). */
static int written(writer *w)
{
    if (w->rc == 0)
        snprintf(w->err, w->errlen, "out of memory while writing the map");
    return w->rc ? w->rc : -1;
}

int pg_write_map(pg_store *p, const dataset *d, char *err, size_t errlen)
{
    if (pg_cmd(p,
               "DELETE FROM genre_defining; DELETE FROM genre_aliases; DELETE FROM genre_former_ids; "
               "DELETE FROM band_aliases; DELETE FROM band_former_ids; DELETE FROM band_genres; "
               "DELETE FROM bands; DELETE FROM genre_links; DELETE FROM genre_parents; DELETE FROM genres",
               0, NULL, "emptying the map", err, errlen) != 0)
        return -1;
    return pg_copy_map(p, d, err, errlen);
}

int pg_replace_all(store *s, const dataset *d, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    if (pg_begin(p, err, errlen) != 0)
        return -1;
    int rc = pg_lock(p, PG_LOCK_MAP, err, errlen);
    if (rc == 0)
        rc = pg_write_map(p, d, err, errlen);
    if (rc == 0)
        rc = pg_bump_version(p, err, errlen);
    if (rc != 0) {
        pg_rollback(p);
        return rc;
    }
    return pg_commit(p, "the database refused the change", err, errlen);
}

int pg_edit(store *s, store_edit_fn fn, void *ctx, char *err, size_t errlen)
{
    pg_store *p = pg(s);
    dataset current, next;
    store_audit audit;
    memset(&audit, 0, sizeof audit);
    memset(&current, 0, sizeof current);
    memset(&next, 0, sizeof next);
    if (pg_begin(p, err, errlen) != 0)
        return -1;
    /* The lock first: the map fn sees stays current until commit. */
    int rc = pg_lock(p, PG_LOCK_MAP, err, errlen);
    if (rc == 0)
        rc = pg_load_map(p, &current, err, errlen);
    if (rc == 0 && dataset_copy(&next, &current) != 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0 && fn(&current, &next, &audit, ctx) != 0)
        rc = MG_ERR_DECLINED;
    if (rc == 0) {
        writer w;
        maprows_writer rw = rows_writer(&w, p, err, errlen);
        rc = maprows_write_diff(&rw, &current, &next) == 0 ? 0 : written(&w);
    }
    if (rc == 0 && audit.action[0])
        rc = pg_audit_insert(p, &audit, err, errlen);
    if (rc == 0)
        rc = pg_bump_version(p, err, errlen);
    dataset_free(&current);
    dataset_free(&next);
    store_audit_clear(&audit);
    if (rc != 0) {
        pg_rollback(p);
        return rc;
    }
    return pg_commit(p, "the database refused the change", err, errlen);
}
