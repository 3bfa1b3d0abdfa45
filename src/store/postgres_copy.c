/*
 * postgres_copy.c — a whole map written into empty tables with COPY (see
 * pg_write_map): restore, import --replace, copy, seeding. One statement per
 * row was one network round trip per row — about 70,000 for the large
 * synthetic map, 20 s on loopback — where COPY streams each table in one.
 * Every constraint and trigger still checks every row (at commit, as they
 * are deferred); edits keep writing the rows that differ (postgres.c).
 */
#include "store/postgres_internal.h"

#include "core/buf.h"

#include <stdio.h>
#include <string.h>

/* One table's rows in COPY's text format. */
typedef struct table_rows {
    const char *copy; /* "COPY table (columns) FROM STDIN" */
    buf rows;
} table_rows;

/* A value: tab, newline, carriage return and backslash escaped; NULL is \N. */
static void put_value(buf *b, const char *v, int last)
{
    if (!v) {
        buf_puts(b, "\\N");
    } else {
        for (const char *c = v; *c; c++) {
            switch (*c) {
            case '\\':
                buf_puts(b, "\\\\");
                break;
            case '\t':
                buf_puts(b, "\\t");
                break;
            case '\n':
                buf_puts(b, "\\n");
                break;
            case '\r':
                buf_puts(b, "\\r");
                break;
            default:
                buf_putc(b, *c);
            }
        }
    }
    buf_putc(b, last ? '\n' : '\t');
}

static void put_int(buf *b, long long v, int present, int last)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", v);
    put_value(b, present ? s : NULL, last);
}

/* owner, value, position: one row per value of a list. */
static void put_list(table_rows *t, const char *owner, char *const *values, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        put_value(&t->rows, owner, 0);
        put_value(&t->rows, values[j], 0);
        put_int(&t->rows, (long long)j, 1, 1);
    }
}

enum {
    T_GENRES,
    T_GENRE_PARENTS,
    T_GENRE_ALIASES,
    T_GENRE_FORMER_IDS,
    T_GENRE_DEFINING,
    T_GENRE_LINKS,
    T_BANDS,
    T_BAND_GENRES,
    T_BAND_ALIASES,
    T_BAND_FORMER_IDS,
    T_COUNT
};

static void collect(table_rows *t, const dataset *d)
{
    for (size_t i = 0; i < d->ngenres; i++) {
        const genre *g = &d->genres[i];
        buf *r = &t[T_GENRES].rows;
        put_value(r, g->id, 0);
        put_value(r, g->name, 0);
        put_value(r, genre_type_name(g->type), 0);
        put_value(r, g->parent, 0);
        put_value(r, g->description, 0);
        put_value(r, g->region, 0);
        put_int(r, g->origin_year, g->origin_year != 0, 1);
        put_list(&t[T_GENRE_PARENTS], g->id, g->parents, g->nparents);
        put_list(&t[T_GENRE_ALIASES], g->id, g->aliases, g->naliases);
        put_list(&t[T_GENRE_FORMER_IDS], g->id, g->former_ids, g->nformer_ids);
        put_list(&t[T_GENRE_DEFINING], g->id, g->defining, g->ndefining);
        for (size_t j = 0; j < g->nlinks; j++) {
            buf *l = &t[T_GENRE_LINKS].rows;
            put_value(l, g->id, 0);
            put_value(l, g->links[j].to, 0);
            put_value(l, g->links[j].kind, 0);
            put_int(l, (long long)j, 1, 1);
        }
    }
    for (size_t i = 0; i < d->nbands; i++) {
        const band *b = &d->bands[i];
        buf *r = &t[T_BANDS].rows;
        put_value(r, b->id, 0);
        put_value(r, b->name, 0);
        put_value(r, b->primary_genre, 0);
        put_value(r, b->country, 0);
        put_value(r, band_type_name(b->type), 0);
        put_int(r, b->active_from, b->active_from != 0, 1);
        put_list(&t[T_BAND_GENRES], b->id, b->genres, b->ngenres);
        put_list(&t[T_BAND_ALIASES], b->id, b->aliases, b->naliases);
        put_list(&t[T_BAND_FORMER_IDS], b->id, b->former_ids, b->nformer_ids);
    }
}

/* Streams one table's rows; 0, or pg_fail's code naming the table. */
static int copy_table(pg_store *p, const table_rows *t, char *err, size_t errlen)
{
    if (t->rows.len == 0)
        return 0;
    char what[200];
    snprintf(what, sizeof what, "writing the map (%.150s)", t->copy);
    PGresult *r = pg_run(p, t->copy, 0, NULL);
    if (!r || PQresultStatus(r) != PGRES_COPY_IN)
        return pg_fail(p, r, what, err, errlen);
    PQclear(r);
    /* In pieces, so that no single message is larger than libpq likes. */
    const size_t piece = 1 << 20;
    int ok = 1;
    for (size_t at = 0; ok && at < t->rows.len; at += piece) {
        size_t n = t->rows.len - at < piece ? t->rows.len - at : piece;
        ok = PQputCopyData(p->conn, t->rows.data + at, (int)n) == 1;
    }
    ok = PQputCopyEnd(p->conn, ok ? NULL : "the map could not be sent") == 1 && ok;
    int rc = 0;
    while ((r = PQgetResult(p->conn)) != NULL) {
        if (rc == 0 && !pg_ok(r))
            rc = pg_fail(p, r, what, err, errlen);
        else
            PQclear(r);
    }
    if (rc == 0 && !ok) {
        snprintf(err, errlen, "%s: %s", what, PQerrorMessage(p->conn));
        rc = -1;
    }
    p->lost = PQstatus(p->conn) != CONNECTION_OK;
    return rc;
}

int pg_copy_map(pg_store *p, const dataset *d, char *err, size_t errlen)
{
    table_rows t[T_COUNT] = {
        [T_GENRES] = {"COPY genres (id, name, type, parent_id, description, region, origin_year) FROM STDIN", BUF_INIT},
        [T_GENRE_PARENTS] = {"COPY genre_parents (genre_id, parent_id, position) FROM STDIN", BUF_INIT},
        [T_GENRE_ALIASES] = {"COPY genre_aliases (genre_id, alias, position) FROM STDIN", BUF_INIT},
        [T_GENRE_FORMER_IDS] = {"COPY genre_former_ids (genre_id, former_id, position) FROM STDIN", BUF_INIT},
        [T_GENRE_DEFINING] = {"COPY genre_defining (genre_id, band_id, position) FROM STDIN", BUF_INIT},
        [T_GENRE_LINKS] = {"COPY genre_links (from_id, to_id, kind, position) FROM STDIN", BUF_INIT},
        [T_BANDS] = {"COPY bands (id, name, primary_genre, country, type, active_from) FROM STDIN", BUF_INIT},
        [T_BAND_GENRES] = {"COPY band_genres (band_id, genre_id, position) FROM STDIN", BUF_INIT},
        [T_BAND_ALIASES] = {"COPY band_aliases (band_id, alias, position) FROM STDIN", BUF_INIT},
        [T_BAND_FORMER_IDS] = {"COPY band_former_ids (band_id, former_id, position) FROM STDIN", BUF_INIT},
    };
    collect(t, d);
    int rc = 0;
    for (int i = 0; i < T_COUNT; i++)
        if (buf_failed(&t[i].rows) && rc == 0) {
            snprintf(err, errlen, "out of memory while writing the map");
            rc = -1;
        }
    for (int i = 0; rc == 0 && i < T_COUNT; i++)
        rc = copy_table(p, &t[i], err, errlen);
    for (int i = 0; i < T_COUNT; i++)
        buf_free(&t[i].rows);
    return rc;
}
