/*
 * backup.h — backups: taking, reading and checking, restoring, verifying.
 *
 * The file format is backup_format.h's, where backups are kept (a
 * directory, an S3 prefix) backup_target.h's. A backup is taken in one read
 * transaction (a picture of one instant while the server writes), written
 * under a temporary name, fsynced, renamed and the directory fsynced: a
 * file with a final name is always complete.
 *
 * Restore checks everything first (checksum, format, schema, every data
 * rule), takes a safety backup of the current data without locking anyone
 * out, then replaces all data in one short transaction. Verify restores into a scratch database and compares
 * what comes back with the manifest; the result is recorded beside the
 * backup (backup_target_record), which `musicgraph backups` shows.
 */
#ifndef MG_BACKUP_H
#define MG_BACKUP_H

#include "core/config.h"
#include "ops/backup_format.h"
#include "store/store.h"

#include <stddef.h>

/* MUSICGRAPH_BACKUP_DIR, else STATE_DIR/backups. */
void backup_default_dir(const config *cfg, char *out, size_t len);

/* Backs up s into dir (created if missing), signed by signer
 * (backup_keys.h), and encrypted under crypt unless it is NULL (backup_crypt.h:
 * the name then ends in .enc). path receives the new file's path; m (may be NULL) its
 * manifest. Never leaves a partial file. */
int backup_write(store *s, const backup_keys *signer, const backup_crypt *crypt, const char *dir, const char *tag,
                 char *path, size_t pathlen, backup_manifest *m, char *err, size_t errlen);

/* The same document for another installation, signed by signer unless it
 * is NULL: to file (gzip-compressed when the name ends in .gz), or to
 * stdout when file is NULL or "-". anonymize replaces emails and password
 * hashes and drops audit actors (backup_anonymize.h). */
int backup_export(store *s, const backup_keys *signer, const char *file, int anonymize, backup_manifest *m, char *err,
                  size_t errlen);

/* Whose backups restore and verify believe: a backup must be signed by one
 * of keys' trusted keys; an unsigned one passes only with allow_unsigned
 * (--insecure-unsigned), which sets unsigned_accepted. With read_untrusted
 * (import, which takes accounts only from trusted files), a file unsigned
 * or signed by a key not trusted is read all the same: trusted then stays
 * 0 and untrusted says why. A signature that does not check against a
 * trusted key is refused in every case. */
#define BACKUP_UNSIGNED "it is not signed"
typedef struct backup_trust {
    const backup_keys *keys;
    int allow_unsigned;
    int unsigned_accepted;
    int read_untrusted;
    int trusted;
    char untrusted[512];
} backup_trust;

/* Reads a backup (checking its signature against trust, unless trust is
 * NULL) and checks what needs no database: not empty, within lim
 * (streamed first: backup_scan.h), gzip intact, then the document
 * (backup_decode). An encrypted file is decrypted with crypt first (refused,
 * saying why, without a key or with the wrong one) into a private temporary
 * file, removed afterwards. With allow_bare, a plain dataset
 * document (no manifest) is also accepted (import). Messages name the file
 * and say what is wrong. */
int backup_read(const char *path, int allow_bare, const backup_limits *lim, backup_trust *trust,
                const backup_crypt *crypt, backup_contents *out, char *err, size_t errlen);
/* The finished backup at path (its manifest m) encrypted under crypt into
 * a private temporary file (mode 0600, under $TMPDIR) named NAME.enc, for
 * an upload; enc gets its path. backup_temp_remove removes it. */
int backup_encrypt_copy(const char *path, const backup_manifest *m, const backup_crypt *crypt, char *enc, size_t enclen,
                        char *err, size_t errlen);
void backup_temp_remove(const char *path);
/* The MUSICGRAPH_BACKUP_MAX_* settings of cfg (defaults in config.c). */
int backup_limits_from_config(const config *cfg, backup_limits *l, char *err, size_t errlen);
/* Only the manifest, reading as little of the file as it can (listings). */
int backup_read_manifest(const char *path, backup_manifest *m, char *err, size_t errlen);
/* Every data rule: the map's (rules.h), the accounts' (user.h; when d
 * carries them, at least one active admin), the audit log's. Lists the
 * first problems. */
int backup_check_rules(const store_dump_t *d, char *err, size_t errlen);
/* The backup's schema must be one this binary knows: equal or older (its
 * data is then written into the current schema). A newer one is refused. */
int backup_check_schema(store *s, const backup_manifest *m, char *err, size_t errlen);
/* The parts of a database (STORE_RESTORE_*) that d carries. */
unsigned backup_parts(const store_dump_t *d);

/* Restores c into s: schema and rules checked, a safety backup of the
 * current data (read in a read transaction) written to safety_dir (unless
 * NULL; its path in safety_path; encrypted under crypt unless NULL), then every part c carries replaced in one
 * short write transaction that first checks that the data is still what the
 * safety backup holds (and starts over, at most 3 times, when it is not). */
int backup_restore(store *s, const backup_contents *c, const backup_keys *signer, const backup_crypt *crypt,
                   const char *safety_dir, char *safety_path, size_t safety_len, char *err, size_t errlen);

/* Reads path, restores it into a scratch SQLite database in a temporary
 * directory, reads it back and compares the row counts and the payload
 * checksum with the manifest (backup_verify.c). 0 only when the backup would
 * restore. The manifest goes to m (may be NULL). Does not record the result. */
int backup_verify(const char *path, const backup_limits *lim, backup_trust *trust, const backup_crypt *crypt,
                  backup_manifest *m, char *err, size_t errlen);

/* Called before store_migrate at start: when the database has applied
 * migrations and this binary brings more, writes a backup tagged
 * pre-migrate-<from>-<to> into the backup directory. Returns -1 (and the
 * caller must not migrate) when that backup cannot be written. */
int backup_before_migrate(store *s, const config *cfg, char *err, size_t errlen);

#endif
