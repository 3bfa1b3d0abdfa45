/*
 * backup_scan.h — one streaming pass over a backup file before anything of
 * it is parsed or held in memory.
 *
 * The pass reads the file in small pieces, inflates them piece by piece and
 * counts the bytes (refusing past the document limit: a gzip bomb costs one
 * buffer, never its size), decodes the manifest at the start and hashes the
 * payload as it streams by. Only a file that passes — the right size, a
 * manifest, the checksum it claims, row counts within the limits — is read
 * into memory and parsed (backup_read).
 */
#ifndef MG_BACKUP_SCAN_H
#define MG_BACKUP_SCAN_H

#include "core/sha256.h"
#include "ops/backup_format.h"

#include <stddef.h>
#include <stdint.h>

typedef struct backup_scan {
    int gzip;         /* 1 gzip-compressed, 0 plain JSON */
    int has_manifest; /* 0: not a backup document (a bare dataset, or not ours) */
    backup_manifest manifest;
    char signature[BACKUP_SIGNATURE_TEXT_MAX]; /* "" when unsigned */
    char *manifest_text;                       /* the signed bytes (malloc'd) */
    size_t manifest_len;
    char payload_sha256[SHA256_HEX_SIZE]; /* of the bytes found, when has_manifest */
    int64_t archive_bytes, document_bytes;
} backup_scan;

/* Scans the file at path (named so in messages) within lim. 0, or -1 with
 * a message: empty, too large, neither gzip nor JSON, damaged, larger
 * decompressed than lim allows, a bad manifest or layout. A file without a
 * manifest passes with has_manifest 0: whether that is acceptable is the
 * caller's question. */
int backup_scan_file(const char *path, const backup_limits *lim, backup_scan *out, char *err, size_t errlen);
void backup_scan_free(backup_scan *s);

#endif
