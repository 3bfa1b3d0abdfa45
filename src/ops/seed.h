/*
 * seed.h — loading a dataset file into an empty database.
 *
 * The dataset goes through the codec and every data rule before the store
 * sees it; a file that breaks a rule is refused with the entry and the rule
 * named, and the database is left untouched.
 */
#ifndef MG_SEED_H
#define MG_SEED_H

#include "domain/model.h"
#include "store/store.h"

#include <stddef.h>

/* Parses and checks a dataset document. On failure err lists the first
 * problems (entry: field: rule), one per line, and the count. */
int seed_parse_checked(const char *json, size_t len, dataset *out, char *err, size_t errlen);
/* Reads path (or the bundled dataset when path is NULL), checks it and
 * writes it into s, which must be empty. *genres, *bands: what was loaded. */
int seed_run(store *s, const char *path, size_t *genres, size_t *bands, char *err, size_t errlen);

#endif
