/*
 * maprows.h — what every backend does with the map's rows, whatever the
 * database (private to src/store/).
 *
 * Reading: a backend reads the genres and bands first, then the rows of
 * each list table (owner id, value) in owner and position order;
 * maprows_add files each value under its owner. Writing: an edit writes
 * only the difference between the map it read and the edited one, a seed or
 * restore writes everything; both go through a backend's row writer, so the
 * rule of what changed lives here once.
 */
#ifndef MG_STORE_MAPROWS_H
#define MG_STORE_MAPROWS_H

#include "core/strmap.h"
#include "domain/model.h"

/* The list tables of the map, each (owner, value) in position order. */
typedef enum maprows_list {
    MAPROWS_GENRE_PARENTS,
    MAPROWS_GENRE_ALIASES,
    MAPROWS_GENRE_FORMER_IDS,
    MAPROWS_GENRE_DEFINING,
    MAPROWS_BAND_GENRES,
    MAPROWS_BAND_ALIASES,
    MAPROWS_BAND_FORMER_IDS,
} maprows_list;

typedef struct maprows {
    dataset *d;
    strmap genres, bands; /* id -> index, keys borrowed from d */
} maprows;

/* Indexes d's genres and bands (read them first); -1 when out of memory. */
int maprows_init(maprows *m, dataset *d);
void maprows_free(maprows *m);
/* Appends a copy of value to owner's list; a row whose owner is unknown is skipped. */
void maprows_add(maprows *m, maprows_list list, const char *owner, const char *value);
void maprows_add_link(maprows *m, const char *from, const char *to, const char *kind);

/* A backend's writer of rows. Each returns 0, or non-zero with the
 * backend's error noted by the backend itself (the caller reports it). */
typedef struct maprows_writer {
    int (*genre)(void *ctx, const genre *g, int update); /* the row and all its lists */
    int (*band)(void *ctx, const band *b, int update);
    int (*delete_genre)(void *ctx, const char *id);
    int (*delete_band)(void *ctx, const char *id);
    void *ctx;
} maprows_writer;

/* Writes the difference from old to new: removed bands and genres, then
 * changed or new genres (foreign keys are deferred, so parents and children
 * come in any order), then bands, whose checks need their genres in place. */
int maprows_write_diff(const maprows_writer *w, const dataset *old, const dataset *new);
/* Writes every genre and band of d as new rows (the tables are empty). */
int maprows_write_all(const maprows_writer *w, const dataset *d);

#endif
