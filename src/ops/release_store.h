/*
 * release_store.h — reading and writing named objects in a release store,
 * a directory, an HTTPS URL taking WebDAV PUTs (https_store.h) or an S3
 * prefix (s3://BUCKET/PREFIX, the backups' client and settings), behind one
 * interface.
 *
 * Names are relative to the store: "channels/dev",
 * "releases/1.2.0/SHA256SUMS", "deployed/dev/1.2.0". In a directory, a put
 * is written under a temporary name and renamed, so a reader sees the old
 * object or the new one, never half of one. `musicgraph release promote`
 * and the deploy agent use it; publishing (release.c) has its own
 * never-replace rules.
 */
#ifndef MG_OPS_RELEASE_STORE_H
#define MG_OPS_RELEASE_STORE_H

#include "core/config.h"

#include <stddef.h>
#include <stdint.h>

typedef struct release_store release_store;

int release_store_open(const config *cfg, const char *url, release_store **out, char *err, size_t errlen);
void release_store_close(release_store *rs);
const char *release_store_url(const release_store *rs);

/* A small object into memory (at most max bytes; *data malloc'd and
 * NUL-terminated). *missing = 1 (and 0 returned) when it does not exist. */
int release_store_get(release_store *rs, const char *name, size_t max, char **data, size_t *len, int *missing,
                      char *err, size_t errlen);
/* An object into the local file path (created; must not exist). One larger
 * than max bytes (0: no limit) is refused, and nothing of it is kept: a
 * store cannot fill the disk. */
int release_store_fetch(release_store *rs, const char *name, const char *path, int64_t max, int *missing, char *err,
                        size_t errlen);
/* Writes (or replaces) an object. */
int release_store_put(release_store *rs, const char *name, const void *data, size_t len, char *err, size_t errlen);

/* Copies the file from into a new file to (fsynced; to must not exist). */
int release_copy_file(const char *from, const char *to, char *err, size_t errlen);

#endif
