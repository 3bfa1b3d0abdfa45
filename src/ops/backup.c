/*
 * backup.c — backup files: write, read and check, restore, verify, list
 * (see backup.h for the format).
 *
 * Writing: store_dump (one read transaction) -> payload JSON -> SHA-256 ->
 * manifest -> deflate into a temporary file in the destination directory ->
 * fsync -> rename to the final name without replacing anything -> fsync the
 * directory. Any failure removes the temporary file, so a full disk leaves
 * the directory as it was.
 *
 * Reading checks from the outside in, so that each kind of damage gets its
 * own message: empty, not gzip, truncated or corrupt stream, no manifest,
 * manifest too large or from a newer format, checksum mismatch, payload
 * structure, row counts. The data rules (backup_check_rules) and the schema
 * (backup_check_schema) come next; nothing in a database is touched until
 * all of them pass.
 */
#include "ops/backup.h"

#include "core/fs.h"

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "domain/codec.h"
#include "domain/rules.h"
#include "domain/user.h"
#include "mg_version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MANIFEST_PREFIX "{\"manifest\":"
#define PAYLOAD_PREFIX  ",\n\"payload\":"
#define DOCUMENT_END    "}\n"
#define ANONYMIZED_HASH "!anonymized"

/* ---- small helpers ---- */

static void utc_format(time_t t, const char *fmt, char *out, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, fmt, &tm);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, data, len);
    sodium_bin2hex(out, 65, d, sizeof d);
}

void backup_default_dir(const config *cfg, char *out, size_t len)
{
    if (cfg->backup_dir && *cfg->backup_dir)
        snprintf(out, len, "%s", cfg->backup_dir);
    else
        snprintf(out, len, "%s/backups", cfg->state_dir);
}

int backup_tag_valid(const char *tag)
{
    size_t n = strlen(tag);
    if (n > BACKUP_TAG_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = tag[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* musicgraph-YYYYMMDDTHHMMSSZ[.N][-TAG].json.gz; *seq gets N (0 without). */
static int parse_name(const char *name, time_t *created, int *seq, char *tag, size_t taglen)
{
    static const char prefix[] = "musicgraph-", suffix[] = ".json.gz";
    size_t n = strlen(name), pl = sizeof prefix - 1, sl = sizeof suffix - 1;
    if (n < pl + 16 + sl || strncmp(name, prefix, pl) != 0 || strcmp(name + n - sl, suffix) != 0)
        return -1;
    const char *t = name + pl;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    for (int i = 0; i < 16; i++) {
        int want_digit = i != 8 && i != 15;
        if (want_digit ? (t[i] < '0' || t[i] > '9') : t[i] != (i == 8 ? 'T' : 'Z'))
            return -1;
    }
    tm.tm_year = digits(t, 4) - 1900;
    tm.tm_mon = digits(t + 4, 2) - 1;
    tm.tm_mday = digits(t + 6, 2);
    tm.tm_hour = digits(t + 9, 2);
    tm.tm_min = digits(t + 11, 2);
    tm.tm_sec = digits(t + 13, 2);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return -1;
    const char *p = t + 16, *end = name + n - sl;
    int s = 0;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '1' || *p > '9')
            return -1;
        while (p < end && *p >= '0' && *p <= '9')
            s = s * 10 + (*p++ - '0');
    }
    size_t tl = 0;
    if (p < end) {
        if (*p != '-')
            return -1;
        p++;
        tl = (size_t)(end - p);
        if (tl == 0 || tl > BACKUP_TAG_MAX)
            return -1;
    }
    char tagbuf[BACKUP_TAG_MAX + 1];
    memcpy(tagbuf, p, tl);
    tagbuf[tl] = '\0';
    if (!backup_tag_valid(tagbuf))
        return -1;
    if (created)
        *created = timegm(&tm);
    if (seq)
        *seq = s;
    if (tag)
        snprintf(tag, taglen, "%s", tagbuf);
    return 0;
}

int backup_parse_name(const char *name, time_t *created, char *tag, size_t taglen)
{
    return parse_name(name, created, NULL, tag, taglen);
}

/* "genre x: field: message" lines after a headline, at most ten. */
static void format_errors(const char *headline, const domain_errors *e, char *err, size_t errlen)
{
    buf msg = BUF_INIT;
    size_t shown = e->count < 10 ? e->count : 10;
    buf_printf(&msg, "%s breaks %zu rule%s:", headline, e->count, e->count == 1 ? "" : "s");
    for (size_t i = 0; i < shown; i++)
        buf_printf(&msg, "\n  %s: %s%s%s", e->items[i].entry, e->items[i].field, e->items[i].field[0] ? ": " : "",
                   e->items[i].message);
    if (shown < e->count)
        buf_printf(&msg, "\n  … and %zu more", e->count - shown);
    snprintf(err, errlen, "%s", buf_cstr(&msg));
    buf_free(&msg);
}

/* ---- serialization ---- */

static store_counts payload_counts(const store_dump_t *d)
{
    store_counts c;
    memset(&c, 0, sizeof c);
    c.genres = (int64_t)d->map.ngenres;
    c.bands = (int64_t)d->map.nbands;
    for (size_t i = 0; i < d->map.ngenres; i++) {
        c.genre_parents += (int64_t)d->map.genres[i].nparents;
        c.genre_links += (int64_t)d->map.genres[i].nlinks;
    }
    for (size_t i = 0; i < d->map.nbands; i++)
        c.band_genres += (int64_t)d->map.bands[i].ngenres;
    c.users = (int64_t)d->nusers;
    c.audit_log = (int64_t)d->naudit;
    return c;
}

static void write_user(json_writer *w, const store_user *u)
{
    jw_object_begin(w);
    jw_key(w, "id");
    jw_int(w, u->id);
    jw_key(w, "username");
    jw_string(w, u->username);
    jw_key(w, "email");
    jw_string(w, u->email);
    jw_key(w, "password_hash");
    jw_string(w, u->password_hash);
    jw_key(w, "is_admin");
    jw_bool(w, u->is_admin);
    jw_key(w, "disabled");
    jw_bool(w, u->disabled);
    jw_key(w, "created_at");
    jw_string(w, u->created_at);
    jw_key(w, "last_login_at");
    jw_string_or_null(w, u->last_login_at[0] ? u->last_login_at : NULL);
    jw_object_end(w);
}

static void write_audit(json_writer *w, const store_audit *a)
{
    jw_object_begin(w);
    jw_key(w, "id");
    jw_int(w, a->id);
    jw_key(w, "at");
    jw_string(w, a->at);
    jw_key(w, "actor");
    jw_string_or_null(w, a->actor);
    jw_key(w, "action");
    jw_string(w, a->action);
    jw_key(w, "entity_type");
    jw_string(w, a->entity_type);
    jw_key(w, "entity_id");
    jw_string_or_null(w, a->entity_id);
    jw_key(w, "before_json");
    jw_string_or_null(w, a->before_json);
    jw_key(w, "after_json");
    jw_string_or_null(w, a->after_json);
    jw_object_end(w);
}

static void write_payload(const store_dump_t *d, buf *out)
{
    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "dataset");
    codec_dataset_json(&w, &d->map);
    if (d->has_users) {
        jw_key(&w, "users");
        jw_array_begin(&w);
        for (size_t i = 0; i < d->nusers; i++)
            write_user(&w, &d->users[i]);
        jw_array_end(&w);
    }
    if (d->has_audit) {
        jw_key(&w, "audit_log");
        jw_array_begin(&w);
        for (size_t i = 0; i < d->naudit; i++)
            write_audit(&w, &d->audit[i]);
        jw_array_end(&w);
    }
    jw_object_end(&w);
}

static void write_counts(json_writer *w, const store_counts *c)
{
    jw_object_begin(w);
    jw_key(w, "genres");
    jw_int(w, c->genres);
    jw_key(w, "genre_parents");
    jw_int(w, c->genre_parents);
    jw_key(w, "genre_links");
    jw_int(w, c->genre_links);
    jw_key(w, "bands");
    jw_int(w, c->bands);
    jw_key(w, "band_genres");
    jw_int(w, c->band_genres);
    jw_key(w, "users");
    jw_int(w, c->users);
    jw_key(w, "audit_log");
    jw_int(w, c->audit_log);
    jw_object_end(w);
}

static void write_manifest(const backup_manifest *m, buf *out)
{
    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "format");
    jw_string(&w, BACKUP_FORMAT);
    jw_key(&w, "format_version");
    jw_int(&w, m->format_version);
    jw_key(&w, "kind");
    jw_string(&w, m->kind);
    jw_key(&w, "program");
    jw_string(&w, "musicgraph");
    jw_key(&w, "program_version");
    jw_string(&w, m->program_version);
    jw_key(&w, "schema_version");
    jw_string(&w, m->schema_version);
    jw_key(&w, "backend");
    jw_string(&w, m->backend);
    jw_key(&w, "created_at");
    jw_string(&w, m->created_at);
    jw_key(&w, "tag");
    jw_string(&w, m->tag);
    jw_key(&w, "data_version");
    jw_int(&w, m->data_version);
    jw_key(&w, "anonymized");
    jw_bool(&w, m->anonymized);
    jw_key(&w, "counts");
    write_counts(&w, &m->counts);
    jw_key(&w, "payload_sha256");
    jw_string(&w, m->payload_sha256);
    jw_object_end(&w);
}

void backup_manifest_json(const backup_manifest *m, buf *out) { write_manifest(m, out); }

/* ---- anonymizing ---- */

typedef struct secrets {
    char **items;
    size_t count;
} secrets;

static void secrets_free(secrets *s)
{
    for (size_t i = 0; i < s->count; i++) {
        sodium_memzero(s->items[i], strlen(s->items[i]));
        free(s->items[i]);
    }
    free(s->items);
}

/* Replaces "email" values and drops "password_hash" members anywhere in v. */
static void scrub_json(json_t *v, const store_dump_t *d, const secrets *originals)
{
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            scrub_json(json_array_get(v, i), d, originals);
        return;
    }
    if (!json_is_object(v))
        return;
    json_object_del(v, "password_hash");
    json_t *email = json_object_get(v, "email");
    if (email && json_is_string(email)) {
        const char *replacement = "redacted@example.invalid";
        /* originals holds each user's email then hash, in user order. */
        for (size_t i = 0; i < d->nusers && 2 * i < originals->count; i++)
            if (strcasecmp(originals->items[2 * i], json_string_value(email)) == 0)
                replacement = d->users[i].email;
        json_object_set_new(v, "email", json_string(replacement));
    }
    const char *key;
    json_t *member;
    json_object_foreach(v, key, member)
    {
        (void)key;
        scrub_json(member, d, originals);
    }
}

static char *scrub_text(const char *text, const store_dump_t *d, const secrets *originals)
{
    if (!text)
        return NULL;
    json_t *v = json_loads(text, 0, NULL);
    if (!v)
        return NULL; /* unreadable: dropping it cannot leak anything */
    scrub_json(v, d, originals);
    char *out = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    return out;
}

/* Emails become user-ID@example.invalid, hashes a value no password
 * matches; audit actors go, and emails inside audit documents are replaced.
 * originals receives the real values for the leak check. */
static void anonymize(store_dump_t *d, secrets *originals)
{
    for (size_t i = 0; i < d->nusers; i++) {
        store_user *u = &d->users[i];
        /* Always two entries per user, so scrub_json can index them. */
        char **grown = realloc(originals->items, (originals->count + 2) * sizeof *grown);
        if (grown) {
            originals->items = grown;
            originals->items[originals->count++] = strdup(u->email);
            originals->items[originals->count++] = strdup(u->password_hash);
            if (!originals->items[originals->count - 1] || !originals->items[originals->count - 2])
                originals->count -= 2;
        }
        snprintf(u->email, sizeof u->email, "user-%lld@example.invalid", (long long)u->id);
        snprintf(u->password_hash, sizeof u->password_hash, "%s", ANONYMIZED_HASH);
        u->last_login_at[0] = '\0';
    }
    for (size_t i = 0; i < d->naudit; i++) {
        store_audit *a = &d->audit[i];
        free(a->actor);
        a->actor = NULL;
        char *before = scrub_text(a->before_json, d, originals);
        char *after = scrub_text(a->after_json, d, originals);
        free(a->before_json);
        free(a->after_json);
        a->before_json = before;
        a->after_json = after;
    }
}

/* ---- writing files ---- */

typedef struct piece {
    const char *data;
    size_t len;
} piece;

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_pieces(int fd, const piece *pieces, size_t n, int gzip)
{
    if (!gzip) {
        for (size_t i = 0; i < n; i++)
            if (write_all(fd, pieces[i].data, pieces[i].len) != 0)
                return -1;
        return 0;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    /* Level 6 (zlib's default): within a few percent of 9, several times faster. */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        errno = ENOMEM;
        return -1;
    }
    size_t outlen = 1 << 17;
    unsigned char *out = malloc(outlen);
    if (!out) {
        deflateEnd(&z);
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        z.next_in = (unsigned char *)pieces[i].data;
        z.avail_in = (uInt)pieces[i].len;
        int flush = i + 1 == n ? Z_FINISH : Z_NO_FLUSH;
        int zr;
        do {
            z.next_out = out;
            z.avail_out = (uInt)outlen;
            zr = deflate(&z, flush);
            if (zr == Z_STREAM_ERROR) {
                errno = EIO;
                rc = -1;
                break;
            }
            if (write_all(fd, out, outlen - z.avail_out) != 0) {
                rc = -1;
                break;
            }
        } while (z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
    }
    int saved = errno;
    deflateEnd(&z);
    free(out);
    errno = saved;
    return rc;
}

/* Writes the pieces to a new temporary file in dir, fsynced and closed.
 * tmp receives its path. Nothing is left behind on failure. */
static int write_temp(const char *dir, const piece *pieces, size_t n, int gzip, char *tmp, size_t tmplen, char *err,
                      size_t errlen)
{
    if (snprintf(tmp, tmplen, "%s/.musicgraph-tmp-XXXXXX", dir) >= (int)tmplen) {
        snprintf(err, errlen, "the directory name is too long: %.200s", dir);
        return -1;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a file in %.300s: %s", dir, strerror(errno));
        return -1;
    }
    fchmod(fd, 0640);
    int rc = write_pieces(fd, pieces, n, gzip);
    if (rc == 0 && fsync(fd) != 0)
        rc = -1;
    int saved = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        unlink(tmp);
        snprintf(err, errlen, "cannot write in %.300s: %s; nothing was written (older backups are untouched)", dir,
                 strerror(saved));
        return -1;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Renames tmp to dir/name. Without replace an existing name is kept and 1
 * is returned (the temporary file stays for the next try). */
static int publish(const char *tmp, const char *dir, const char *name, int replace, char *path, size_t pathlen,
                   char *err, size_t errlen)
{
    char final[4096];
    if (snprintf(final, sizeof final, "%s/%s", dir, name) >= (int)sizeof final) {
        snprintf(err, errlen, "the backup path is too long: %.200s", dir);
        return -1;
    }
    int rc;
    if (replace) {
        rc = rename(tmp, final);
    } else {
        rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE);
        if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* A file system without RENAME_NOREPLACE: link refuses existing names too. */
            rc = link(tmp, final);
            if (rc == 0)
                unlink(tmp);
        }
        if (rc != 0 && errno == EEXIST)
            return 1;
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot rename the new file to %.300s: %s", final, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (fsync_dir(dir) != 0) {
        snprintf(err, errlen, "cannot sync the directory %.300s: %s", dir, strerror(errno));
        return -1;
    }
    if (path)
        snprintf(path, pathlen, "%s", final);
    return 0;
}

/* Builds manifest and payload for d. */
static int build_document(const store_dump_t *d, const char *kind, const char *tag, int anonymized, const char *backend,
                          time_t now, backup_manifest *m, buf *manifest, buf *payload, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->format_version = BACKUP_FORMAT_VERSION;
    snprintf(m->kind, sizeof m->kind, "%s", kind);
    snprintf(m->schema_version, sizeof m->schema_version, "%s", d->schema_version);
    snprintf(m->program_version, sizeof m->program_version, "%s", MG_VERSION);
    utc_format(now, "%Y-%m-%dT%H:%M:%SZ", m->created_at, sizeof m->created_at);
    snprintf(m->tag, sizeof m->tag, "%s", tag ? tag : "");
    snprintf(m->backend, sizeof m->backend, "%s", backend);
    m->data_version = d->data_version;
    m->anonymized = anonymized;
    m->counts = payload_counts(d);
    const store_counts *db = &d->counts;
    if (db->genres != m->counts.genres || db->genre_parents != m->counts.genre_parents ||
        db->genre_links != m->counts.genre_links || db->bands != m->counts.bands ||
        db->band_genres != m->counts.band_genres)
        log_warn("the database holds rows the map does not reach (e.g. %lld band_genres rows, %lld in the map); "
                 "the backup holds the map",
                 (long long)db->band_genres, (long long)m->counts.band_genres);
    write_payload(d, payload);
    if (buf_failed(payload)) {
        snprintf(err, errlen, "out of memory while writing the backup");
        return -1;
    }
    sha256_hex(payload->data, payload->len, m->payload_sha256);
    write_manifest(m, manifest);
    if (buf_failed(manifest)) {
        snprintf(err, errlen, "out of memory while writing the backup");
        return -1;
    }
    return 0;
}

static void document_pieces(buf *manifest, buf *payload, piece p[5])
{
    p[0] = (piece){MANIFEST_PREFIX, strlen(MANIFEST_PREFIX)};
    p[1] = (piece){manifest->data, manifest->len};
    p[2] = (piece){PAYLOAD_PREFIX, strlen(PAYLOAD_PREFIX)};
    p[3] = (piece){payload->data, payload->len};
    p[4] = (piece){DOCUMENT_END, strlen(DOCUMENT_END)};
}

/* Writes d as a new backup file in dir (see backup_write). */
static int write_dump(const store_dump_t *d, const char *backend, const char *dir, const char *tag, char *path,
                      size_t pathlen, backup_manifest *mout, char *err, size_t errlen)
{
    if (tag && !backup_tag_valid(tag)) {
        snprintf(err, errlen, "the tag '%.80s' may hold only letters, digits, '.', '_' and '-' (at most %d)", tag,
                 BACKUP_TAG_MAX);
        return -1;
    }
    if (fs_make_dirs(dir, err, errlen) != 0)
        return -1;
    time_t now = time(NULL);
    backup_manifest m;
    buf manifest = BUF_INIT, payload = BUF_INIT;
    int rc = build_document(d, "backup", tag, 0, backend, now, &m, &manifest, &payload, err, errlen);
    char tmp[4200];
    piece p[5];
    document_pieces(&manifest, &payload, p);
    if (rc == 0)
        rc = write_temp(dir, p, 5, 1, tmp, sizeof tmp, err, errlen);
    buf_free(&manifest);
    buf_free(&payload);
    if (rc != 0)
        return -1;
    char stamp[32];
    utc_format(now, "%Y%m%dT%H%M%SZ", stamp, sizeof stamp);
    for (int seq = 0; seq < 100; seq++) {
        char name[256], suffix[16] = "";
        if (seq)
            snprintf(suffix, sizeof suffix, ".%d", seq);
        snprintf(name, sizeof name, "musicgraph-%s%s%s%s.json.gz", stamp, suffix, tag && *tag ? "-" : "",
                 tag ? tag : "");
        int r = publish(tmp, dir, name, 0, path, pathlen, err, errlen);
        if (r == 0) {
            if (mout)
                *mout = m;
            return 0;
        }
        if (r < 0)
            return -1;
    }
    unlink(tmp);
    snprintf(err, errlen, "too many backups named musicgraph-%s… in %s", stamp, dir);
    return -1;
}

int backup_write(store *s, const char *dir, const char *tag, char *path, size_t pathlen, backup_manifest *mout,
                 char *err, size_t errlen)
{
    store_dump_t d;
    if (store_dump(s, &d, err, errlen) != 0)
        return -1;
    int rc = write_dump(&d, store_backend(s), dir, tag, path, pathlen, mout, err, errlen);
    store_dump_free(&d);
    return rc;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int backup_export(store *s, const char *file, int anonymized, backup_manifest *mout, char *err, size_t errlen)
{
    store_dump_t d;
    if (store_dump(s, &d, err, errlen) != 0)
        return -1;
    secrets originals = {0};
    if (anonymized)
        anonymize(&d, &originals);
    backup_manifest m;
    buf manifest = BUF_INIT, payload = BUF_INIT;
    int rc = build_document(&d, "export", "", anonymized, store_backend(s), time(NULL), &m, &manifest, &payload, err,
                            errlen);
    store_dump_free(&d);
    /* Belt and braces: no original email or hash may remain anywhere, not
     * even in a genre's description. */
    for (size_t i = 0; rc == 0 && i < originals.count; i++)
        if (memmem(payload.data, payload.len, originals.items[i], strlen(originals.items[i]))) {
            snprintf(err, errlen,
                     "the anonymized export would still contain a user's email address or password hash (in the "
                     "map's text?): nothing was written");
            rc = -1;
        }
    secrets_free(&originals);
    piece p[5];
    document_pieces(&manifest, &payload, p);
    if (rc == 0 && (!file || strcmp(file, "-") == 0)) {
        for (size_t i = 0; rc == 0 && i < 5; i++)
            if (fwrite(p[i].data, 1, p[i].len, stdout) != p[i].len)
                rc = -1;
        if (fflush(stdout) != 0)
            rc = -1;
        if (rc != 0)
            snprintf(err, errlen, "cannot write to standard output: %s", strerror(errno));
    } else if (rc == 0) {
        char dir[4096], tmp[4200];
        const char *slash = strrchr(file, '/');
        if (slash)
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - file) ? (int)(slash - file) : 1, file);
        else
            snprintf(dir, sizeof dir, ".");
        const char *name = slash ? slash + 1 : file;
        if (!*name) {
            snprintf(err, errlen, "'%s' names a directory, not a file", file);
            rc = -1;
        } else if (write_temp(dir, p, 5, ends_with(file, ".gz"), tmp, sizeof tmp, err, errlen) != 0 ||
                   publish(tmp, dir, name, 1, NULL, 0, err, errlen) != 0) {
            rc = -1;
        }
    }
    buf_free(&manifest);
    buf_free(&payload);
    if (rc == 0 && mout)
        *mout = m;
    return rc;
}

/* ---- reading ---- */

void backup_contents_free(backup_contents *c)
{
    store_dump_free(&c->dump);
    memset(c, 0, sizeof *c);
}

static int read_prefix(const char *path, size_t max, unsigned char **data, size_t *len, size_t *file_size, char *err,
                       size_t errlen)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        close(fd);
        return -1;
    }
    *file_size = (size_t)st.st_size;
    if ((size_t)st.st_size > BACKUP_MAX_BYTES && max > BACKUP_MAX_BYTES) {
        snprintf(err, errlen, "%s is larger than %u MiB: not a musicgraph backup", path, BACKUP_MAX_BYTES >> 20);
        close(fd);
        return -1;
    }
    size_t want = (size_t)st.st_size < max ? (size_t)st.st_size : max;
    unsigned char *b = malloc(want + 1);
    if (!b) {
        snprintf(err, errlen, "out of memory reading %s", path);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, b + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            free(b);
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    b[got] = '\0';
    *data = b;
    *len = got;
    return 0;
}

/* Inflates a gzip stream. With partial, stops quietly once max bytes are out
 * or the input ends (manifest peeking); otherwise the whole stream must be
 * there, intact, and followed by nothing. */
static int gunzip(const char *path, const unsigned char *in, size_t inlen, size_t max, int partial, char **out,
                  size_t *outlen, char *err, size_t errlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t cap = inlen * 6 + 4096;
    if (cap > max + 1)
        cap = max + 1;
    char *o = malloc(cap + 1);
    if (!o) {
        inflateEnd(&z);
        snprintf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    z.next_in = (unsigned char *)in;
    int rc = Z_OK;
    size_t done = 0;
    size_t remaining = inlen;
    while (rc != Z_STREAM_END) {
        if (done == cap) {
            if (cap > max) {
                if (partial)
                    break;
                free(o);
                inflateEnd(&z);
                snprintf(err, errlen, "%s decompresses to more than %u MiB: refusing it", path, BACKUP_MAX_BYTES >> 20);
                return -1;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *g = realloc(o, ncap + 1);
            if (!g) {
                free(o);
                inflateEnd(&z);
                snprintf(err, errlen, "out of memory reading %s", path);
                return -1;
            }
            o = g;
            cap = ncap;
        }
        uInt chunk_in = remaining > (1u << 30) ? (1u << 30) : (uInt)remaining;
        z.avail_in = chunk_in;
        z.next_out = (unsigned char *)o + done;
        z.avail_out = (uInt)(cap - done > (1u << 30) ? (1u << 30) : cap - done);
        uInt before_out = z.avail_out;
        rc = inflate(&z, Z_NO_FLUSH);
        remaining -= chunk_in - z.avail_in;
        done += before_out - z.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_BUF_ERROR && remaining == 0) {
            if (partial)
                break;
            free(o);
            inflateEnd(&z);
            snprintf(err, errlen, "%s is truncated: the compressed data ends early (an interrupted copy?)", path);
            return -1;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            const char *why = z.msg ? z.msg : rc == Z_MEM_ERROR ? "out of memory" : "invalid data";
            free(o);
            inflateEnd(&z);
            snprintf(err, errlen, "%s is corrupt: the compressed data is damaged (%s)", path, why);
            return -1;
        }
        if (remaining == 0 && z.avail_out != 0 && rc == Z_OK) {
            /* All input consumed and inflate wants more: truncated. */
            if (partial)
                break;
            free(o);
            inflateEnd(&z);
            snprintf(err, errlen, "%s is truncated: the compressed data ends early (an interrupted copy?)", path);
            return -1;
        }
    }
    inflateEnd(&z);
    if (rc == Z_STREAM_END && remaining > 0 && !partial) {
        free(o);
        snprintf(err, errlen, "%s is corrupt: unexpected data after the end of the compressed stream", path);
        return -1;
    }
    o[done] = '\0';
    *out = o;
    *outlen = done;
    return 0;
}

static int is_gzip(const unsigned char *data, size_t len) { return len >= 2 && data[0] == 0x1f && data[1] == 0x8b; }

/* Copies a string member (required unless optional) into out. */
static int manifest_string(const json_t *obj, const char *key, char *out, size_t len, int optional, char *err,
                           size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v && optional) {
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) >= len || strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errlen, "its manifest is invalid: \"%s\" must be a string of at most %zu characters", key,
                 len - 1);
        return -1;
    }
    snprintf(out, len, "%s", json_string_value(v));
    return 0;
}

static int manifest_count(const json_t *counts, const char *key, int64_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(counts, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(err, errlen, "its manifest is invalid: counts.%s must be a number of rows", key);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

static int manifest_from_json(const json_t *j, backup_manifest *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (!json_is_object(j)) {
        snprintf(err, errlen, "its manifest is not a JSON object");
        return -1;
    }
    json_t *format = json_object_get(j, "format");
    if (!json_is_string(format) || strcmp(json_string_value(format), BACKUP_FORMAT) != 0) {
        snprintf(err, errlen, "it is not a musicgraph backup (its manifest's format is %s%.60s%s, not \"%s\")",
                 json_is_string(format) ? "\"" : "", json_is_string(format) ? json_string_value(format) : "missing",
                 json_is_string(format) ? "\"" : "", BACKUP_FORMAT);
        return -1;
    }
    json_t *version = json_object_get(j, "format_version");
    if (!json_is_integer(version) || json_integer_value(version) < 1) {
        snprintf(err, errlen, "its manifest is invalid: format_version must be a positive whole number");
        return -1;
    }
    if (json_integer_value(version) > BACKUP_FORMAT_VERSION) {
        snprintf(err, errlen,
                 "it was written by a newer musicgraph (backup format %lld; this version %s reads format %d): "
                 "restore it with that version or a later one",
                 (long long)json_integer_value(version), MG_VERSION, BACKUP_FORMAT_VERSION);
        return -1;
    }
    m->format_version = (int)json_integer_value(version);
    json_t *counts = json_object_get(j, "counts");
    json_t *dv = json_object_get(j, "data_version");
    json_t *anon = json_object_get(j, "anonymized");
    if (manifest_string(j, "kind", m->kind, sizeof m->kind, 1, err, errlen) != 0 ||
        manifest_string(j, "schema_version", m->schema_version, sizeof m->schema_version, 0, err, errlen) != 0 ||
        manifest_string(j, "program_version", m->program_version, sizeof m->program_version, 0, err, errlen) != 0 ||
        manifest_string(j, "created_at", m->created_at, sizeof m->created_at, 0, err, errlen) != 0 ||
        manifest_string(j, "tag", m->tag, sizeof m->tag, 1, err, errlen) != 0 ||
        manifest_string(j, "backend", m->backend, sizeof m->backend, 1, err, errlen) != 0 ||
        manifest_string(j, "payload_sha256", m->payload_sha256, sizeof m->payload_sha256, 0, err, errlen) != 0)
        return -1;
    if (strlen(m->payload_sha256) != 64 || strspn(m->payload_sha256, "0123456789abcdef") != 64) {
        snprintf(err, errlen, "its manifest is invalid: payload_sha256 must be 64 lowercase hex digits");
        return -1;
    }
    if (!backup_tag_valid(m->tag)) {
        snprintf(err, errlen, "its manifest is invalid: the tag holds characters a tag may not");
        return -1;
    }
    if (!json_is_object(counts) || manifest_count(counts, "genres", &m->counts.genres, err, errlen) != 0 ||
        manifest_count(counts, "genre_parents", &m->counts.genre_parents, err, errlen) != 0 ||
        manifest_count(counts, "genre_links", &m->counts.genre_links, err, errlen) != 0 ||
        manifest_count(counts, "bands", &m->counts.bands, err, errlen) != 0 ||
        manifest_count(counts, "band_genres", &m->counts.band_genres, err, errlen) != 0 ||
        manifest_count(counts, "users", &m->counts.users, err, errlen) != 0 ||
        manifest_count(counts, "audit_log", &m->counts.audit_log, err, errlen) != 0) {
        if (!json_is_object(counts))
            snprintf(err, errlen, "its manifest is invalid: counts must be an object of row counts per table");
        return -1;
    }
    m->data_version = json_is_integer(dv) ? json_integer_value(dv) : 0;
    m->anonymized = json_is_true(anon);
    return 0;
}

/* Parses the manifest at the start of text. Returns 0 and sets *end to the
 * byte after it; 1 when text does not start like a backup; -1 on error. */
static int parse_manifest(const char *text, size_t len, backup_manifest *m, size_t *end, char *err, size_t errlen)
{
    size_t pl = strlen(MANIFEST_PREFIX);
    if (len < pl || memcmp(text, MANIFEST_PREFIX, pl) != 0)
        return 1;
    size_t window = len - pl < BACKUP_MANIFEST_MAX ? len - pl : BACKUP_MANIFEST_MAX;
    json_error_t je;
    json_t *j = json_loadb(text + pl, window, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        if (window == BACKUP_MANIFEST_MAX && (size_t)je.position + 2 >= window)
            snprintf(err, errlen, "its manifest is larger than %u KiB: it is not a musicgraph backup",
                     BACKUP_MANIFEST_MAX / 1024);
        else
            snprintf(err, errlen, "its manifest is not valid JSON (%s)", je.text);
        return -1;
    }
    int rc = manifest_from_json(j, m, err, errlen);
    json_decref(j);
    *end = pl + (size_t)je.position;
    return rc;
}

int backup_read_manifest(const char *path, backup_manifest *m, char *err, size_t errlen)
{
    unsigned char *raw;
    size_t rawlen, size;
    if (read_prefix(path, 256 * 1024, &raw, &rawlen, &size, err, errlen) != 0)
        return -1;
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    char why[512];
    if (is_gzip(raw, rawlen)) {
        rc = gunzip(path, raw, rawlen, BACKUP_MANIFEST_MAX + 64, 1, &text, &len, err, errlen);
    } else {
        text = (char *)raw;
        len = rawlen;
        raw = NULL;
    }
    free(raw);
    if (rc != 0)
        return -1;
    size_t end;
    rc = parse_manifest(text, len, m, &end, why, sizeof why);
    free(text);
    if (rc == 1)
        snprintf(err, errlen, "%s has no musicgraph manifest", path);
    else if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, why);
    return rc == 0 ? 0 : -1;
}

/* Structure of one payload member: a string of at most max-1 bytes (NULL
 * json when nullable), without NUL characters. */
static int take_string(const json_t *obj, const char *key, char *fixed, size_t max, char **dup, int nullable,
                       const char *entry, domain_errors *errs)
{
    json_t *v = json_object_get(obj, key);
    if ((!v || json_is_null(v)) && nullable) {
        if (fixed)
            fixed[0] = '\0';
        if (dup)
            *dup = NULL;
        return 0;
    }
    if (!json_is_string(v)) {
        domain_errors_add(errs, entry, key, "must be a string%s", nullable ? " or null" : "");
        return -1;
    }
    size_t n = json_string_length(v);
    if (strlen(json_string_value(v)) != n) {
        domain_errors_add(errs, entry, key, "must not contain NUL characters");
        return -1;
    }
    if (fixed) {
        if (n >= max) {
            domain_errors_add(errs, entry, key, "is longer than %zu bytes", max - 1);
            return -1;
        }
        memcpy(fixed, json_string_value(v), n + 1);
    } else {
        *dup = strdup(json_string_value(v));
    }
    return 0;
}

static int take_id(const json_t *obj, int64_t *out, const char *entry, domain_errors *errs)
{
    json_t *v = json_object_get(obj, "id");
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        domain_errors_add(errs, entry, "id", "must be a positive whole number");
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

static int known_keys(const json_t *obj, const char *const *keys, const char *entry, domain_errors *errs)
{
    const char *key;
    json_t *v;
    int bad = 0;
    json_object_foreach((json_t *)obj, key, v)
    {
        (void)v;
        int ok = 0;
        for (size_t i = 0; keys[i]; i++)
            ok |= strcmp(key, keys[i]) == 0;
        if (!ok) {
            domain_errors_add(errs, entry, key, "is not a known field");
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

static void parse_user(const json_t *obj, store_user *u, const char *entry, domain_errors *errs)
{
    static const char *const keys[] = {"id",         "username",      "email", "password_hash", "is_admin", "disabled",
                                       "created_at", "last_login_at", NULL};
    memset(u, 0, sizeof *u);
    if (!json_is_object(obj)) {
        domain_errors_add(errs, entry, "", "must be a JSON object");
        return;
    }
    known_keys(obj, keys, entry, errs);
    take_id(obj, &u->id, entry, errs);
    take_string(obj, "username", u->username, sizeof u->username, NULL, 0, entry, errs);
    take_string(obj, "email", u->email, sizeof u->email, NULL, 0, entry, errs);
    take_string(obj, "password_hash", u->password_hash, sizeof u->password_hash, NULL, 0, entry, errs);
    take_string(obj, "created_at", u->created_at, sizeof u->created_at, NULL, 0, entry, errs);
    take_string(obj, "last_login_at", u->last_login_at, sizeof u->last_login_at, NULL, 1, entry, errs);
    json_t *admin = json_object_get(obj, "is_admin"), *disabled = json_object_get(obj, "disabled");
    if (!json_is_boolean(admin))
        domain_errors_add(errs, entry, "is_admin", "must be true or false");
    if (!json_is_boolean(disabled))
        domain_errors_add(errs, entry, "disabled", "must be true or false");
    u->is_admin = json_is_true(admin);
    u->disabled = json_is_true(disabled);
}

static void parse_audit(const json_t *obj, store_audit *a, const char *entry, domain_errors *errs)
{
    static const char *const keys[] = {"id",        "at",          "actor",      "action", "entity_type",
                                       "entity_id", "before_json", "after_json", NULL};
    memset(a, 0, sizeof *a);
    if (!json_is_object(obj)) {
        domain_errors_add(errs, entry, "", "must be a JSON object");
        return;
    }
    known_keys(obj, keys, entry, errs);
    take_id(obj, &a->id, entry, errs);
    take_string(obj, "at", a->at, sizeof a->at, NULL, 0, entry, errs);
    take_string(obj, "actor", NULL, 0, &a->actor, 1, entry, errs);
    take_string(obj, "action", a->action, sizeof a->action, NULL, 0, entry, errs);
    take_string(obj, "entity_type", a->entity_type, sizeof a->entity_type, NULL, 0, entry, errs);
    take_string(obj, "entity_id", NULL, 0, &a->entity_id, 0, entry, errs);
    take_string(obj, "before_json", NULL, 0, &a->before_json, 1, entry, errs);
    take_string(obj, "after_json", NULL, 0, &a->after_json, 1, entry, errs);
}

static void label(char *out, size_t len, const char *kind, size_t i, const json_t *obj, const char *idkey)
{
    json_t *id = json_is_object(obj) ? json_object_get(obj, idkey) : NULL;
    if (json_is_string(id))
        snprintf(out, len, "%s %.60s", kind, json_string_value(id));
    else if (json_is_integer(id))
        snprintf(out, len, "%s %lld", kind, (long long)json_integer_value(id));
    else
        snprintf(out, len, "%s #%zu", kind, i + 1);
}

static void parse_dataset(const json_t *ds, dataset *map, domain_errors *errs)
{
    if (!json_is_object(ds))
        domain_errors_add(errs, "payload", "dataset", "must be a JSON object");
    else
        codec_dataset_from_json(ds, map, errs);
}

static int parse_payload(const char *text, size_t len, store_dump_t *d, char *err, size_t errlen)
{
    static const char *const keys[] = {"dataset", "users", "audit_log", NULL};
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "its payload is not valid JSON (line %d, column %d: %s)", je.line, je.column, je.text);
        return -1;
    }
    domain_errors errs = {0};
    if (!json_is_object(root)) {
        domain_errors_add(&errs, "payload", "", "must be a JSON object");
    } else if (known_keys(root, keys, "payload", &errs) == 0) {
        parse_dataset(json_object_get(root, "dataset"), &d->map, &errs);
        json_t *users = json_object_get(root, "users"), *audit = json_object_get(root, "audit_log");
        char entry[96];
        if (users && !json_is_array(users))
            domain_errors_add(&errs, "payload", "users", "must be an array");
        if (audit && !json_is_array(audit))
            domain_errors_add(&errs, "payload", "audit_log", "must be an array");
        d->has_users = json_is_array(users);
        d->has_audit = json_is_array(audit);
        size_t nu = json_array_size(users), na = json_array_size(audit);
        d->users = calloc(nu ? nu : 1, sizeof *d->users);
        d->audit = calloc(na ? na : 1, sizeof *d->audit);
        if (!d->users || !d->audit) {
            domain_errors_add(&errs, "payload", "", "out of memory");
        } else {
            for (size_t i = 0; i < nu; i++) {
                json_t *item = json_array_get(users, i);
                label(entry, sizeof entry, "user", i, item, "username");
                parse_user(item, &d->users[i], entry, &errs);
                d->nusers = i + 1;
            }
            for (size_t i = 0; i < na; i++) {
                json_t *item = json_array_get(audit, i);
                label(entry, sizeof entry, "audit entry", i, item, "id");
                parse_audit(item, &d->audit[i], entry, &errs);
                d->naudit = i + 1;
            }
        }
    }
    json_decref(root);
    if (errs.count) {
        format_errors("its payload", &errs, err, errlen);
        domain_errors_free(&errs);
        return -1;
    }
    return 0;
}

static int counts_differ(const store_counts *a, const store_counts *b, char *what, size_t len)
{
    static const char *const names[] = {"genres",      "genre_parents", "genre_links", "bands",
                                        "band_genres", "users",         "audit_log"};
    const int64_t av[] = {a->genres,      a->genre_parents, a->genre_links, a->bands,
                          a->band_genres, a->users,         a->audit_log};
    const int64_t bv[] = {b->genres,      b->genre_parents, b->genre_links, b->bands,
                          b->band_genres, b->users,         b->audit_log};
    for (size_t i = 0; i < sizeof av / sizeof av[0]; i++)
        if (av[i] != bv[i]) {
            snprintf(what, len, "%s: %lld rows, the manifest says %lld", names[i], (long long)av[i], (long long)bv[i]);
            return 1;
        }
    return 0;
}

int backup_read(const char *path, int allow_bare, backup_contents *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    unsigned char *raw;
    size_t rawlen, size;
    if (read_prefix(path, (size_t)BACKUP_MAX_BYTES + 1, &raw, &rawlen, &size, err, errlen) != 0)
        return -1;
    if (rawlen == 0) {
        free(raw);
        snprintf(err, errlen, "%s is empty (0 bytes): it is not a backup (a backup that never finished writing?)",
                 path);
        return -1;
    }
    char *text;
    size_t len;
    if (is_gzip(raw, rawlen)) {
        int rc = gunzip(path, raw, rawlen, BACKUP_MAX_BYTES, 0, &text, &len, err, errlen);
        free(raw);
        if (rc != 0)
            return -1;
    } else if (raw[0] == '{') {
        text = (char *)raw;
        len = rawlen;
    } else {
        free(raw);
        snprintf(err, errlen, "%s is not a musicgraph backup: it is neither gzip-compressed nor a JSON document", path);
        return -1;
    }
    char why[4096];
    size_t end = 0;
    int rc = parse_manifest(text, len, &out->manifest, &end, why, sizeof why);
    if (rc == 1 && allow_bare) {
        /* A plain dataset document, like data/musicgraph.json. */
        domain_errors errs = {0};
        if (codec_parse_dataset(text, len, &out->dump.map, &errs) != 0) {
            format_errors(path, &errs, err, errlen);
            domain_errors_free(&errs);
            free(text);
            return -1;
        }
        free(text);
        return 0;
    }
    if (rc == 1) {
        snprintf(err, errlen, "%s is not a musicgraph backup: it does not start with a manifest", path);
        free(text);
        return -1;
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        free(text);
        return -1;
    }
    out->has_manifest = 1;
    size_t ppl = strlen(PAYLOAD_PREFIX), el = strlen(DOCUMENT_END);
    if (len < end + ppl + el || memcmp(text + end, PAYLOAD_PREFIX, ppl) != 0 ||
        memcmp(text + len - el, DOCUMENT_END, el) != 0) {
        snprintf(err, errlen,
                 "%s: the document's layout was changed (an edited or cut file?): its checksum cannot be checked",
                 path);
        free(text);
        return -1;
    }
    const char *payload = text + end + ppl;
    size_t plen = len - end - ppl - el;
    char sum[65];
    sha256_hex(payload, plen, sum);
    if (strcmp(sum, out->manifest.payload_sha256) != 0) {
        snprintf(err, errlen,
                 "%s: checksum mismatch: the payload's SHA-256 is %.12s…, the manifest says %.12s…: the file was "
                 "altered or damaged",
                 path, sum, out->manifest.payload_sha256);
        free(text);
        return -1;
    }
    rc = parse_payload(payload, plen, &out->dump, why, sizeof why);
    free(text);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        backup_contents_free(out);
        return -1;
    }
    snprintf(out->dump.schema_version, sizeof out->dump.schema_version, "%s", out->manifest.schema_version);
    out->dump.data_version = out->manifest.data_version;
    store_counts have = payload_counts(&out->dump);
    if (counts_differ(&have, &out->manifest.counts, why, sizeof why)) {
        snprintf(err, errlen, "%s: the payload does not match the manifest's row counts (%s)", path, why);
        backup_contents_free(out);
        return -1;
    }
    out->dump.counts = have;
    return 0;
}

/* ---- checks that need no file ---- */

static void add_prefixed(domain_errors *to, const domain_errors *from, const char *entry)
{
    for (size_t i = 0; i < from->count; i++)
        domain_errors_add(to, entry, from->items[i].field, "%s", from->items[i].message);
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
        for (size_t j = 0; j < i; j++) {
            if (d->users[j].id == u->id)
                domain_errors_add(&errs, entry, "id", "the id %lld is used by another user", (long long)u->id);
            if (strcmp(d->users[j].username, u->username) == 0)
                domain_errors_add(&errs, entry, "username", "is used by another user");
            if (strcasecmp(d->users[j].email, u->email) == 0)
                domain_errors_add(&errs, entry, "email", "is used by another user");
        }
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
    format_errors("the data", &errs, err, errlen);
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

static unsigned parts_of(const store_dump_t *d)
{
    return STORE_RESTORE_MAP | (d->has_users ? STORE_RESTORE_USERS : 0) | (d->has_audit ? STORE_RESTORE_AUDIT : 0);
}

typedef struct safety {
    const char *dir;
    const char *backend;
    char *path;
    size_t pathlen;
} safety;

/* Runs inside the restore's write transaction: the safety backup holds
 * exactly what is about to be replaced, and is on disk before it is. */
static int write_safety(const store_dump_t *current, void *ctx, char *err, size_t errlen)
{
    safety *sf = ctx;
    char why[2048];
    if (write_dump(current, sf->backend, sf->dir, "pre-restore", sf->path, sf->pathlen, NULL, why, sizeof why) == 0)
        return 0;
    snprintf(err, errlen,
             "cannot take the safety backup of the current data, so nothing was restored: %s "
             "(--no-safety-backup restores without it)",
             why);
    return -1;
}

int backup_restore(store *s, const backup_contents *c, const char *safety_dir, char *safety_path, size_t safety_len,
                   char *err, size_t errlen)
{
    if (safety_path && safety_len)
        safety_path[0] = '\0';
    if (c->has_manifest && backup_check_schema(s, &c->manifest, err, errlen) != 0)
        return -1;
    if (backup_check_rules(&c->dump, err, errlen) != 0)
        return -1;
    safety sf = {safety_dir, store_backend(s), safety_path, safety_len};
    return store_restore(s, &c->dump, parts_of(&c->dump), -1, safety_dir ? write_safety : NULL, &sf, NULL, err,
                         errlen) == 0
               ? 0
               : -1;
}

/* ---- verify ---- */

static void remove_scratch(const char *dir)
{
    static const char *const files[] = {"scratch.db", "scratch.db-wal", "scratch.db-shm", "scratch.db-journal"};
    char path[4200];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

int backup_verify(const char *path, backup_manifest *mout, char *err, size_t errlen)
{
    backup_contents c;
    if (backup_read(path, 0, &c, err, errlen) != 0)
        return -1;
    if (mout)
        *mout = c.manifest;
    const char *tmpdir = getenv("TMPDIR");
    char dir[4096], url[4200], why[4096];
    snprintf(dir, sizeof dir, "%s/musicgraph-verify-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir)) {
        snprintf(err, errlen, "cannot create a scratch directory in %s: %s", tmpdir && *tmpdir ? tmpdir : "/tmp",
                 strerror(errno));
        backup_contents_free(&c);
        return -1;
    }
    snprintf(url, sizeof url, "sqlite://%s/scratch.db", dir);
    store *scratch = NULL;
    store_dump_t back;
    memset(&back, 0, sizeof back);
    int applied, rc = -1;
    if (store_open(url, &scratch, why, sizeof why) != 0 || store_migrate(scratch, &applied, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot prepare the scratch database: %s", why);
        goto done;
    }
    if (backup_check_schema(scratch, &c.manifest, why, sizeof why) != 0 ||
        backup_check_rules(&c.dump, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto done;
    }
    if (store_restore(scratch, &c.dump, parts_of(&c.dump), -1, NULL, NULL, NULL, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: restoring into a scratch database failed: %s", path, why);
        goto done;
    }
    if (store_dump(scratch, &back, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: reading the scratch database back failed: %s", path, why);
        goto done;
    }
    /* Counted by the database, not by us. */
    if (!c.dump.has_users)
        back.counts.users = 0;
    if (!c.dump.has_audit)
        back.counts.audit_log = 0;
    if (counts_differ(&back.counts, &c.manifest.counts, why, sizeof why)) {
        snprintf(err, errlen, "%s: after a restore the database holds other row counts than the manifest (%s)", path,
                 why);
        goto done;
    }
    /* What comes back must serialize to the very bytes that were checksummed. */
    back.has_users = c.dump.has_users;
    back.has_audit = c.dump.has_audit;
    buf payload = BUF_INIT;
    write_payload(&back, &payload);
    char sum[65];
    sha256_hex(payload.data ? payload.data : "", payload.len, sum);
    buf_free(&payload);
    if (strcmp(sum, c.manifest.payload_sha256) != 0) {
        snprintf(err, errlen, "%s: the data read back after a restore differs from the backup (checksum %.12s…)", path,
                 sum);
        goto done;
    }
    rc = 0;
done:
    store_dump_free(&back);
    store_close(scratch);
    remove_scratch(dir);
    backup_contents_free(&c);
    return rc;
}

int backup_record_verification(const char *path, int ok, const char *message)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    char at[32];
    utc_format(time(NULL), "%Y-%m-%dT%H:%M:%SZ", at, sizeof at);
    buf doc = BUF_INIT;
    json_writer w;
    jw_init(&w, &doc);
    jw_object_begin(&w);
    jw_key(&w, "ok");
    jw_bool(&w, ok);
    jw_key(&w, "verified_at");
    jw_string(&w, at);
    jw_key(&w, "message");
    jw_string(&w, message ? message : "");
    jw_key(&w, "size");
    jw_int(&w, (int64_t)st.st_size);
    jw_key(&w, "mtime");
    jw_int(&w, (int64_t)st.st_mtime);
    jw_object_end(&w);
    buf_putc(&doc, '\n');
    char dir[4096], name[512], tmp[4200], err[512];
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path) ? (int)(slash - path) : 1, path);
    else
        snprintf(dir, sizeof dir, ".");
    snprintf(name, sizeof name, "%s.verified", slash ? slash + 1 : path);
    piece p = {doc.data, doc.len};
    int rc = write_temp(dir, &p, 1, 0, tmp, sizeof tmp, err, sizeof err) == 0 &&
                     publish(tmp, dir, name, 1, NULL, 0, err, sizeof err) == 0
                 ? 0
                 : -1;
    buf_free(&doc);
    return rc;
}

/* ---- listing ---- */

static void read_verification(backup_info *b, const struct stat *st)
{
    char side[4200];
    snprintf(side, sizeof side, "%s.verified", b->location);
    json_t *j = json_load_file(side, 0, NULL);
    if (!j)
        return;
    json_t *ok = json_object_get(j, "ok"), *at = json_object_get(j, "verified_at");
    json_t *msg = json_object_get(j, "message"), *size = json_object_get(j, "size"),
           *mtime = json_object_get(j, "mtime");
    if (json_integer_value(size) != (json_int_t)st->st_size || json_integer_value(mtime) != (json_int_t)st->st_mtime) {
        b->verified = 0;
        snprintf(b->verify_message, sizeof b->verify_message, "the file changed after it was verified");
    } else {
        b->verified = json_is_true(ok) ? 1 : -1;
        snprintf(b->verify_message, sizeof b->verify_message, "%s", json_is_string(msg) ? json_string_value(msg) : "");
    }
    snprintf(b->verified_at, sizeof b->verified_at, "%s", json_is_string(at) ? json_string_value(at) : "");
    json_decref(j);
}

typedef struct sort_key {
    backup_info info;
    int seq;
} sort_key;

static int by_time(const void *a, const void *b)
{
    const sort_key *x = a, *y = b;
    if (x->info.created != y->info.created)
        return x->info.created < y->info.created ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return strcmp(x->info.name, y->info.name);
}

int backup_list(const char *dir, backup_info **list, size_t *count, char *err, size_t errlen)
{
    *list = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read the backup directory %s: %s", dir, strerror(errno));
        return -1;
    }
    sort_key *keys = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        time_t created;
        int seq;
        char tag[BACKUP_TAG_MAX + 1];
        if (parse_name(e->d_name, &created, &seq, tag, sizeof tag) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            sort_key *grown = realloc(keys, cap * sizeof *grown);
            if (!grown) {
                free(keys);
                closedir(d);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            keys = grown;
        }
        sort_key *k = &keys[n];
        memset(k, 0, sizeof *k);
        backup_info *b = &k->info;
        snprintf(b->location, sizeof b->location, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(b->location, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        snprintf(b->name, sizeof b->name, "%s", e->d_name);
        b->created = created;
        k->seq = seq;
        snprintf(b->tag, sizeof b->tag, "%s", tag);
        b->size = (int64_t)st.st_size;
        char why[512];
        b->has_manifest = backup_read_manifest(b->location, &b->manifest, why, sizeof why) == 0;
        read_verification(b, &st);
        n++;
    }
    closedir(d);
    if (n)
        qsort(keys, n, sizeof *keys, by_time);
    backup_info *out = calloc(n ? n : 1, sizeof *out);
    if (!out) {
        free(keys);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = keys[i].info;
    free(keys);
    *list = out;
    *count = n;
    return 0;
}

int backup_latest(const char *dir, backup_info *out)
{
    backup_info *list;
    size_t n;
    char err[512];
    if (backup_list(dir, &list, &n, err, sizeof err) != 0)
        return -1;
    int rc = 1;
    if (n > 0) {
        *out = list[n - 1];
        rc = 0;
    }
    free(list);
    return rc;
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
    int rc = backup_write(s, dir, tag, path, sizeof path, NULL, why, sizeof why);
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
