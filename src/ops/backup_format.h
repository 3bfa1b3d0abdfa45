/*
 * backup_format.h — the backup file format: names, manifest and payload.
 *
 * A backup is one gzip-compressed JSON document, readable with `zcat | jq`:
 *
 *   {"manifest":{"format":"musicgraph-backup","format_version":1,…,
 *                "counts":{…},"payload_sha256":"…"},
 *   "payload":{"dataset":{…the dataset format of codec.h…},
 *              "users":[…],"audit_log":[…]}}
 *
 * The manifest says what the file is (format and schema versions, program
 * version, creation time, tag, rows per table) and carries the SHA-256 of
 * the payload's exact bytes, so a file that was cut short, altered or
 * damaged is refused before anything is touched. Names sort by time:
 * musicgraph-20261125T134500Z[.N][-TAG].json.gz (UTC; .N only when two
 * backups share a second). An export is the same document (kind "export").
 *
 * Decoding checks from the outside in, so that each kind of damage gets its
 * own message: no manifest, manifest too large or from a newer format,
 * checksum mismatch, payload structure, row counts. Reading the file and
 * inflating it is backup.c's (backup_read).
 */
#ifndef MG_BACKUP_FORMAT_H
#define MG_BACKUP_FORMAT_H

#include "core/buf.h"
#include "domain/rules.h"
#include "ops/backup_keys.h"
#include "store/records.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#define BACKUP_FORMAT "musicgraph-backup"
/* 2: signed (the manifest names its key, a signature follows it); 1: not. */
#define BACKUP_FORMAT_VERSION 2
#define BACKUP_TAG_MAX        64
/* A manifest is a few hundred bytes; anything past this is not ours. */
#define BACKUP_MANIFEST_MAX (64u * 1024)
/* How every document ends (after the payload). */
#define BACKUP_DOCUMENT_END "}\n"

/* backup_crypt.h's: the key an encrypted backup is written under. */
typedef struct backup_crypt backup_crypt;

typedef struct backup_manifest {
    int format_version;
    char kind[16]; /* "backup" or "export" */
    char schema_version[128];
    char program_version[64];
    char created_at[32]; /* "2026-11-25T13:45:00Z" */
    char tag[BACKUP_TAG_MAX + 1];
    char backend[16];
    int64_t data_version;
    int anonymized;
    store_counts counts;
    char payload_sha256[65];
    char signing_key[BACKUP_KEY_TEXT_MAX]; /* "" in an unsigned document */
} backup_manifest;

/* The start of a document: its manifest, the exact bytes a signature
 * covers, the signature (base64, "" when unsigned) and where the payload
 * begins. */
typedef struct backup_head {
    backup_manifest manifest;
    size_t manifest_at, manifest_len;
    char signature[BACKUP_SIGNATURE_TEXT_MAX];
    size_t payload_at;
} backup_head;

/* What a backup may hold before it is refused unread: sized so that a big
 * real site fits (the defaults of config.c) and a hostile file cannot make a
 * restore take the machine's memory or leave a server that cannot start.
 * Set from the MUSICGRAPH_BACKUP_MAX_* settings (backup.h). */
typedef struct backup_limits {
    int64_t archive_bytes;  /* the file as stored */
    int64_t document_bytes; /* decompressed, counted while streaming */
    int64_t text_bytes;     /* any one string of the payload */
    int64_t genres, bands, users, audit_log;
} backup_limits;
/* 0, or -1 naming the first table with more rows than l allows. */
int backup_check_limits(const store_counts *c, const backup_limits *l, char *err, size_t errlen);

/* A backup read into memory. */
typedef struct backup_contents {
    int has_manifest; /* 0 only for a bare dataset document (import) */
    backup_manifest manifest;
    store_dump_t dump; /* dump.has_users / has_audit: the parts the file carries */
} backup_contents;

void backup_contents_free(backup_contents *c);

/* ---- names ---- */

/* 1 if tag is 0..64 characters of [A-Za-z0-9._-]. */
int backup_tag_valid(const char *tag);
/* Parses musicgraph-YYYYMMDDTHHMMSSZ[.N][-TAG].json.gz[.enc]: 0 or -1. *seq (may
 * be NULL) gets N (0 without). */
int backup_parse_name(const char *name, time_t *created, int *seq, char *tag, size_t taglen);
/* The name of a backup taken at created (seq 0: no .N). */
void backup_name(time_t created, int seq, const char *tag, char *out, size_t len);
/* strftime in UTC. */
void backup_utc_format(time_t t, const char *fmt, char *out, size_t len);

/* ---- writing ---- */

/* A document ready to write: its manifest, and the two JSON parts. */
typedef struct backup_document {
    backup_manifest manifest;
    buf manifest_json, signature_json, payload_json;
    int gzip;                  /* backup_document_write compresses */
    const backup_crypt *crypt; /* and, when set, encrypts (backup_crypt.h) */
} backup_document;

#define BACKUP_DOCUMENT_PIECES 6

/* Serializes d (kind "backup" or "export") and computes its manifest,
 * signed by signer's key (format 2), or unsigned (format 1) when signer is
 * NULL. */
int backup_encode(const store_dump_t *d, const char *kind, const char *tag, int anonymized, const char *backend,
                  const backup_keys *signer, time_t now, backup_document *doc, char *err, size_t errlen);
void backup_document_free(backup_document *doc);
/* The file's bytes, in order. */
void backup_document_pieces(const backup_document *doc, struct iovec iov[BACKUP_DOCUMENT_PIECES]);
/* Writes the document to fd (an fs_writer; doc->gzip compresses). */
int backup_document_write(int fd, void *doc);

/* The manifest as a JSON object (for sidecars and listings). */
void backup_manifest_json(const backup_manifest *m, buf *out);
/* The payload exactly as a backup holds it (and checksums it). */
void backup_payload_json(const store_dump_t *d, buf *out);

/* ---- reading ---- */

/* Decodes a whole document (text, named name in messages): manifest,
 * checksum, payload structure, row counts; no string of the payload may be
 * longer than text_max bytes. With allow_bare, a plain dataset document (no
 * manifest) is also accepted (import). */
int backup_decode(const char *name, const char *text, size_t len, int allow_bare, size_t text_max, backup_contents *out,
                  char *err, size_t errlen);
/* The start of a document (len may stop anywhere after the payload's
 * start): see backup_head.
 * MG_ERR_NOT_FOUND, without a message, when text does not start with a
 * manifest; -1 with a message naming name when it is not a good one. */
int backup_decode_head(const char *name, const char *text, size_t len, backup_head *h, char *err, size_t errlen);
/* 0 when sum (hex) is the manifest's payload checksum, else -1 saying so. */
int backup_check_sum(const char *name, const char *sum, const backup_manifest *m, char *err, size_t errlen);
/* Only the manifest at the start of text (which may be cut short after it). */
int backup_decode_manifest(const char *name, const char *text, size_t len, backup_manifest *m, char *err,
                           size_t errlen);

/* ---- counts and messages ---- */

/* Rows per table of d, as a backup's manifest counts them. */
store_counts backup_counts(const store_dump_t *d);
/* 1 (and what differs, in what) when a and b differ. */
int backup_counts_differ(const store_counts *a, const store_counts *b, char *what, size_t len);
/* "HEADLINE breaks N rules:" and the first ten, one per line, into err. */
void backup_format_errors(const char *headline, const domain_errors *e, char *err, size_t errlen);

#endif
