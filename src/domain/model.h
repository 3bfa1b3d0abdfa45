/*
 * model.h — genres, bands and the dataset that holds them.
 *
 * Plain data shared by every layer: the store loads it, the rules check it,
 * the snapshot indexes it, the JSON codec reads and writes it. A dataset owns
 * every string and array inside it; dataset_free releases them all.
 */
#ifndef MG_MODEL_H
#define MG_MODEL_H

#include <stddef.h>

typedef enum genre_type { GENRE_ROOT, GENRE_INTERMEDIATE, GENRE_LEAF, GENRE_TYPE_INVALID } genre_type;

/* What kind of act a band entry is; unknown until someone says. */
typedef enum band_type { BAND_TYPE_UNKNOWN, BAND_PERSON, BAND_GROUP } band_type;

typedef struct genre_link {
    char *to;   /* genre id this genre influenced */
    char *kind; /* "influence" */
} genre_link;

typedef struct genre {
    char *id;
    char *name;
    genre_type type;
    char *parent;   /* primary parent id, NULL for a root */
    char **parents; /* all parent ids, primary included */
    size_t nparents;
    char *description; /* may be NULL */
    int origin_year;   /* 0 when unknown */
    genre_link *links;
    size_t nlinks;
    char **aliases; /* other names people search for ("hip-hop", "rap") */
    size_t naliases;
    char **former_ids; /* ids this genre had before; old links redirect here */
    size_t nformer_ids;
    char *region;    /* where it emerged, in words; may be NULL */
    char **defining; /* band ids that define the genre, most important first */
    size_t ndefining;
} genre;

typedef struct band {
    char *id;
    char *name;
    band_type type; /* a person (solo artist, alias, DJ, composer) or a group */
    char *primary_genre;
    char **genres; /* primary included */
    size_t ngenres;
    char **aliases; /* other names: spellings, former names ("acdc") */
    size_t naliases;
    char **former_ids; /* ids this band had before; old links redirect here */
    size_t nformer_ids;
    char *country;   /* ISO 3166-1 alpha-2 code of its origin, or NULL */
    int active_from; /* the year it became active, 0 when unknown */
} band;

typedef struct dataset {
    genre *genres;
    size_t ngenres;
    band *bands;
    size_t nbands;
} dataset;

const char *genre_type_name(genre_type t);
/* GENRE_TYPE_INVALID for anything but "root", "intermediate", "leaf". */
genre_type genre_type_parse(const char *s);
/* "person" or "group"; NULL for BAND_TYPE_UNKNOWN. */
const char *band_type_name(band_type t);
/* 0 with *out set for "person" or "group"; -1 for anything else. */
int band_type_parse(const char *s, band_type *out);

void genre_clear(genre *g);
void band_clear(band *b);
void dataset_free(dataset *d);
/* Appends a zeroed entry and returns it, or NULL on allocation failure. */
genre *dataset_add_genre(dataset *d);
band *dataset_add_band(dataset *d);
/* Deep copies; return 0 or -1 on allocation failure. */
int genre_copy(genre *dst, const genre *src);
int band_copy(band *dst, const band *src);
int dataset_copy(dataset *dst, const dataset *src);
/* Moves every entry of src to the end of dst, leaving src empty; -1 on
 * allocation failure (src then keeps what was not moved). */
int dataset_append(dataset *dst, dataset *src);
/* Linear lookups (for small edits; the snapshot has indexes). */
genre *dataset_find_genre(const dataset *d, const char *id);
band *dataset_find_band(const dataset *d, const char *id);

#endif
