/*
 * backup.h — backups: writing, reading and checking, restoring, verifying,
 * listing.
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
 * damaged is refused before anything is touched. A backup is taken in one
 * read transaction (a picture of one instant while the server writes),
 * written under a temporary name, fsynced, renamed and the directory
 * fsynced: a file with a final name is always complete. Names sort by time:
 * musicgraph-20261125T134500Z[.N][-TAG].json.gz (UTC; .N only when two
 * backups share a second).
 *
 * Restore checks everything first (checksum, format, schema, every data
 * rule), takes a safety backup of the current data, then replaces all data
 * in one transaction. Verify restores into a scratch database and compares
 * what comes back with the manifest, and records the result next to the
 * file (NAME.verified), which `musicgraph backups` shows.
 */
#ifndef MG_BACKUP_H
#define MG_BACKUP_H

#include "core/config.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BACKUP_FORMAT         "musicgraph-backup"
#define BACKUP_FORMAT_VERSION 1
#define BACKUP_TAG_MAX        64
/* A manifest is a few hundred bytes; anything past this is not ours. */
#define BACKUP_MANIFEST_MAX (64u * 1024)
/* Largest decompressed document accepted (a guard against gzip bombs). */
#define BACKUP_MAX_BYTES (1024u * 1024 * 1024)

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
} backup_manifest;

/* A backup read into memory. */
typedef struct backup_contents {
    int has_manifest; /* 0 only for a bare dataset document (import) */
    backup_manifest manifest;
    store_dump_t dump; /* dump.has_users / has_audit: the parts the file carries */
} backup_contents;

void backup_contents_free(backup_contents *c);

/* One backup in a listing. */
typedef struct backup_info {
    char location[4096]; /* local path, or s3://BUCKET/KEY */
    char name[256];
    time_t created; /* UTC, from the name */
    char tag[BACKUP_TAG_MAX + 1];
    int64_t size;
    int has_manifest;
    backup_manifest manifest;
    int verified; /* 1 verified, -1 verification failed, 0 never (or the file changed since) */
    char verified_at[32];
    char verify_message[512];
} backup_info;

/* The manifest as a JSON object (for sidecars and listings). */
struct buf;
void backup_manifest_json(const backup_manifest *m, struct buf *out);

/* MUSICGRAPH_BACKUP_DIR, else STATE_DIR/backups. */
void backup_default_dir(const config *cfg, char *out, size_t len);
/* 1 if tag is 0..64 characters of [A-Za-z0-9._-]. */
int backup_tag_valid(const char *tag);
/* Parses musicgraph-YYYYMMDDTHHMMSSZ[.N][-TAG].json.gz; 0 or -1. */
int backup_parse_name(const char *name, time_t *created, char *tag, size_t taglen);

/* Backs up s into dir (created if missing). path receives the new file's
 * path; m (may be NULL) its manifest. Never leaves a partial file. */
int backup_write(store *s, const char *dir, const char *tag, char *path, size_t pathlen, backup_manifest *m, char *err,
                 size_t errlen);

/* The same document for another installation: to file (gzip-compressed when
 * the name ends in .gz), or to stdout when file is NULL or "-". anonymize
 * replaces emails and password hashes and drops audit actors. */
int backup_export(store *s, const char *file, int anonymize, backup_manifest *m, char *err, size_t errlen);

/* Reads a backup and checks what needs no database: not empty, gzip intact,
 * manifest (format, version, size), payload checksum, structure, row
 * counts. With allow_bare, a plain dataset document (no manifest) is also
 * accepted (import). Messages name the file and say what is wrong. */
int backup_read(const char *path, int allow_bare, backup_contents *out, char *err, size_t errlen);
/* Only the manifest, reading as little of the file as it can (listings). */
int backup_read_manifest(const char *path, backup_manifest *m, char *err, size_t errlen);
/* Every data rule: the map's (rules.h), the accounts' (user.h), the audit
 * log's. Lists the first problems. */
int backup_check_rules(const store_dump_t *d, char *err, size_t errlen);
/* The backup's schema must be one this binary knows: equal or older (its
 * data is then written into the current schema). A newer one is refused. */
int backup_check_schema(store *s, const backup_manifest *m, char *err, size_t errlen);

/* Restores c into s: schema and rules checked, a safety backup of the
 * current data written to safety_dir (unless NULL; its path in safety_path),
 * then every part c carries replaced in one transaction. */
int backup_restore(store *s, const backup_contents *c, const char *safety_dir, char *safety_path, size_t safety_len,
                   char *err, size_t errlen);

/* Reads path, restores it into a scratch SQLite database in a temporary
 * directory, reads it back and compares the row counts and the payload
 * checksum with the manifest. 0 only when the backup would restore. The
 * manifest goes to m (may be NULL). Does not record the result. */
int backup_verify(const char *path, backup_manifest *m, char *err, size_t errlen);
/* Writes PATH.verified (atomically) with the result of a verification. */
int backup_record_verification(const char *path, int ok, const char *message);

/* Backups in dir, oldest first; *list is malloc'd. A missing dir is empty. */
int backup_list(const char *dir, backup_info **list, size_t *count, char *err, size_t errlen);
/* The newest backup in dir: 0, MG_ERR_NOT_FOUND when there is none, -1
 * when the directory cannot be read. */
int backup_latest(const char *dir, backup_info *out);

/* Called before store_migrate at start: when the database has applied
 * migrations and this binary brings more, writes a backup tagged
 * pre-migrate-<from>-<to> into the backup directory. Returns -1 (and the
 * caller must not migrate) when that backup cannot be written. */
int backup_before_migrate(store *s, const config *cfg, char *err, size_t errlen);

#endif
