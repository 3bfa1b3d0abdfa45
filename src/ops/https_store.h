/*
 * https_store.h — a release store on an HTTPS server that takes WebDAV PUTs
 * (nginx's `dav_methods PUT` with `create_full_put_path on`, Apache's
 * mod_dav, …): https://HOST[:PORT]/PATH/.
 *
 * Objects are read with GET and written with PUT under the store's URL.
 * TLS is always verified, against the system's CAs or the PEM file in
 * MUSICGRAPH_RELEASE_STORE_CA_FILE; plain http:// is refused, and reads
 * follow a redirect only to another https:// URL (writes follow none).
 * Credentials (HTTP Basic, `user:password` on the first line of
 * MUSICGRAPH_RELEASE_STORE_AUTH_FILE) are read once at open, sent only to
 * the store's own host, and never appear in a message.
 */
#ifndef MG_OPS_HTTPS_STORE_H
#define MG_OPS_HTTPS_STORE_H

#include "core/config.h"

#include <stddef.h>
#include <stdint.h>

typedef struct https_store https_store;

/* 1 if url is an http:// or https:// URL (http:// only to be refused by open). */
int https_store_is_url(const char *url);
int https_store_open(const config *cfg, const char *url, https_store **out, char *err, size_t errlen);
void https_store_close(https_store *hs);

/* As release_store_get / _fetch / _put (release_store.h); name is relative to the store's URL. */
int https_store_get(https_store *hs, const char *name, size_t max, char **data, size_t *len, int *missing, char *err,
                    size_t errlen);
int https_store_fetch(https_store *hs, const char *name, const char *path, int64_t max, int *missing, char *err,
                      size_t errlen);
int https_store_put(https_store *hs, const char *name, const void *data, size_t len, char *err, size_t errlen);
/* *exists := whether name is there (HEAD). */
int https_store_exists(https_store *hs, const char *name, int *exists, char *err, size_t errlen);
/* Uploads the file path as a new object name: sent with If-None-Match: *,
 * and refused unless the server says it created it (see https_store.c for
 * what that guarantees). */
int https_store_put_new_file(https_store *hs, const char *name, const char *path, char *err, size_t errlen);

#endif
