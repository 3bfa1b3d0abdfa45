/*
 * rules.h — every data rule of the map, as pure functions.
 *
 * The first line of defence for every write path (seed, import, restore, the
 * editor): each broken rule becomes one error naming the entry, the field and
 * the rule, in words a curator understands. The database constraints are the
 * second line. No I/O happens here.
 */
#ifndef MG_RULES_H
#define MG_RULES_H

#include "domain/model.h"

#include <stddef.h>

#define DOMAIN_ID_MAX          50
#define DOMAIN_NAME_MAX        100
#define DOMAIN_DESCRIPTION_MAX 2000
#define DOMAIN_YEAR_MIN        1000
#define DOMAIN_YEAR_MAX        2100
#define DOMAIN_ALIASES_MAX     20 /* other names of one genre or band */
#define DOMAIN_FORMER_IDS_MAX  10
#define DOMAIN_DEFINING_MAX    5 /* defining bands of one genre */
/* Ids in one list of an entity (parents, links, genres): far more than any
 * real genre or band has, few enough that no request can make the checks
 * (or the error list) grow without bound. */
#define DOMAIN_REFS_MAX 100
/* Errors kept in one list; the others are only counted (dropped). */
#define DOMAIN_ERRORS_MAX 100

typedef struct domain_error {
    char *entry;   /* "genre grindcore", "band pantera" */
    char *field;   /* "parents", "primary_genre", … */
    char *message; /* what is wrong, in a sentence */
} domain_error;

typedef struct domain_errors {
    domain_error *items;
    size_t count;
    size_t cap;
    size_t dropped; /* errors past DOMAIN_ERRORS_MAX, counted only */
} domain_errors;

void domain_errors_add(domain_errors *e, const char *entry, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void domain_errors_free(domain_errors *e);
/* 1 once errors are being dropped: checks may stop early. */
int domain_errors_full(const domain_errors *e);
/* "genre x: parents: message" for the first error (or "" when none). */
void domain_errors_first(const domain_errors *e, char *out, size_t len);

/* 1 if id matches ^[a-z0-9-]+$ and is 1..50 bytes long. */
int domain_id_valid(const char *id);
/* Derives an id from a name: folded to ASCII (text_fold: "Barış Manço" ->
 * "baris manco"), non-alphanumerics become '-', dashes collapsed and
 * trimmed, at most 50 bytes. Writes "" if nothing is left. */
void domain_slugify(const char *name, char *out, size_t outlen);
/* 1 if code is an ISO 3166-1 alpha-2 country code in use ("US", "GB"; and
 * "XK", which every registry uses for Kosovo). */
int domain_country_valid(const char *code);

/* Field rules of one entity, without looking at the rest of the dataset. */
void domain_check_genre(const genre *g, domain_errors *errs);
void domain_check_band(const band *b, domain_errors *errs);
/* Every rule: field rules, unique ids, references, leaf primary genres, no
 * cycle in the parent graph, former ids that name no current entry and no
 * other entry's former id, and defining bands that exist and carry the genre
 * (or one of its sub-genres). Returns the number of errors added. */
size_t domain_check_dataset(const dataset *d, domain_errors *errs);

/* Ids of genres whose primary parent is id, and of bands whose primary
 * genre is id: what blocks deleting genre id. Arrays are malloc'd, the
 * strings borrowed from d. Returns -1 on allocation failure. */
int domain_genre_delete_blockers(const dataset *d, const char *id, const char ***genres, size_t *ngenres,
                                 const char ***bands, size_t *nbands);

#endif
