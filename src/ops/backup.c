/*
 * backup.c — taking, reading, checking and restoring backups (the format is
 * backup_format.h's; where they are kept, backup_target.h's).
 *
 * Writing: store_dump (one read transaction) -> payload JSON -> SHA-256 ->
 * manifest -> deflate into a temporary file in the destination directory ->
 * fsync -> rename to the final name without replacing anything -> fsync the
 * directory. Any failure removes the temporary file, so a full disk leaves
 * the directory as it was.
 *
 * Reading checks from the outside in, so that each kind of damage gets its
 * own message: empty, not gzip, truncated or corrupt stream, then the
 * document (backup_decode). The data rules (backup_check_rules) and the
 * schema (backup_check_schema) come next; nothing in a database is touched
 * until all of them pass. An encrypted backup (backup_crypt.h) is first
 * decrypted, chunk by chunk, into a private temporary file that then goes
 * through the same reading; an upload's encrypted copy is made the same way.
 */
#include "ops/backup.h"

#include "core/buf.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/gzip.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "domain/rules.h"
#include "domain/user.h"
#include "mg_version.h"
#include "ops/backup_anonymize.h"
#include "ops/backup_crypt.h"
#include "ops/backup_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void backup_default_dir(const config *cfg, char *out, size_t len)
{
    if (cfg->backup_dir && *cfg->backup_dir)
        snprintf(out, len, "%s", cfg->backup_dir);
    else
        snprintf(out, len, "%s/backups", cfg->state_dir);
}

/* ---- writing ---- */

/* Writes d as a new backup file in dir (see backup_write). */
static int write_dump(const store_dump_t *d, const char *backend, const backup_keys *signer, const backup_crypt *crypt,
                      const char *dir, const char *tag, char *path, size_t pathlen, backup_manifest *mout, char *err,
                      size_t errlen)
{
    if (tag && !backup_tag_valid(tag)) {
        snprintf(err, errlen, "the tag '%.80s' may hold only letters, digits, '.', '_' and '-' (at most %d)", tag,
                 BACKUP_TAG_MAX);
        return -1;
    }
    if (fs_make_dirs(dir, err, errlen) != 0)
        return -1;
    time_t now = time(NULL);
    backup_document doc;
    int rc = backup_encode(d, "backup", tag, 0, backend, signer, now, &doc, err, errlen);
    doc.gzip = 1;
    doc.crypt = crypt;
    char tmp[4200];
    if (rc == 0)
        rc = fs_write_temp(dir, 0640, backup_document_write, &doc, tmp, sizeof tmp, err, errlen);
    backup_document_free(&doc);
    if (rc != 0)
        return -1;
    for (int seq = 0; seq < 100; seq++) {
        char name[256];
        backup_name(now, seq, tag, name, sizeof name);
        if (crypt)
            snprintf(name + strlen(name), sizeof name - strlen(name), "%s", BACKUP_CRYPT_SUFFIX);
        int r = fs_publish(tmp, dir, name, 0, path, pathlen, err, errlen);
        if (r == 0) {
            if (mout)
                *mout = doc.manifest;
            return 0;
        }
        if (r != MG_ERR_EXISTS)
            return -1;
    }
    unlink(tmp);
    char stamp[32];
    backup_utc_format(now, "%Y%m%dT%H%M%SZ", stamp, sizeof stamp);
    snprintf(err, errlen, "too many backups named musicgraph-%s… in %s", stamp, dir);
    return -1;
}

int backup_write(store *s, const backup_keys *signer, const backup_crypt *crypt, const char *dir, const char *tag,
                 char *path, size_t pathlen, backup_manifest *mout, char *err, size_t errlen)
{
    store_dump_t d;
    if ((signer && backup_keys_record(signer, s, err, errlen) != 0) || store_dump(s, &d, err, errlen) != 0)
        return -1;
    int rc = write_dump(&d, store_backend(s), signer, crypt, dir, tag, path, pathlen, mout, err, errlen);
    store_dump_free(&d);
    return rc;
}

int backup_export(store *s, const backup_keys *signer, const char *file, int anonymized, backup_manifest *mout,
                  char *err, size_t errlen)
{
    store_dump_t d;
    if ((signer && backup_keys_record(signer, s, err, errlen) != 0) || store_dump(s, &d, err, errlen) != 0)
        return -1;
    backup_secrets originals = {0};
    if (anonymized)
        backup_anonymize(&d, &originals);
    backup_document doc;
    int rc = backup_encode(&d, "export", "", anonymized, store_backend(s), signer, time(NULL), &doc, err, errlen);
    store_dump_free(&d);
    /* Belt and braces: no original email or hash may remain anywhere, not
     * even in a genre's description. */
    if (rc == 0 && backup_secrets_leak(&originals, doc.payload_json.data, doc.payload_json.len)) {
        snprintf(err, errlen,
                 "the anonymized export would still contain a user's email address or password hash (in the "
                 "map's text?): nothing was written");
        rc = -1;
    }
    backup_secrets_free(&originals);
    int to_stdout = !file || strcmp(file, "-") == 0;
    size_t n = to_stdout ? 0 : strlen(file);
    doc.gzip = n >= 3 && strcmp(file + n - 3, ".gz") == 0;
    if (rc == 0 && to_stdout) {
        struct iovec iov[BACKUP_DOCUMENT_PIECES];
        backup_document_pieces(&doc, iov);
        for (int i = 0; rc == 0 && i < BACKUP_DOCUMENT_PIECES; i++)
            if (fwrite(iov[i].iov_base, 1, iov[i].iov_len, stdout) != iov[i].iov_len)
                rc = -1;
        if (fflush(stdout) != 0)
            rc = -1;
        if (rc != 0)
            snprintf(err, errlen, "cannot write to standard output: %s", strerror(errno));
    } else if (rc == 0) {
        rc = fs_write_atomic_with(file, 0640, backup_document_write, &doc, err, errlen);
    }
    backup_document_free(&doc);
    if (rc == 0 && mout)
        *mout = doc.manifest;
    return rc;
}

/* ---- reading ---- */

int backup_read_manifest(const char *path, backup_manifest *m, char *err, size_t errlen)
{
    unsigned char *raw;
    size_t rawlen, size;
    if (fs_read_file(path, 256 * 1024, &raw, &rawlen, &size, err, errlen) != 0)
        return -1;
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (backup_crypt_is(raw, rawlen)) {
        /* The readable header: no key needed. */
        backup_crypt_header h;
        rc = backup_crypt_parse_header(path, (const char *)raw, rawlen, &h, err, errlen);
        free(raw);
        if (rc == 0)
            *m = h.manifest;
        return rc;
    }
    if (gzip_is(raw, rawlen)) {
        rc = gzip_inflate(path, raw, rawlen, BACKUP_MANIFEST_MAX + 64, 1, &text, &len, err, errlen);
    } else {
        text = (char *)raw;
        len = rawlen;
        raw = NULL;
    }
    free(raw);
    if (rc != 0)
        return -1;
    rc = backup_decode_manifest(path, text, len, m, err, errlen);
    free(text);
    return rc;
}

/* The signature policy of trust on a scanned file. */
static int check_signature(const char *path, const backup_scan *scan, backup_trust *trust, char *err, size_t errlen)
{
    char why[1024];
    if (!scan->signature[0]) {
        if (trust->allow_unsigned) {
            trust->unsigned_accepted = 1;
            return 0;
        }
        if (trust->read_untrusted) {
            snprintf(trust->untrusted, sizeof trust->untrusted, "%s", BACKUP_UNSIGNED);
            return 0;
        }
        snprintf(err, errlen,
                 "%s is not signed (a backup from before backups were signed, or one whose signature was removed): "
                 "nothing proves it comes from this installation; if you know it does, --insecure-unsigned restores "
                 "it without that proof",
                 path);
        return -1;
    }
    int r = backup_keys_check(trust->keys, scan->manifest.signing_key, scan->manifest_text, scan->manifest_len,
                              scan->signature, why, sizeof why);
    if (r == BACKUP_KEY_UNTRUSTED && trust->read_untrusted) {
        snprintf(trust->untrusted, sizeof trust->untrusted, "%.400s", why);
        return 0;
    }
    if (r != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    trust->trusted = 1;
    return 0;
}

/* ---- private temporary copies: decrypted for reading, encrypted for upload ---- */

typedef int (*temp_fill)(void *ctx, int fd, char *err, size_t errlen);

/* Writes name (mode 0600) in a new private directory under $TMPDIR through
 * fill; its path goes to path. Nothing is left on failure. */
static int write_private_temp(const char *name, temp_fill fill, void *ctx, char *path, size_t len, char *err,
                              size_t errlen)
{
    char dir[4096];
    if (fs_make_private_temp_dir("crypt", dir, sizeof dir, err, errlen) != 0)
        return -1;
    snprintf(path, len, "%s/%.255s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = -1;
    if (fd < 0)
        snprintf(err, errlen, "cannot create %.4000s: %s", path, strerror(errno));
    else
        rc = fill(ctx, fd, err, errlen);
    if (fd >= 0 && close(fd) != 0 && rc == 0) {
        snprintf(err, errlen, "cannot write %.4000s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        backup_temp_remove(path);
    return rc;
}

void backup_temp_remove(const char *path)
{
    char dir[4400];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    unlink(path);
    if (slash) {
        *slash = '\0';
        rmdir(dir);
    }
}

typedef struct crypt_job {
    const backup_crypt *crypt;
    const char *from;
    const backup_limits *lim;   /* decrypting */
    backup_crypt_header header; /* decrypting: what the file's line says */
    const backup_manifest *m;   /* encrypting */
} crypt_job;

static int decrypt_fill(void *ctx, int fd, char *err, size_t errlen)
{
    crypt_job *j = ctx;
    return backup_crypt_decrypt_file(j->crypt, j->from, j->lim->archive_bytes, fd, &j->header, err, errlen);
}

static int encrypt_fill(void *ctx, int fd, char *err, size_t errlen)
{
    crypt_job *j = ctx;
    return backup_crypt_encrypt_file(j->crypt, j->from, j->m, fd, err, errlen);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int backup_encrypt_copy(const char *path, const backup_manifest *m, const backup_crypt *crypt, char *enc, size_t enclen,
                        char *err, size_t errlen)
{
    char name[300];
    snprintf(name, sizeof name, "%.255s%s", base_name(path), BACKUP_CRYPT_SUFFIX);
    crypt_job j = {.crypt = crypt, .from = path, .m = m};
    return write_private_temp(name, encrypt_fill, &j, enc, enclen, err, errlen);
}

/* 1 when the file at path starts as an encrypted backup. */
static int file_is_encrypted(const char *path)
{
    char start[sizeof BACKUP_CRYPT_MAGIC];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, start, sizeof start, 0) : -1;
    if (fd >= 0)
        close(fd);
    return n > 0 && backup_crypt_is(start, (size_t)n);
}

static int read_plain(const char *path, int allow_bare, const backup_limits *lim, backup_trust *trust,
                      backup_contents *out, char *err, size_t errlen);

int backup_read(const char *path, int allow_bare, const backup_limits *lim, backup_trust *trust,
                const backup_crypt *crypt, backup_contents *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!file_is_encrypted(path))
        return read_plain(path, allow_bare, lim, trust, out, err, errlen);
    /* Decrypted chunk by chunk into a private file, which the plain reading
     * below streams through as it would the backup itself. */
    const char *base = base_name(path);
    char name[300], plain[4400];
    snprintf(name, sizeof name, "%.*s",
             (int)(strlen(base) - (backup_crypt_name_is(base) ? strlen(BACKUP_CRYPT_SUFFIX) : 0)), base);
    crypt_job j = {.crypt = crypt, .from = path, .lim = lim};
    if (write_private_temp(name, decrypt_fill, &j, plain, sizeof plain, err, errlen) != 0)
        return -1;
    int rc = read_plain(plain, 0, lim, trust, out, err, errlen);
    backup_temp_remove(plain);
    /* The readable header is authenticated with the data, so only the key's
     * holder could make it lie; it must still say what the file holds. */
    if (rc == 0 && memcmp(&j.header.manifest, &out->manifest, sizeof out->manifest) != 0) {
        snprintf(err, errlen, "%s: its readable header's manifest is not the one inside the encrypted backup", path);
        backup_contents_free(out);
        rc = -1;
    }
    return rc;
}

static int read_plain(const char *path, int allow_bare, const backup_limits *lim, backup_trust *trust,
                      backup_contents *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    /* Nothing is held or parsed before the streaming pass has seen that the
     * file is within the limits and its payload is the one the manifest
     * names. */
    backup_scan scan;
    char why[1024];
    if (backup_scan_file(path, lim, &scan, err, errlen) != 0)
        return -1;
    if (!scan.has_manifest && !allow_bare) {
        snprintf(err, errlen, "%s is not a musicgraph backup: it does not start with a manifest", path);
        return -1;
    }
    int rc = 0;
    if (scan.has_manifest)
        rc = backup_check_sum(path, scan.payload_sha256, &scan.manifest, err, errlen);
    if (rc == 0 && scan.has_manifest && trust)
        rc = check_signature(path, &scan, trust, err, errlen);
    if (rc == 0 && scan.has_manifest && backup_check_limits(&scan.manifest.counts, lim, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        rc = -1;
    }
    backup_manifest checked = scan.manifest;
    backup_scan_free(&scan);
    if (rc != 0)
        return -1;
    /* The file is read again, so whatever it became meanwhile is what gets
     * checked (backup_decode checks the checksum again). */
    unsigned char *raw;
    size_t rawlen, size;
    if (fs_read_file(path, (size_t)lim->archive_bytes + 1, &raw, &rawlen, &size, err, errlen) != 0)
        return -1;
    char *text;
    size_t len;
    if (gzip_is(raw, rawlen)) {
        rc = gzip_inflate(path, raw, rawlen, (size_t)lim->document_bytes, 0, &text, &len, err, errlen);
        free(raw);
        if (rc != 0)
            return -1;
    } else {
        text = (char *)raw;
        len = rawlen;
        if (size > rawlen || len > (size_t)lim->document_bytes) {
            free(raw);
            snprintf(err, errlen, "%s changed while it was read", path);
            return -1;
        }
    }
    rc = backup_decode(path, text, len, allow_bare, (size_t)lim->text_bytes, out, err, errlen);
    free(text);
    /* What was parsed must be what was scanned, signature and all. */
    if (rc == 0 && out->has_manifest && memcmp(&out->manifest, &checked, sizeof checked) != 0) {
        snprintf(err, errlen, "%s changed while it was read", path);
        backup_contents_free(out);
        rc = -1;
    }
    store_counts have = backup_counts(&out->dump);
    if (rc == 0 && backup_check_limits(&have, lim, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        backup_contents_free(out);
        rc = -1;
    }
    return rc;
}

/* A limit setting: a whole number of at least 1. */
static int limit_value(const char *value, const char *setting, int64_t *out, char *err, size_t errlen)
{
    char *end;
    if (!value)
        value = "";
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || *end || v < 1) {
        snprintf(err, errlen, "%s must be a whole number of at least 1, not '%.40s'", setting, value);
        return -1;
    }
    *out = v;
    return 0;
}

int backup_limits_from_config(const config *cfg, backup_limits *l, char *err, size_t errlen)
{
    return limit_value(cfg->backup_max_archive, "MUSICGRAPH_BACKUP_MAX_ARCHIVE_BYTES", &l->archive_bytes, err,
                       errlen) ||
                   limit_value(cfg->backup_max_document, "MUSICGRAPH_BACKUP_MAX_DOCUMENT_BYTES", &l->document_bytes,
                               err, errlen) ||
                   limit_value(cfg->backup_max_text, "MUSICGRAPH_BACKUP_MAX_TEXT_BYTES", &l->text_bytes, err, errlen) ||
                   limit_value(cfg->backup_max_genres, "MUSICGRAPH_BACKUP_MAX_GENRES", &l->genres, err, errlen) ||
                   limit_value(cfg->backup_max_bands, "MUSICGRAPH_BACKUP_MAX_BANDS", &l->bands, err, errlen) ||
                   limit_value(cfg->backup_max_users, "MUSICGRAPH_BACKUP_MAX_USERS", &l->users, err, errlen) ||
                   limit_value(cfg->backup_max_audit, "MUSICGRAPH_BACKUP_MAX_AUDIT_ENTRIES", &l->audit_log, err, errlen)
               ? -1
               : 0;
}

/* ---- checks that need no file ---- */

static void add_prefixed(domain_errors *to, const domain_errors *from, const char *entry)
{
    for (size_t i = 0; i < from->count; i++)
        domain_errors_add(to, entry, from->items[i].field, "%s", from->items[i].message);
}

/* Duplicates among the users, found by sorting (a backup may hold
 * 100,000 accounts: comparing every pair took minutes). Equal keys sort by
 * their position, so the later user is the one named. */
typedef int (*user_order)(const store_user *a, const store_user *b);

static int by_id(const store_user *a, const store_user *b) { return a->id < b->id ? -1 : a->id > b->id; }
static int by_username(const store_user *a, const store_user *b) { return strcmp(a->username, b->username); }
static int by_email(const store_user *a, const store_user *b) { return strcasecmp(a->email, b->email); }

static _Thread_local user_order sort_order;

static int user_ptr_cmp(const void *x, const void *y)
{
    const store_user *a = *(const store_user *const *)x, *b = *(const store_user *const *)y;
    int c = sort_order(a, b);
    return c ? c : (a < b ? -1 : a > b);
}

static void user_duplicates(const store_dump_t *d, user_order order, const char *field, domain_errors *errs)
{
    const store_user **sorted = xcalloc(d->nusers ? d->nusers : 1, sizeof *sorted);
    if (!sorted) {
        domain_errors_add(errs, "users", field, "out of memory while checking them");
        return;
    }
    for (size_t i = 0; i < d->nusers; i++)
        sorted[i] = &d->users[i];
    sort_order = order;
    qsort(sorted, d->nusers, sizeof *sorted, user_ptr_cmp);
    char entry[128];
    for (size_t i = 1; i < d->nusers; i++) {
        if (order(sorted[i - 1], sorted[i]) != 0)
            continue;
        const store_user *u = sorted[i];
        snprintf(entry, sizeof entry, "user %.80s", u->username[0] ? u->username : "?");
        if (order == by_id)
            domain_errors_add(errs, entry, field, "the id %lld is used by another user", (long long)u->id);
        else
            domain_errors_add(errs, entry, field, "is used by another user");
    }
    free(sorted);
}

int backup_check_rules(const store_dump_t *d, char *err, size_t errlen)
{
    domain_errors errs = {0};
    domain_check_dataset(&d->map, &errs);
    char entry[128];
    for (size_t i = 0; i < d->nusers; i++) {
        const store_user *u = &d->users[i];
        domain_errors one = {0};
        snprintf(entry, sizeof entry, "user %.80s", u->username[0] ? u->username : "?");
        user_check_username(u->username, &one);
        /* Anonymized users keep their rules: user-ID@example.invalid is an address. */
        user_check_email(u->email, &one);
        add_prefixed(&errs, &one, entry);
        domain_errors_free(&one);
        if (!u->password_hash[0])
            domain_errors_add(&errs, entry, "password_hash", "is required");
        if (!u->created_at[0])
            domain_errors_add(&errs, entry, "created_at", "is required");
    }
    user_duplicates(d, by_id, "id", &errs);
    user_duplicates(d, by_username, "username", &errs);
    user_duplicates(d, by_email, "email", &errs);
    /* Accounts that replace all others must leave someone in charge. None
     * at all is a new installation's state: the server creates the first
     * admin at its next start, as it does on a new machine. */
    if (d->has_users && d->nusers > 0) {
        size_t admins = 0;
        for (size_t i = 0; i < d->nusers; i++)
            admins += d->users[i].is_admin && !d->users[i].disabled;
        if (admins == 0)
            domain_errors_add(&errs, "users", "is_admin",
                              "no active admin: after restoring it nobody could administer the site, and the "
                              "server would not start");
    }
    for (size_t i = 0; i < d->naudit; i++) {
        const store_audit *a = &d->audit[i];
        snprintf(entry, sizeof entry, "audit entry %lld", (long long)a->id);
        if (i > 0 && a->id <= d->audit[i - 1].id)
            domain_errors_add(&errs, entry, "id", "audit entries must be in increasing id order, without repeats");
        if (!a->at[0])
            domain_errors_add(&errs, entry, "at", "is required");
        if (strcmp(a->action, "create") && strcmp(a->action, "update") && strcmp(a->action, "delete"))
            domain_errors_add(&errs, entry, "action", "must be create, update or delete");
        if (strcmp(a->entity_type, "genre") && strcmp(a->entity_type, "band") && strcmp(a->entity_type, "user"))
            domain_errors_add(&errs, entry, "entity_type", "must be genre, band or user");
        if (!a->entity_id || !a->entity_id[0])
            domain_errors_add(&errs, entry, "entity_id", "is required");
    }
    if (errs.count == 0)
        return 0;
    backup_format_errors("the data", &errs, err, errlen);
    domain_errors_free(&errs);
    return -1;
}

int backup_check_schema(store *s, const backup_manifest *m, char *err, size_t errlen)
{
    if (!m->schema_version[0])
        return 0;
    store_migration *list;
    size_t n, unknown;
    if (store_migrations(s, &list, &n, &unknown, err, errlen) != 0)
        return -1;
    int rc = -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, m->schema_version) == 0)
            rc = 0;
    if (rc != 0 && n > 0 && strcmp(m->schema_version, list[n - 1].name) > 0)
        snprintf(err, errlen,
                 "the backup comes from a newer musicgraph (schema %s; this version %s knows up to %s): restore it "
                 "with that version or a later one",
                 m->schema_version, MG_VERSION, list[n - 1].name);
    else if (rc != 0)
        snprintf(err, errlen, "the backup's schema %s is not one this version knows (%s … %s)", m->schema_version,
                 n ? list[0].name : "none", n ? list[n - 1].name : "none");
    free(list);
    return rc;
}

unsigned backup_parts(const store_dump_t *d)
{
    return STORE_RESTORE_MAP | (d->has_users ? STORE_RESTORE_USERS : 0) | (d->has_audit ? STORE_RESTORE_AUDIT : 0);
}

/* How often restore starts over when the data changed while it wrote the
 * safety backup (a curator's edit, a login's account change). */
#define RESTORE_ATTEMPTS 3

int backup_restore(store *s, const backup_contents *c, const backup_keys *signer, const backup_crypt *crypt,
                   const char *safety_dir, char *safety_path, size_t safety_len, char *err, size_t errlen)
{
    if (safety_path && safety_len)
        safety_path[0] = '\0';
    if (c->has_manifest && backup_check_schema(s, &c->manifest, err, errlen) != 0)
        return -1;
    if (backup_check_rules(&c->dump, err, errlen) != 0)
        return -1;
    if (safety_dir && signer && backup_keys_record(signer, s, err, errlen) != 0)
        return -1;
    /* The safety backup is read in a read transaction and compressed with no
     * lock held: a running server keeps writing meanwhile. The replacement is
     * one short write transaction that first checks nothing changed since
     * that read (store_restore's expected), so the safety backup is exactly
     * what gets replaced; if something did change, it starts over. */
    int rc = -1;
    for (int attempt = 1; attempt <= RESTORE_ATTEMPTS; attempt++) {
        store_dump_t current;
        if (store_dump(s, &current, err, errlen) != 0)
            return -1;
        if (safety_dir) {
            char why[2048];
            if (write_dump(&current, store_backend(s), signer, crypt, safety_dir, "pre-restore", safety_path,
                           safety_len, NULL, why, sizeof why) != 0) {
                snprintf(err, errlen,
                         "cannot take the safety backup of the current data, so nothing was restored: %s "
                         "(--no-safety-backup restores without it)",
                         why);
                store_dump_free(&current);
                return -1;
            }
        }
        rc = store_restore(s, &c->dump, backup_parts(&c->dump), &current, NULL, err, errlen);
        store_dump_free(&current);
        if (rc != MG_ERR_CONFLICT)
            break;
        /* That safety backup is not what was replaced: the next one will be. */
        if (safety_dir && safety_path && safety_path[0]) {
            unlink(safety_path);
            safety_path[0] = '\0';
        }
    }
    return rc == 0 ? 0 : -1;
}

/* ---- before migrations ---- */

int backup_before_migrate(store *s, const config *cfg, char *err, size_t errlen)
{
    store_migration *list;
    size_t n, unknown;
    if (store_migrations(s, &list, &n, &unknown, err, errlen) != 0)
        return -1;
    size_t applied = 0, pending = 0, last_applied = 0;
    int changed = 0;
    for (size_t i = 0; i < n; i++) {
        if (list[i].applied) {
            applied++;
            last_applied = i;
            changed |= !list[i].checksum_ok;
        } else {
            pending++;
        }
    }
    /* Nothing to protect, nothing to do, or store_migrate will refuse anyway. */
    if (applied == 0 || pending == 0 || unknown || changed) {
        free(list);
        return 0;
    }
    char tag[BACKUP_TAG_MAX + 1];
    int len = snprintf(tag, sizeof tag, "pre-migrate-%s-%s", list[last_applied].name, list[n - 1].name);
    if (len < 0 || (size_t)len >= sizeof tag || !backup_tag_valid(tag))
        snprintf(tag, sizeof tag, "pre-migrate-%.4s-%.4s", list[last_applied].name, list[n - 1].name);
    char dir[4096], path[4200], why[2048];
    backup_default_dir(cfg, dir, sizeof dir);
    backup_keys *keys;
    backup_crypt *crypt;
    int local;
    int rc = backup_crypt_from_config(cfg, &crypt, &local, why, sizeof why);
    if (rc == 0) {
        rc = backup_keys_load(cfg->state_dir, 1, &keys, why, sizeof why);
        if (rc == 0) {
            rc = backup_write(s, keys, local ? crypt : NULL, dir, tag, path, sizeof path, NULL, why, sizeof why);
            backup_keys_free(keys);
        }
        backup_crypt_free(crypt);
    }
    if (rc != 0)
        snprintf(err, errlen,
                 "cannot take the backup before migrating from %s to %s, so nothing was migrated: %s (free space "
                 "or fix MUSICGRAPH_BACKUP_DIR, then start again)",
                 list[last_applied].name, list[n - 1].name, why);
    else
        log_info("backed up the data before migrating from %s to %s: %s", list[last_applied].name, list[n - 1].name,
                 path);
    free(list);
    return rc;
}
