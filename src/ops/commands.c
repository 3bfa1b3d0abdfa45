/*
 * commands.c — backup, restore, verify, prune, backups, export, import
 * (see commands.h): argument parsing and reporting. The work is in
 * backup.c, backup_verify.c and prune.c; where backups are kept, a
 * directory or an S3 prefix, is backup_target.h's business.
 *
 * Offsite copies: `backup --to s3://B/P` (or MUSICGRAPH_BACKUP_OFFSITE)
 * writes the local backup as usual and puts the same file there.
 */
#include "ops/commands.h"

#include "core/errors.h"
#include "core/password.h"
#include "core/strmap.h"
#include "ops/backup.h"
#include "ops/backup_crypt.h"
#include "ops/backup_location.h"
#include "ops/init_lock.h"
#include "ops/prune.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ERRLEN 8192

const char cmd_backup_usage[] =
    "usage: musicgraph backup [--to DIR | --to s3://BUCKET/PREFIX] [--tag TAG] [options]\n\n"
    "Takes a consistent backup (one read transaction; the server may keep serving\n"
    "and writing) of the map, the accounts and the audit log into a gzip-compressed\n"
    "JSON file with a manifest and a SHA-256 of its payload, the manifest signed\n"
    "with this installation's key (musicgraph backup-key). The file is written\n"
    "under a temporary name, synced and renamed: it is complete or it is not there.\n"
    "Names sort by time: musicgraph-YYYYMMDDTHHMMSSZ[-TAG].json.gz (UTC).\n\n"
    "  --to DIR                 write into DIR (default MUSICGRAPH_BACKUP_DIR, else\n"
    "                           STATE_DIR/backups)\n"
    "  --to s3://BUCKET/PREFIX  write locally as usual, then upload the file there\n"
    "  --tag TAG                letters, digits, '.', '_', '-' (at most 64); the tag\n"
    "                           'keep' (or keep-…) is never pruned\n\n"
    "MUSICGRAPH_BACKUP_OFFSITE=s3://BUCKET/PREFIX uploads every backup; the S3\n"
    "settings are MUSICGRAPH_S3_ENDPOINT, _REGION, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY.\n"
    "With MUSICGRAPH_BACKUP_PASSPHRASE_FILE (Argon2id) or MUSICGRAPH_BACKUP_KEY_FILE\n"
    "(64 hex characters) set, the offsite copy is encrypted (NAME.json.gz.enc,\n"
    "XChaCha20-Poly1305 in 64 KiB chunks, a readable manifest line in front);\n"
    "with MUSICGRAPH_BACKUP_ENCRYPT=1 the local backup is too. Without a key an\n"
    "offsite copy is uploaded in clear, with a warning.\n";

const char cmd_restore_usage[] = "usage: musicgraph restore FILE | s3://BUCKET/KEY [--no-safety-backup] [options]\n\n"
                                 "Checks the backup first — checksum, format and schema versions, every data\n"
                                 "rule — and refuses it, changing nothing, when anything is wrong. Then takes a\n"
                                 "safety backup of the current data (tagged pre-restore) and replaces the map,\n"
                                 "the accounts and the audit log in one transaction: afterwards the database\n"
                                 "holds exactly the backup, or on any failure exactly what it held before.\n"
                                 "A running server switches to the restored data within a second, without a\n"
                                 "restart. Sessions end (everybody logs in again).\n"
                                 "The backup must be signed by a trusted key (musicgraph backup-key --help).\n"
                                 "An encrypted backup (.enc) is decrypted with MUSICGRAPH_BACKUP_PASSPHRASE_FILE\n"
                                 "or MUSICGRAPH_BACKUP_KEY_FILE; without the right one it is refused.\n\n"
                                 "  --no-safety-backup       do not take the safety backup (a full disk, say)\n"
                                 "  --insecure-unsigned      accept a backup without a signature (one made before\n"
                                 "                           backups were signed): skips only the proof that it\n"
                                 "                           comes from this installation; a bad or untrusted\n"
                                 "                           signature is still refused\n";

const char cmd_verify_usage[] = "usage: musicgraph verify FILE | s3://BUCKET/KEY | --latest [--dir DIR] [options]\n\n"
                                "Restores the backup into a scratch database in a temporary directory, reads\n"
                                "it back and compares the row counts and the payload checksum with the\n"
                                "manifest. Exits 0 only when the backup would restore. The result is recorded\n"
                                "next to the file (FILE.verified) and shown by `musicgraph backups`.\n"
                                "An encrypted backup is decrypted as restore does (musicgraph restore --help).\n\n"
                                "  --latest                 the newest backup in the backup directory\n"
                                "  --dir DIR                the backup directory for --latest\n"
                                "  --insecure-unsigned      accept a backup without a signature (see restore)\n";

const char cmd_prune_usage[] = "usage: musicgraph prune [--daily N] [--weekly N] [--monthly N] [--dry-run]\n"
                               "                        [DIR | s3://BUCKET/PREFIX] [options]\n\n"
                               "Grandfather-father-son retention: keeps the newest backup of each of the N\n"
                               "most recent days, ISO weeks and months that have backups (UTC), the newest\n"
                               "backup of all, and every backup tagged 'keep' or 'keep-…'; removes the rest.\n"
                               "Without a target: the local backup directory and MUSICGRAPH_BACKUP_OFFSITE.\n\n"
                               "  --daily N                default 7\n"
                               "  --weekly N               default 4\n"
                               "  --monthly N              default 12\n"
                               "  --dry-run                list what would be removed, remove nothing\n";

const char cmd_backups_usage[] = "usage: musicgraph backups [DIR | s3://BUCKET/PREFIX] [options]\n\n"
                                 "Lists backups, oldest first, with their time (UTC), size, tag, row counts\n"
                                 "and whether they verified; then the newest one's age. Without a target: the\n"
                                 "local backup directory and MUSICGRAPH_BACKUP_OFFSITE. Encrypted backups\n"
                                 "(NAME.json.gz.enc) are listed from their readable header, without a key.\n";

const char cmd_export_usage[] = "usage: musicgraph export [--anonymize] [FILE | -] [options]\n\n"
                                "Writes the map, the accounts and the audit log in the backup format, to FILE\n"
                                "(gzip-compressed when it ends in .gz) or to standard output (plain JSON),\n"
                                "signed with this installation's backup key (see backup-key --help).\n\n"
                                "  --anonymize              replace every email (user-ID@example.invalid) and\n"
                                "                           password hash (nobody can log in with them), drop\n"
                                "                           audit actors: for a development or staging copy\n";

const char cmd_import_usage[] = "usage: musicgraph import FILE [--replace | --merge] [options]\n\n"
                                "Loads an export or a backup (gzip, plain or encrypted: see restore --help), or\n"
                                "a bare dataset document (the format of data/families/*.json). Every rule is\n"
                                "checked on the result before anything is written, and it is written in one\n"
                                "transaction: all of it or nothing.\n"
                                "Users in the file whose username and email are free are added; existing\n"
                                "users and the audit log are left as they are. An account with a password is\n"
                                "taken only from a file signed by a trusted key (backup-key --help): from any\n"
                                "other file only accounts nobody can log in to (an anonymized export's) are\n"
                                "added, and the others are named and skipped.\n\n"
                                "  --replace                the map becomes exactly the file's\n"
                                "  --merge                  the file's genres and bands are added, or replace\n"
                                "                           those with the same id; the others stay\n"
                                "  --insecure-unsigned      take the accounts of an unsigned file too (nothing\n"
                                "                           proves who made them)\n"
                                "One of --replace and --merge is required when the database already holds a map.\n";

/* ---- helpers ---- */

static int fail(const char *cmd, const char *err)
{
    fprintf(stderr, "musicgraph %s: %s\n", cmd, err);
    return 1;
}

static int usage_error(const char *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "musicgraph %s: %s%s%s%s (see musicgraph %s --help)\n", cmd, what, arg ? " '" : "", arg ? arg : "",
            arg ? "'" : "", cmd);
    return 2;
}

/* "--flag VALUE" or "--flag=VALUE" at argv[*i]: 1 taken, 0 not this flag, -1 missing value. */
static int flag_value(int argc, char **argv, int *i, const char *flag, const char **value)
{
    size_t n = strlen(flag);
    if (strcmp(argv[*i], flag) == 0) {
        if (*i + 1 >= argc)
            return -1;
        *value = argv[++*i];
        return 1;
    }
    if (strncmp(argv[*i], flag, n) == 0 && argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    return 0;
}

static int open_store(config *cfg, store **s, char *err, size_t errlen)
{
    mkdir(cfg->state_dir, 0750);
    return store_open(cfg->database_url, s, err, errlen);
}

/* 1 when the database has a musicgraph schema (a migration applied, or one
 * of a newer musicgraph), 0 when not, -1 when that cannot be read. */
static int has_schema(store *s, char *err, size_t errlen)
{
    store_migration *list;
    size_t n, unknown;
    if (store_migrations(s, &list, &n, &unknown, err, errlen) != 0)
        return -1;
    int found = unknown > 0;
    for (size_t i = 0; i < n && !found; i++)
        found = list[i].applied;
    free(list);
    return found;
}

/* For commands that read data: a missing SQLite file, or a PostgreSQL
 * database without a musicgraph schema, is a wrong --state-dir or
 * --database-url far more often than an empty installation. */
static int open_existing(config *cfg, store **s, char *err, size_t errlen)
{
    const char *path = config_sqlite_path(cfg);
    if (path && access(path, F_OK) != 0) {
        snprintf(err, errlen, "there is no database at %s: nothing to read (is --state-dir or --database-url right?)",
                 path);
        return -1;
    }
    if (store_open(cfg->database_url, s, err, errlen) != 0)
        return -1;
    int found = path ? 1 : has_schema(*s, err, errlen);
    if (found == 1)
        return 0;
    if (found == 0) {
        char name[300];
        store_describe(cfg->database_url, name, sizeof name);
        snprintf(err, errlen,
                 "there is no musicgraph schema in %s: nothing to read (is --state-dir or --database-url right?)",
                 name);
    }
    store_close(*s);
    *s = NULL;
    return -1;
}

/* The keys whose signatures restore, verify and import believe: the state
 * directory's (backup_keys_load) and those recorded in the database, when
 * there is one (a new machine's restore has none yet). */
static int load_trusted_keys(config *cfg, int create, backup_keys **keys, char *err, size_t errlen)
{
    if (backup_keys_load(cfg->state_dir, create, keys, err, errlen) != 0)
        return -1;
    const char *path = config_sqlite_path(cfg);
    if (path && access(path, F_OK) != 0)
        return 0;
    store *s;
    int rc = store_open(cfg->database_url, &s, err, errlen);
    if (rc == 0) {
        rc = backup_keys_trust_store(*keys, s, err, errlen);
        store_close(s);
    }
    if (rc != 0) {
        backup_keys_free(*keys);
        *keys = NULL;
    }
    return rc;
}

/* Migrates like the server would at start, backing up first when needed,
 * under the initialization lock. */
static int migrate(store *s, const config *cfg, char *err, size_t errlen)
{
    int applied, lock;
    if (init_lock(cfg, &lock, err, errlen) != 0)
        return -1;
    int rc = backup_before_migrate(s, cfg, err, errlen) == 0 && store_migrate(s, &applied, err, errlen) == 0 ? 0 : -1;
    init_unlock(lock);
    return rc;
}

static void human_size(int64_t bytes, char *out, size_t len)
{
    if (bytes < 1024)
        snprintf(out, len, "%lld B", (long long)bytes);
    else if (bytes < 1024 * 1024)
        snprintf(out, len, "%.1f KiB", (double)bytes / 1024);
    else if (bytes < 1024LL * 1024 * 1024)
        snprintf(out, len, "%.1f MiB", (double)bytes / (1024 * 1024));
    else
        snprintf(out, len, "%.1f GiB", (double)bytes / (1024.0 * 1024 * 1024));
}

static void summary(const store_counts *c, char *out, size_t len)
{
    snprintf(out, len, "%lld genre%s, %lld band%s, %lld user%s, %lld audit entr%s", (long long)c->genres,
             c->genres == 1 ? "" : "s", (long long)c->bands, c->bands == 1 ? "" : "s", (long long)c->users,
             c->users == 1 ? "" : "s", (long long)c->audit_log, c->audit_log == 1 ? "y" : "ies");
}

/* ---- backup ---- */

/* Puts the local backup at path offsite: as it is, or (crypt set) an
 * encrypted copy of it, NAME.enc. */
static int put_offsite(config *cfg, const char *offsite, const char *path, const backup_manifest *m,
                       const backup_crypt *crypt, char *where, size_t wlen, char *err, size_t errlen)
{
    backup_target *t;
    if (backup_location_open(cfg, offsite, &t, err, errlen) != 0)
        return -1;
    if (!crypt) {
        int rc = backup_target_put(t, path, m, where, wlen, err, errlen);
        backup_target_close(t);
        return rc;
    }
    char enc[4400];
    int rc = backup_encrypt_copy(path, m, crypt, enc, sizeof enc, err, errlen);
    if (rc == 0) {
        rc = backup_target_put(t, enc, m, where, wlen, err, errlen);
        backup_temp_remove(enc);
    }
    backup_target_close(t);
    return rc;
}

int cmd_backup(config *cfg, int argc, char **argv)
{
    const char *to = NULL, *tag = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = flag_value(argc, argv, &i, "--to", &to)) || (r = flag_value(argc, argv, &i, "--tag", &tag))) {
            if (r < 0)
                return usage_error("backup", "this option needs a value:", argv[i]);
            continue;
        }
        return usage_error("backup", "unexpected argument", argv[i]);
    }
    if (tag && !backup_tag_valid(tag))
        return usage_error("backup", "a tag holds at most 64 letters, digits, '.', '_' or '-', not", tag);
    /* --to DIR writes there; --to s3://… (like MUSICGRAPH_BACKUP_OFFSITE)
     * writes into the backup directory as usual and puts a copy there. */
    char dir[4096], err[ERRLEN];
    const char *offsite = cfg->backup_offsite && *cfg->backup_offsite ? cfg->backup_offsite : NULL;
    if (to && !backup_location_is_remote(to))
        snprintf(dir, sizeof dir, "%s", to);
    else
        backup_default_dir(cfg, dir, sizeof dir);
    if (to && backup_location_is_remote(to))
        offsite = to;
    if (offsite && backup_location_check(offsite, err, sizeof err) != 0)
        return fail("backup", err);
    /* Offsite copies are encrypted whenever there is a key; local ones when
     * MUSICGRAPH_BACKUP_ENCRYPT=1 says so. */
    backup_crypt *crypt;
    int local;
    if (backup_crypt_from_config(cfg, &crypt, &local, err, sizeof err) != 0)
        return fail("backup", err);
    store *s;
    if (open_existing(cfg, &s, err, sizeof err) != 0) {
        backup_crypt_free(crypt);
        return fail("backup", err);
    }
    char path[4200];
    backup_manifest m;
    backup_keys *keys;
    int rc = backup_keys_load(cfg->state_dir, 1, &keys, err, sizeof err);
    if (rc == 0) {
        rc = backup_write(s, keys, local ? crypt : NULL, dir, tag, path, sizeof path, &m, err, sizeof err);
        backup_keys_free(keys);
    }
    store_close(s);
    if (rc != 0) {
        backup_crypt_free(crypt);
        return fail("backup", err);
    }
    struct stat st;
    char size[32], counts[256];
    human_size(stat(path, &st) == 0 ? (int64_t)st.st_size : 0, size, sizeof size);
    summary(&m.counts, counts, sizeof counts);
    printf("backup written: %s (%s; %s%s)\n", path, size, counts, local ? "; encrypted" : "");
    fflush(stdout);
    if (offsite) {
        char where[1800];
        if (!crypt)
            fprintf(stderr,
                    "musicgraph backup: warning: the offsite copy is not encrypted: whoever can read %s reads every "
                    "account's email address and password hash (set MUSICGRAPH_BACKUP_PASSPHRASE_FILE or "
                    "MUSICGRAPH_BACKUP_KEY_FILE)\n",
                    offsite);
        rc = put_offsite(cfg, offsite, path, &m, local ? NULL : crypt, where, sizeof where, err, sizeof err);
        if (rc != 0) {
            backup_crypt_free(crypt);
            fprintf(stderr, "musicgraph backup: the local backup is complete, but the offsite copy failed: %s\n", err);
            return 1;
        }
        printf("uploaded: %s%s\n", where, crypt ? " (encrypted)" : "");
    }
    backup_crypt_free(crypt);
    return 0;
}

/* ---- restore ---- */

/* What --insecure-unsigned skipped, said every time it did. */
static void warn_unsigned(const char *cmd, const char *file, const backup_trust *trust)
{
    if (trust->unsigned_accepted)
        fprintf(stderr,
                "musicgraph %s: warning: %s is not signed; --insecure-unsigned skipped the signature check, so nothing "
                "proves it comes from this installation (its checksum, limits and every data rule were checked)\n",
                cmd, file);
}

int cmd_restore(config *cfg, int argc, char **argv)
{
    const char *file = NULL;
    int safety = 1, insecure = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-safety-backup") == 0)
            safety = 0;
        else if (strcmp(argv[i], "--insecure-unsigned") == 0)
            insecure = 1;
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else
            return usage_error("restore", "unexpected argument", argv[i]);
    }
    if (!file)
        return usage_error("restore", "which backup? give a file or an s3:// URL", NULL);
    char err[ERRLEN], name[256], local_path[4200];
    backup_target *t;
    backup_limits lim;
    backup_keys *keys;
    backup_crypt *crypt;
    int encrypt_local;
    if (backup_limits_from_config(cfg, &lim, err, sizeof err) != 0 ||
        backup_crypt_from_config(cfg, &crypt, &encrypt_local, err, sizeof err) != 0)
        return fail("restore", err);
    if (load_trusted_keys(cfg, 1, &keys, err, sizeof err) != 0) {
        backup_crypt_free(crypt);
        return fail("restore", err);
    }
    backup_trust trust = {.keys = keys, .allow_unsigned = insecure};
    if (backup_location_open_file(cfg, file, &t, name, sizeof name, err, sizeof err) != 0) {
        backup_keys_free(keys);
        backup_crypt_free(crypt);
        return fail("restore", err);
    }
    backup_contents c;
    int rc = backup_target_fetch(t, name, local_path, sizeof local_path, err, sizeof err);
    if (rc == 0) {
        rc = backup_read(local_path, 0, &lim, &trust, crypt, &c, err, sizeof err);
        backup_target_release(t, local_path);
    }
    backup_target_close(t);
    store *s = NULL;
    if (rc == 0) {
        warn_unsigned("restore", file, &trust);
        rc = open_store(cfg, &s, err, sizeof err);
        if (rc != 0)
            backup_contents_free(&c);
    }
    if (rc != 0) {
        backup_keys_free(keys);
        backup_crypt_free(crypt);
        return fail("restore", err);
    }
    char dir[4096], safety_path[4200] = "";
    backup_default_dir(cfg, dir, sizeof dir);
    rc = migrate(s, cfg, err, sizeof err);
    if (rc == 0)
        rc = backup_restore(s, &c, keys, encrypt_local ? crypt : NULL, safety ? dir : NULL, safety_path,
                            sizeof safety_path, err, sizeof err);
    store_close(s);
    backup_keys_free(keys);
    backup_crypt_free(crypt);
    if (rc != 0) {
        backup_contents_free(&c);
        return fail("restore", err);
    }
    char counts[256];
    summary(&c.manifest.counts, counts, sizeof counts);
    printf("restored %s (taken %s): %s\n", file, c.manifest.created_at, counts);
    if (safety_path[0])
        printf("the data it replaced is in %s\n", safety_path);
    backup_contents_free(&c);
    return 0;
}

/* ---- verify ---- */

/* The newest backup's name in dir (the directory itself is the target). */
static int latest_name(backup_target *t, const char *dir, char *name, size_t len, char *err, size_t errlen)
{
    backup_info *list;
    size_t n;
    if (backup_target_list(t, &list, &n, err, errlen) != 0)
        return -1;
    if (n == 0)
        snprintf(err, errlen, "there are no backups in %s", dir);
    else
        snprintf(name, len, "%s", list[n - 1].name);
    free(list);
    return n ? 0 : -1;
}

/* verify, once its settings are read. */
static int verify_one(config *cfg, const char *file, const char *dirflag, const backup_limits *lim, backup_trust *trust,
                      const backup_crypt *crypt, char *err, size_t errlen)
{
    char name[256], path[4200];
    backup_target *t;
    int latest = !file;
    if (latest) {
        char dir[4096];
        if (dirflag)
            snprintf(dir, sizeof dir, "%s", dirflag);
        else
            backup_default_dir(cfg, dir, sizeof dir);
        if (backup_location_open(cfg, dir, &t, err, errlen) != 0)
            return fail("verify", err);
        if (latest_name(t, dir, name, sizeof name, err, errlen) != 0) {
            backup_target_close(t);
            return fail("verify", err);
        }
    } else if (backup_location_open_file(cfg, file, &t, name, sizeof name, err, errlen) != 0) {
        return fail("verify", err);
    }
    if (backup_target_fetch(t, name, path, sizeof path, err, errlen) != 0) {
        backup_target_close(t);
        return fail("verify", err);
    }
    backup_manifest m;
    memset(&m, 0, sizeof m);
    int rc = backup_verify(path, lim, trust, crypt, &m, err, errlen);
    char shown[4400], counts[256], why[1024];
    snprintf(shown, sizeof shown, "%s", file ? file : path);
    backup_target_release(t, path);
    summary(&m.counts, counts, sizeof counts);
    int recorded = backup_target_record(t, name, &m, rc == 0, rc == 0 ? counts : err, why, sizeof why);
    if (recorded != 0 && recorded != MG_ERR_NOT_FOUND)
        fprintf(stderr, "musicgraph verify: note: cannot record the result next to %s: %s\n", shown, why);
    backup_target_close(t);
    if (rc != 0)
        return fail("verify", err);
    warn_unsigned("verify", shown, trust);
    printf("%s: OK, it restores %s (schema %s, taken %s%s%s)\n", shown, counts,
           m.schema_version[0] ? m.schema_version : "none", m.created_at, m.tag[0] ? ", tag " : "", m.tag);
    return 0;
}

int cmd_verify(config *cfg, int argc, char **argv)
{
    const char *file = NULL, *dirflag = NULL;
    int latest = 0, insecure = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = flag_value(argc, argv, &i, "--dir", &dirflag))) {
            if (r < 0)
                return usage_error("verify", "this option needs a value:", argv[i]);
        } else if (strcmp(argv[i], "--latest") == 0) {
            latest = 1;
        } else if (strcmp(argv[i], "--insecure-unsigned") == 0) {
            insecure = 1;
        } else if (argv[i][0] != '-' && !file) {
            file = argv[i];
        } else {
            return usage_error("verify", "unexpected argument", argv[i]);
        }
    }
    if (!!file == latest)
        return usage_error("verify", "give either a backup (FILE or s3:// URL) or --latest", NULL);
    char err[ERRLEN];
    backup_limits lim;
    backup_keys *keys;
    backup_crypt *crypt;
    int encrypt_local;
    if (backup_limits_from_config(cfg, &lim, err, sizeof err) != 0 ||
        backup_crypt_from_config(cfg, &crypt, &encrypt_local, err, sizeof err) != 0)
        return fail("verify", err);
    if (load_trusted_keys(cfg, 0, &keys, err, sizeof err) != 0) {
        backup_crypt_free(crypt);
        return fail("verify", err);
    }
    backup_trust trust = {.keys = keys, .allow_unsigned = insecure};
    int rc = verify_one(cfg, file, dirflag, &lim, &trust, crypt, err, sizeof err);
    backup_keys_free(keys);
    backup_crypt_free(crypt);
    return rc;
}

/* ---- prune ---- */

static int parse_count(const char *v, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < 0 || n > 100000)
        return -1;
    *out = (int)n;
    return 0;
}

/* Where prune and backups look: the named target, or the local backup
 * directory (written to dir) and the offsite prefix when one is set. */
static size_t backup_targets(const config *cfg, const char *target, char *dir, size_t dirlen, const char *targets[2])
{
    if (target) {
        targets[0] = target;
        return 1;
    }
    backup_default_dir(cfg, dir, dirlen);
    targets[0] = dir;
    if (!cfg->backup_offsite || !*cfg->backup_offsite)
        return 1;
    targets[1] = cfg->backup_offsite;
    return 2;
}

int cmd_prune(config *cfg, int argc, char **argv)
{
    prune_policy p = {7, 4, 12};
    int dry_run = 0;
    const char *target = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r, *slot = NULL;
        if ((r = flag_value(argc, argv, &i, "--daily", &v)))
            slot = &p.daily;
        else if ((r = flag_value(argc, argv, &i, "--weekly", &v)))
            slot = &p.weekly;
        else if ((r = flag_value(argc, argv, &i, "--monthly", &v)))
            slot = &p.monthly;
        if (slot) {
            if (r < 0 || parse_count(v, slot) != 0)
                return usage_error("prune", "--daily, --weekly and --monthly need a number of 0 or more, not",
                                   r < 0 ? "" : v);
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            dry_run = 1;
        } else if (argv[i][0] != '-' && !target) {
            target = argv[i];
        } else {
            return usage_error("prune", "unexpected argument", argv[i]);
        }
    }
    char err[ERRLEN], dir[4096];
    const char *targets[2];
    size_t ntargets = backup_targets(cfg, target, dir, sizeof dir, targets);
    for (size_t i = 0; i < ntargets; i++) {
        size_t kept, removed;
        backup_target *t;
        if (backup_location_open(cfg, targets[i], &t, err, sizeof err) != 0)
            return fail("prune", err);
        int rc = prune_target(t, &p, dry_run, stdout, &kept, &removed, err, sizeof err);
        backup_target_close(t);
        if (rc != 0)
            return fail("prune", err);
        printf("%s: kept %zu, %s %zu (daily %d, weekly %d, monthly %d)\n", targets[i], kept,
               dry_run ? "would remove" : "removed", removed, p.daily, p.weekly, p.monthly);
    }
    return 0;
}

/* ---- backups ---- */

static void print_row(const backup_info *b)
{
    char when[32], size[32], verified[64];
    struct tm tm;
    gmtime_r(&b->created, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
    human_size(b->size, size, sizeof size);
    if (b->verified > 0)
        snprintf(verified, sizeof verified, "yes %.20s", b->verified_at);
    else if (b->verified < 0)
        snprintf(verified, sizeof verified, "FAILED %.20s", b->verified_at);
    else
        snprintf(verified, sizeof verified, "%s", b->verify_message[0] ? "changed" : "no");
    if (b->has_manifest)
        printf("%-21s %10s  %-24.24s %7lld %7lld %6lld %7lld  %-24s %s\n", when, size, b->tag[0] ? b->tag : "-",
               (long long)b->manifest.counts.genres, (long long)b->manifest.counts.bands,
               (long long)b->manifest.counts.users, (long long)b->manifest.counts.audit_log, verified, b->location);
    else
        printf("%-21s %10s  %-24.24s %7s %7s %6s %7s  %-24s %s\n", when, size, b->tag[0] ? b->tag : "-", "?", "?", "?",
               "?", verified, b->location);
}

static int list_target(const config *cfg, const char *location, backup_info **list, size_t *count, char *err,
                       size_t errlen)
{
    backup_target *t;
    if (backup_location_open(cfg, location, &t, err, errlen) != 0)
        return -1;
    int rc = backup_target_list(t, list, count, err, errlen);
    backup_target_close(t);
    return rc;
}

int cmd_backups(config *cfg, int argc, char **argv)
{
    const char *target = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' && !target)
            target = argv[i];
        else
            return usage_error("backups", "unexpected argument", argv[i]);
    }
    char err[ERRLEN], dir[4096];
    const char *targets[2];
    size_t ntargets = backup_targets(cfg, target, dir, sizeof dir, targets);
    int rc = 0;
    printf("%-21s %10s  %-24s %7s %7s %6s %7s  %-24s %s\n", "CREATED (UTC)", "SIZE", "TAG", "GENRES", "BANDS", "USERS",
           "AUDIT", "VERIFIED", "LOCATION");
    for (size_t t = 0; t < ntargets; t++) {
        backup_info *list;
        size_t n;
        if (list_target(cfg, targets[t], &list, &n, err, sizeof err) != 0) {
            fprintf(stderr, "musicgraph backups: %s\n", err);
            rc = 1;
            continue;
        }
        for (size_t i = 0; i < n; i++)
            print_row(&list[i]);
        if (n == 0) {
            printf("(no backups in %s)\n", targets[t]);
        } else {
            const backup_info *b = &list[n - 1];
            double hours = difftime(time(NULL), b->created) / 3600.0;
            char size[32];
            human_size(b->size, size, sizeof size);
            printf("newest in %s: %s, %s, %.1f hours old%s\n", targets[t], b->name, size, hours,
                   hours > 26 ? " — WARNING: older than 26 hours, is the backup timer running?" : "");
        }
        free(list);
    }
    return rc;
}

/* ---- export / import ---- */

int cmd_export(config *cfg, int argc, char **argv)
{
    const char *file = NULL;
    int anonymize = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--anonymize") == 0)
            anonymize = 1;
        else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && !file)
            file = argv[i];
        else
            return usage_error("export", "unexpected argument", argv[i]);
    }
    char err[ERRLEN];
    store *s;
    if (open_existing(cfg, &s, err, sizeof err) != 0)
        return fail("export", err);
    /* Signed as backups are, so that import elsewhere can take its accounts
     * once this installation's key is trusted there. */
    backup_keys *keys;
    if (backup_keys_load(cfg->state_dir, 1, &keys, err, sizeof err) != 0) {
        store_close(s);
        return fail("export", err);
    }
    backup_manifest m;
    int rc = backup_export(s, keys, file, anonymize, &m, err, sizeof err);
    backup_keys_free(keys);
    store_close(s);
    if (rc != 0)
        return fail("export", err);
    if (file && strcmp(file, "-") != 0) {
        char counts[256];
        summary(&m.counts, counts, sizeof counts);
        printf("exported %s to %s%s\n", counts, file, anonymize ? " (anonymized)" : "");
    }
    return 0;
}

/* Copies every genre and band of from over into d (same id: replaced). */
static int merge_into(dataset *d, const dataset *from, char *err, size_t errlen)
{
    strmap gi = {0}, bi = {0};
    dataset before;
    if (dataset_copy(&before, d) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Keys borrowed from an untouched copy: replacing an entry of d frees its id. */
    int rc = -1;
    if (strmap_init(&gi, before.ngenres) != 0 || strmap_init(&bi, before.nbands) != 0)
        goto done;
    for (size_t i = 0; i < before.ngenres; i++)
        if (strmap_put(&gi, before.genres[i].id, i) != 0)
            goto done;
    for (size_t i = 0; i < before.nbands; i++)
        if (strmap_put(&bi, before.bands[i].id, i) != 0)
            goto done;
    for (size_t i = 0; i < from->ngenres; i++) {
        size_t k;
        genre *g;
        if (from->genres[i].id && strmap_get(&gi, from->genres[i].id, &k)) {
            g = &d->genres[k];
            genre_clear(g);
        } else if (!(g = dataset_add_genre(d))) {
            goto done;
        }
        if (genre_copy(g, &from->genres[i]) != 0)
            goto done;
    }
    for (size_t i = 0; i < from->nbands; i++) {
        size_t k;
        band *b;
        if (from->bands[i].id && strmap_get(&bi, from->bands[i].id, &k)) {
            b = &d->bands[k];
            band_clear(b);
        } else if (!(b = dataset_add_band(d))) {
            goto done;
        }
        if (band_copy(b, &from->bands[i]) != 0)
            goto done;
    }
    rc = 0;
done:
    if (rc != 0)
        snprintf(err, errlen, "out of memory while merging");
    strmap_free(&gi);
    strmap_free(&bi);
    dataset_free(&before);
    return rc;
}

/* Keeps only the users of d whose password hash opens nothing (anonymized):
 * the accounts of a file not signed by a trusted key. The others' names go
 * to skipped; their count is returned. */
static size_t drop_usable_accounts(store_dump_t *d, char *skipped, size_t len)
{
    size_t kept = 0, dropped = 0, used = 0;
    skipped[0] = '\0';
    for (size_t i = 0; i < d->nusers; i++) {
        if (!password_usable(d->users[i].password_hash)) {
            d->users[kept++] = d->users[i];
            continue;
        }
        if (dropped < 5 && used < len)
            used += (size_t)snprintf(skipped + used, len - used, "%s%.64s", dropped ? ", " : "", d->users[i].username);
        dropped++;
    }
    if (dropped > 5 && used < len)
        snprintf(skipped + used, len - used, " and %zu more", dropped - 5);
    d->nusers = kept;
    return dropped;
}

int cmd_import(config *cfg, int argc, char **argv)
{
    const char *file = NULL;
    int replace = 0, merge = 0, insecure = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--replace") == 0)
            replace = 1;
        else if (strcmp(argv[i], "--merge") == 0)
            merge = 1;
        else if (strcmp(argv[i], "--insecure-unsigned") == 0)
            insecure = 1;
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else
            return usage_error("import", "unexpected argument", argv[i]);
    }
    if (!file)
        return usage_error("import", "which file? (an export, a backup or a dataset document)", NULL);
    if (replace && merge)
        return usage_error("import", "--replace and --merge exclude each other", NULL);
    char err[ERRLEN];
    backup_contents c;
    backup_limits lim;
    backup_crypt *crypt = NULL;
    backup_keys *keys = NULL;
    int encrypt_local;
    /* The map is checked by every rule whoever wrote the file; an account
     * that can log in is taken only from a file signed by a trusted key
     * (or, said explicitly, an unsigned one): else a forged file could add
     * an admin whose password its author knows. */
    backup_trust trust = {.allow_unsigned = insecure, .read_untrusted = 1};
    int read = backup_limits_from_config(cfg, &lim, err, sizeof err) == 0 &&
               backup_crypt_from_config(cfg, &crypt, &encrypt_local, err, sizeof err) == 0 &&
               load_trusted_keys(cfg, 1, &keys, err, sizeof err) == 0 &&
               (trust.keys = keys, backup_read(file, 1, &lim, &trust, crypt, &c, err, sizeof err) == 0);
    backup_crypt_free(crypt);
    backup_keys_free(keys);
    if (!read)
        return fail("import", err);
    char skipped[512];
    size_t nskipped = 0;
    if (!trust.trusted && !trust.unsigned_accepted)
        nskipped = drop_usable_accounts(&c.dump, skipped, sizeof skipped);
    store *s;
    if (open_store(cfg, &s, err, sizeof err) != 0) {
        backup_contents_free(&c);
        return fail("import", err);
    }
    store_dump_t current;
    memset(&current, 0, sizeof current);
    store_dump_t next;
    memset(&next, 0, sizeof next);
    int rc = migrate(s, cfg, err, sizeof err);
    if (rc == 0 && c.has_manifest)
        rc = backup_check_schema(s, &c.manifest, err, sizeof err);
    if (rc == 0)
        rc = store_dump(s, &current, err, sizeof err);
    if (rc == 0 && !replace && !merge && (current.map.ngenres || current.map.nbands)) {
        snprintf(err, sizeof err,
                 "the database already holds a map (%zu genres, %zu bands): say --replace to make it the file's, "
                 "or --merge to add the file's genres and bands to it",
                 current.map.ngenres, current.map.nbands);
        rc = -1;
    }
    size_t file_genres = c.dump.map.ngenres, file_bands = c.dump.map.nbands;
    if (rc == 0) {
        /* The file's users ride along; STORE_RESTORE_ADD_USERS skips taken names. */
        next.users = c.dump.users;
        next.nusers = c.dump.nusers;
        if (merge) {
            next.map = current.map;
            memset(&current.map, 0, sizeof current.map);
            rc = merge_into(&next.map, &c.dump.map, err, sizeof err);
        } else {
            next.map = c.dump.map;
            memset(&c.dump.map, 0, sizeof c.dump.map);
        }
    }
    if (rc == 0)
        rc = backup_check_rules(&next, err, sizeof err);
    int64_t added = 0;
    unsigned what = STORE_RESTORE_MAP | (next.nusers ? STORE_RESTORE_ADD_USERS : 0);
    if (rc == 0)
        rc = store_restore(s, &next, what, &current, &added, err, sizeof err);
    store_close(s);
    if (rc == 0)
        printf("imported %s%s: the map now holds %zu genres and %zu bands (%zu genres and %zu bands from the file); "
               "%lld user%s added\n",
               file, merge ? " (merged)" : "", next.map.ngenres, next.map.nbands, file_genres, file_bands,
               (long long)added, added == 1 ? "" : "s");
    if (rc == 0 && nskipped)
        fprintf(stderr,
                "musicgraph import: %zu account%s with a password %s not added (%s): %s. Nothing proves who made "
                "%s; %s\n",
                nskipped, nskipped == 1 ? "" : "s", nskipped == 1 ? "was" : "were", skipped, trust.untrusted,
                nskipped == 1 ? "it" : "them",
                strcmp(trust.untrusted, BACKUP_UNSIGNED) == 0
                    ? "say --insecure-unsigned to take them if you know where the file comes from"
                    : "once the key is trusted, import the file again to add them");
    if (rc == 0 && trust.unsigned_accepted)
        fprintf(stderr,
                "musicgraph import: warning: %s is not signed; --insecure-unsigned took its accounts without proof "
                "of where they come from\n",
                file);
    next.users = NULL;
    next.nusers = 0;
    store_dump_free(&next);
    store_dump_free(&current);
    backup_contents_free(&c);
    if (rc != 0) {
        if (strncmp(err, "the data breaks", 15) == 0) {
            fprintf(stderr, "musicgraph import: nothing was imported: the result %s\n", err + 9);
            return 1;
        }
        return fail("import", err);
    }
    return 0;
}

/* ---- backup-key ---- */

const char cmd_backup_key_usage[] = "usage: musicgraph backup-key show | rotate | trust FILE [options]\n\n"
                                    "Backups are signed (Ed25519) with this installation's key, kept in\n"
                                    "STATE_DIR/backup-signing.key (generated at the first backup; never inside a\n"
                                    "backup). restore and verify accept only backups signed by a trusted key: the\n"
                                    "signing key, one listed in STATE_DIR/backup-trusted-keys, or one recorded in\n"
                                    "the database (every signing key records itself there, so that instances on\n"
                                    "one database, each with its own state directory, trust each other's).\n\n"
                                    "  show         print the signing key's public half and the trusted keys, one\n"
                                    "               a line (what another installation's `backup-key trust` reads)\n"
                                    "  rotate       make a new signing key; the old one stays trusted, so the\n"
                                    "               backups it signed still restore\n"
                                    "  trust FILE   trust every key (ed25519:…) in FILE, e.g. the output of `show`\n"
                                    "               on the server this one replaces: its backups then restore here\n";

int cmd_backup_key(config *cfg, int argc, char **argv)
{
    const char *action = argc > 1 ? argv[1] : "";
    int is_trust = strcmp(action, "trust") == 0;
    if (strcmp(action, "show") != 0 && strcmp(action, "rotate") != 0 && !is_trust)
        return usage_error("backup-key", "say show, rotate or trust FILE, not", action);
    if (argc != (is_trust ? 3 : 2))
        return usage_error("backup-key", is_trust ? "trust takes one FILE" : "unexpected argument",
                           argc > 2 && !is_trust ? argv[2] : NULL);
    char err[ERRLEN];
    backup_keys *before = NULL, *keys = NULL;
    int added = 0, rc = 0;
    if (strcmp(action, "rotate") == 0)
        rc = backup_keys_load(cfg->state_dir, 1, &before, err, sizeof err) == 0 &&
                     backup_keys_rotate(cfg->state_dir, err, sizeof err) == 0
                 ? 0
                 : -1;
    else if (is_trust)
        rc = backup_keys_trust_file(cfg->state_dir, argv[2], &added, err, sizeof err);
    if (rc == 0)
        rc = load_trusted_keys(cfg, 1, &keys, err, sizeof err);
    if (rc != 0) {
        backup_keys_free(before);
        return fail("backup-key", err);
    }
    if (before)
        printf("rotated: backups are now signed by %s; %s stays trusted\n", backup_keys_public(keys),
               backup_keys_public(before));
    else if (is_trust)
        printf("trusted %d new key%s from %s\n", added, added == 1 ? "" : "s", argv[2]);
    else
        printf("%s this installation's signing key (%s/backup-signing.key)\n%s%s", backup_keys_public(keys),
               cfg->state_dir, backup_keys_trusted_text(keys), backup_keys_recorded_text(keys));
    backup_keys_free(before);
    backup_keys_free(keys);
    return 0;
}
