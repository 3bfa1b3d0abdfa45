/*
 * seed.h — loading the dataset files into an empty database.
 *
 * The bundled dataset is one file per root family (data/families/NAME.json),
 * embedded in the binary; a seed may also come from one dataset file (an
 * export, say) or from a directory of family files (a curator's working
 * copy). Every file goes through the codec, the files are merged, and the
 * whole map through every data rule before the store sees it: a dataset
 * that breaks a rule is refused with the file, the entry and the rule
 * named, and the database is left untouched.
 */
#ifndef MG_SEED_H
#define MG_SEED_H

#include "domain/model.h"
#include "store/store.h"

#include <stddef.h>

/* Reads path — a dataset file, a directory of them (every *.json in it), or
 * the bundled dataset when NULL — merges and checks it. On failure err lists
 * the first problems (file: entry: field: rule), one per line, and the count. */
int seed_load(const char *path, dataset *out, char *err, size_t errlen);
/* seed_load, then writes the result into s, which must be empty.
 * *genres, *bands: what was loaded. */
int seed_run(store *s, const char *path, size_t *genres, size_t *bands, char *err, size_t errlen);

#endif
