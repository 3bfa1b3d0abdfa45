/*
 * codec.h — the dataset's JSON form: reading (jansson) and writing (json.h).
 *
 * One format for the bundled dataset, seeds, imports and backups:
 *   {"format":"musicgraph-dataset","format_version":3,"genres":[…],"bands":[…]}
 * with the entity shapes of DESIGN §5 (version 2 added aliases, former_ids,
 * region and defining to genres, aliases, former_ids, country and
 * active_from to bands; version 3 a band's type, "person" or "group";
 * documents of versions 1 and 2, which lack them, are still read). The
 * bundled dataset is one such document per root family, with a "family"
 * member naming it. Reading reports structural problems
 * (wrong JSON types, unknown type names) as domain errors naming the entry;
 * the data rules are checked separately by rules.h.
 */
#ifndef MG_CODEC_H
#define MG_CODEC_H

#include "core/buf.h"
#include "core/json.h"
#include "domain/model.h"
#include "domain/rules.h"

#include <jansson.h>

#define DATASET_FORMAT             "musicgraph-dataset"
#define DATASET_FORMAT_VERSION     3 /* what this program writes */
#define DATASET_FORMAT_VERSION_MIN 1 /* the oldest it reads */

/* Parses a whole dataset document. Returns 0, or -1 with errors added. */
int codec_parse_dataset(const char *json, size_t len, dataset *out, domain_errors *errs);
/* The same for a document already parsed (a backup embeds one). */
int codec_dataset_from_json(const json_t *doc, dataset *out, domain_errors *errs);
/* Reads one genre or band object (request bodies use the same shapes).
 * Unknown keys are errors, so a typo in a field name is not silently lost. */
int codec_genre_from_json(const json_t *obj, genre *out, const char *entry, domain_errors *errs);
int codec_band_from_json(const json_t *obj, band *out, const char *entry, domain_errors *errs);

/* Writes one genre or band object in the shared shape. */
void codec_genre_json(json_writer *w, const genre *g);
void codec_band_json(json_writer *w, const band *b);
/* Writes the dataset document as one value (backups embed it). */
void codec_dataset_json(json_writer *w, const dataset *d);
/* Writes the dataset document. */
void codec_write_dataset(const dataset *d, buf *out);

#endif
