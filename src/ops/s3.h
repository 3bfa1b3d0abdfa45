/*
 * s3.h — a small client for S3-compatible object storage: offsite backups.
 *
 * Upload, download, list and delete objects with path-style URLs
 * (ENDPOINT/BUCKET/KEY), every request signed with AWS Signature Version 4
 * (HMAC-SHA256 from libsodium). Works with AWS S3 and the S3-compatible
 * servers (MinIO, Ceph, Garage, s3rver in the tests). Errors name the
 * request and carry the server's error code and message, with a hint when
 * the credentials are the likely cause.
 */
#ifndef MG_S3_H
#define MG_S3_H

#include "core/config.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct s3_client s3_client;

typedef struct s3_object {
    char key[1024];
    int64_t size;
    char last_modified[32];
} s3_object;

/* 1 if url starts with s3:// */
int s3_is_url(const char *url);
/* Splits s3://BUCKET/REST into bucket and rest (key or prefix, may be ""). */
int s3_parse_url(const char *url, char *bucket, size_t blen, char *rest, size_t rlen, char *err, size_t errlen);

/* Reads endpoint, region and credentials from the configuration. */
int s3_open(const config *cfg, s3_client **out, char *err, size_t errlen);
void s3_close(s3_client *c);

int s3_put_file(s3_client *c, const char *bucket, const char *key, const char *path, char *err, size_t errlen);
int s3_put_bytes(s3_client *c, const char *bucket, const char *key, const void *data, size_t len,
                 const char *content_type, char *err, size_t errlen);
/* Downloads into path (created or truncated). *missing (may be NULL) is set
 * to 1 and 0 returned when the object does not exist. */
int s3_get_file(s3_client *c, const char *bucket, const char *key, const char *path, int64_t max, int *missing,
                char *err, size_t errlen);
/* Downloads a small object into memory (at most max bytes); *data is malloc'd. */
int s3_get_bytes(s3_client *c, const char *bucket, const char *key, size_t max, char **data, size_t *len, int *missing,
                 char *err, size_t errlen);
int s3_delete(s3_client *c, const char *bucket, const char *key, char *err, size_t errlen);
/* Every object whose key starts with prefix; *objects is malloc'd. */
int s3_list(s3_client *c, const char *bucket, const char *prefix, s3_object **objects, size_t *count, char *err,
            size_t errlen);

/* The SigV4 Authorization header value for one request (exposed for tests):
 * amz_date is "YYYYMMDDTHHMMSSZ", payload_sha256 the hex hash of the body. */
void s3_sign(const char *access_key, const char *secret_key, const char *region, const char *method, const char *host,
             const char *canonical_uri, const char *canonical_query, const char *amz_date, const char *payload_sha256,
             char *out, size_t outlen);

#endif
