/*
 * backup_format.c — encoding and decoding backup documents (see
 * backup_format.h).
 */
#include "ops/backup_format.h"
#include "core/xalloc.h"
#include "ops/backup_crypt.h"

#include "core/errors.h"
#include "core/fs.h"
#include "core/gzip.h"
#include "core/json.h"
#include "core/log.h"
#include "core/sha256.h"
#include "domain/codec.h"
#include "mg_version.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_PREFIX  "{\"manifest\":"
#define PAYLOAD_PREFIX   ",\n\"payload\":"
#define DOCUMENT_END     BACKUP_DOCUMENT_END
#define SIGNATURE_PREFIX ",\"signature\":\""

void backup_utc_format(time_t t, const char *fmt, char *out, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, fmt, &tm);
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

int backup_parse_name(const char *name, time_t *created, int *seq, char *tag, size_t taglen)
{
    static const char prefix[] = "musicgraph-", suffix[] = ".json.gz";
    size_t n = strlen(name), pl = sizeof prefix - 1, sl = sizeof suffix - 1;
    if (backup_crypt_name_is(name)) /* NAME.json.gz.enc: an encrypted backup */
        n -= strlen(BACKUP_CRYPT_SUFFIX);
    if (n < pl + 16 + sl || strncmp(name, prefix, pl) != 0 || strncmp(name + n - sl, suffix, sl) != 0)
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

void backup_name(time_t created, int seq, const char *tag, char *out, size_t len)
{
    char stamp[32], suffix[16] = "";
    backup_utc_format(created, "%Y%m%dT%H%M%SZ", stamp, sizeof stamp);
    if (seq)
        snprintf(suffix, sizeof suffix, ".%d", seq);
    snprintf(out, len, "musicgraph-%s%s%s%s.json.gz", stamp, suffix, tag && *tag ? "-" : "", tag ? tag : "");
}

/* "genre x: field: message" lines after a headline, at most ten. */
void backup_format_errors(const char *headline, const domain_errors *e, char *err, size_t errlen)
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

int backup_check_limits(const store_counts *c, const backup_limits *l, char *err, size_t errlen)
{
    static const struct {
        const char *table, *setting;
    } names[] = {{"genres", "GENRES"}, {"bands", "BANDS"}, {"users", "USERS"}, {"audit entries", "AUDIT_ENTRIES"}};
    const int64_t have[] = {c->genres, c->bands, c->users, c->audit_log};
    const int64_t max[] = {l->genres, l->bands, l->users, l->audit_log};
    for (size_t i = 0; i < sizeof have / sizeof have[0]; i++)
        if (have[i] > max[i]) {
            snprintf(err, errlen, "it holds %lld %s, more than the limit of %lld (MUSICGRAPH_BACKUP_MAX_%s raises it)",
                     (long long)have[i], names[i].table, (long long)max[i], names[i].setting);
            return -1;
        }
    return 0;
}

store_counts backup_counts(const store_dump_t *d)
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

void backup_payload_json(const store_dump_t *d, buf *out)
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

void backup_manifest_json(const backup_manifest *m, buf *out)
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
    if (m->signing_key[0]) {
        jw_key(&w, "signing_key");
        jw_string(&w, m->signing_key);
    }
    jw_object_end(&w);
}

/* A document in memory: the pieces of the file, in order. */

int backup_encode(const store_dump_t *d, const char *kind, const char *tag, int anonymized, const char *backend,
                  const backup_keys *signer, time_t now, backup_document *doc, char *err, size_t errlen)
{
    memset(doc, 0, sizeof *doc);
    backup_manifest *m = &doc->manifest;
    buf *manifest = &doc->manifest_json, *payload = &doc->payload_json;
    m->format_version = signer ? BACKUP_FORMAT_VERSION : 1;
    if (signer)
        snprintf(m->signing_key, sizeof m->signing_key, "%s", backup_keys_public(signer));
    snprintf(m->kind, sizeof m->kind, "%s", kind);
    snprintf(m->schema_version, sizeof m->schema_version, "%s", d->schema_version);
    snprintf(m->program_version, sizeof m->program_version, "%s", MG_VERSION);
    backup_utc_format(now, "%Y-%m-%dT%H:%M:%SZ", m->created_at, sizeof m->created_at);
    snprintf(m->tag, sizeof m->tag, "%s", tag ? tag : "");
    snprintf(m->backend, sizeof m->backend, "%s", backend);
    m->data_version = d->data_version;
    m->anonymized = anonymized;
    m->counts = backup_counts(d);
    /* The database counted its rows in the same read transaction: a payload
     * holding another number is not the whole database (a scan cut off, rows
     * the map does not reach), and must never be written as if it were. */
    char why[200];
    if (backup_counts_differ(&d->counts, &m->counts, why, sizeof why)) {
        snprintf(err, errlen, "the data read does not match the database's own row counts (%s): nothing was written",
                 why);
        return -1;
    }
    backup_payload_json(d, payload);
    if (buf_failed(payload)) {
        snprintf(err, errlen, "out of memory while writing the backup");
        return -1;
    }
    sha256_hex(payload->data, payload->len, m->payload_sha256);
    backup_manifest_json(m, manifest);
    if (buf_failed(manifest)) {
        snprintf(err, errlen, "out of memory while writing the backup");
        return -1;
    }
    /* The signature covers the manifest's exact bytes, and through its
     * payload_sha256 the payload's. */
    char sig[BACKUP_SIGNATURE_TEXT_MAX];
    if (signer) {
        if (backup_keys_sign(signer, manifest->data, manifest->len, sig) != 0) {
            snprintf(err, errlen, "there is no backup signing key to sign with");
            return -1;
        }
        buf_printf(&doc->signature_json, "%s%s\"", SIGNATURE_PREFIX, sig);
    }
    return 0;
}

void backup_document_free(backup_document *doc)
{
    buf_free(&doc->manifest_json);
    buf_free(&doc->signature_json);
    buf_free(&doc->payload_json);
}

void backup_document_pieces(const backup_document *doc, struct iovec iov[BACKUP_DOCUMENT_PIECES])
{
    iov[0] = (struct iovec){MANIFEST_PREFIX, strlen(MANIFEST_PREFIX)};
    iov[1] = (struct iovec){doc->manifest_json.data, doc->manifest_json.len};
    /* "" for an unsigned document: no NULL reaches fwrite or write. */
    iov[2] = (struct iovec){doc->signature_json.len ? doc->signature_json.data : "", doc->signature_json.len};
    iov[3] = (struct iovec){PAYLOAD_PREFIX, strlen(PAYLOAD_PREFIX)};
    iov[4] = (struct iovec){doc->payload_json.data, doc->payload_json.len};
    iov[5] = (struct iovec){DOCUMENT_END, strlen(DOCUMENT_END)};
}

/* Level 6 (zlib's default): within a few percent of 9, several times faster.
 * An encrypted document is compressed first (ciphertext does not compress)
 * and encrypted chunk by chunk as the compressed bytes come. */
int backup_document_write(int fd, void *ctx)
{
    const backup_document *doc = ctx;
    struct iovec iov[BACKUP_DOCUMENT_PIECES];
    backup_document_pieces(doc, iov);
    if (doc->crypt) {
        char err[512];
        backup_crypt_writer *w;
        if (backup_crypt_writer_new(doc->crypt, fd, &doc->manifest, &w, err, sizeof err) != 0)
            return -1;
        int rc = gzip_write_sink(iov, BACKUP_DOCUMENT_PIECES, 6, backup_crypt_write, w, err, sizeof err);
        if (rc == 0)
            rc = backup_crypt_writer_finish(w, err, sizeof err);
        backup_crypt_writer_free(w);
        return rc;
    }
    if (doc->gzip)
        return gzip_write_fd(fd, iov, BACKUP_DOCUMENT_PIECES, 6);
    for (int i = 0; i < BACKUP_DOCUMENT_PIECES; i++)
        if (fs_write_all(fd, iov[i].iov_base, iov[i].iov_len) != 0)
            return -1;
    return 0;
}

void backup_contents_free(backup_contents *c)
{
    store_dump_free(&c->dump);
    memset(c, 0, sizeof *c);
}

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
        manifest_string(j, "payload_sha256", m->payload_sha256, sizeof m->payload_sha256, 0, err, errlen) != 0 ||
        manifest_string(j, "signing_key", m->signing_key, sizeof m->signing_key, 1, err, errlen) != 0)
        return -1;
    if ((m->format_version >= 2) != (m->signing_key[0] != '\0')) {
        snprintf(err, errlen, "its manifest is invalid: format %d %s a signing_key", m->format_version,
                 m->format_version >= 2 ? "needs" : "has no");
        return -1;
    }
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
 * byte after it; MG_ERR_NOT_FOUND when text does not start like a backup. */
static int parse_manifest(const char *text, size_t len, backup_manifest *m, size_t *end, char *err, size_t errlen)
{
    size_t pl = strlen(MANIFEST_PREFIX);
    if (len < pl || memcmp(text, MANIFEST_PREFIX, pl) != 0)
        return MG_ERR_NOT_FOUND;
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
        *dup = xstrdup(json_string_value(v));
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

/* The first string in v longer than max bytes: its path goes to where
 * (JSON nesting is bounded by jansson, so the recursion is too). */
static int longest_text(const json_t *v, size_t max, char *where, size_t wlen, size_t *found)
{
    size_t at = strlen(where);
    if (json_is_string(v) && json_string_length(v) > max) {
        *found = json_string_length(v);
        return 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            snprintf(where + at, wlen - at, "[%zu]", i);
            if (longest_text(item, max, where, wlen, found))
                return 1;
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item)
        {
            snprintf(where + at, wlen - at, ".%.40s", key);
            if (longest_text(item, max, where, wlen, found))
                return 1;
        }
    }
    where[at] = '\0';
    return 0;
}

static int parse_payload(const char *text, size_t len, size_t text_max, store_dump_t *d, char *err, size_t errlen)
{
    static const char *const keys[] = {"dataset", "users", "audit_log", NULL};
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "its payload is not valid JSON (line %d, column %d: %s)", je.line, je.column, je.text);
        return -1;
    }
    char where[256] = "payload";
    size_t found;
    if (longest_text(root, text_max, where, sizeof where, &found)) {
        snprintf(err, errlen,
                 "%s is a text of %zu bytes, longer than the limit of %zu (MUSICGRAPH_BACKUP_MAX_TEXT_BYTES raises it)",
                 where, found, text_max);
        json_decref(root);
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
        d->users = xcalloc(nu ? nu : 1, sizeof *d->users);
        d->audit = xcalloc(na ? na : 1, sizeof *d->audit);
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
        backup_format_errors("its payload", &errs, err, errlen);
        domain_errors_free(&errs);
        return -1;
    }
    return 0;
}

int backup_counts_differ(const store_counts *a, const store_counts *b, char *what, size_t len)
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

int backup_decode_manifest(const char *name, const char *text, size_t len, backup_manifest *m, char *err, size_t errlen)
{
    char why[512];
    size_t end;
    int rc = parse_manifest(text, len, m, &end, why, sizeof why);
    if (rc == MG_ERR_NOT_FOUND)
        snprintf(err, errlen, "%s has no musicgraph manifest", name);
    else if (rc != 0)
        snprintf(err, errlen, "%s: %s", name, why);
    return rc == 0 ? 0 : -1;
}

/* The signature member after the manifest of a signed document:
 * ,"signature":"BASE64" — 0 and *end past it, or -1. */
static int parse_signature(const char *text, size_t len, size_t at, char *sig, size_t *end)
{
    size_t spl = strlen(SIGNATURE_PREFIX), n = 0;
    if (len < at + spl || memcmp(text + at, SIGNATURE_PREFIX, spl) != 0)
        return -1;
    at += spl;
    while (at + n < len && n + 1 < BACKUP_SIGNATURE_TEXT_MAX && text[at + n] != '"' &&
           strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", text[at + n]))
        n++;
    if (n == 0 || at + n >= len || text[at + n] != '"')
        return -1;
    memcpy(sig, text + at, n);
    sig[n] = '\0';
    *end = at + n + 1;
    return 0;
}

int backup_decode_head(const char *name, const char *text, size_t len, backup_head *h, char *err, size_t errlen)
{
    char why[4096];
    size_t end = 0;
    memset(h, 0, sizeof *h);
    int rc = parse_manifest(text, len, &h->manifest, &end, why, sizeof why);
    if (rc == MG_ERR_NOT_FOUND)
        return rc;
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", name, why);
        return -1;
    }
    h->manifest_at = strlen(MANIFEST_PREFIX);
    h->manifest_len = end - h->manifest_at;
    if (h->manifest.signing_key[0] && parse_signature(text, len, end, h->signature, &end) != 0) {
        snprintf(err, errlen, "%s: its manifest names a signing key but no signature follows it (an edited file?)",
                 name);
        return -1;
    }
    size_t ppl = strlen(PAYLOAD_PREFIX);
    if (len < end + ppl || memcmp(text + end, PAYLOAD_PREFIX, ppl) != 0) {
        snprintf(err, errlen,
                 "%s: the document's layout was changed (an edited or cut file?): its checksum cannot be checked",
                 name);
        return -1;
    }
    h->payload_at = end + ppl;
    return 0;
}

int backup_decode(const char *name, const char *text, size_t len, int allow_bare, size_t text_max, backup_contents *out,
                  char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char why[4096];
    backup_head head;
    int rc = backup_decode_head(name, text, len, &head, err, errlen);
    size_t start = head.payload_at;
    out->manifest = head.manifest;
    if (rc == MG_ERR_NOT_FOUND && allow_bare) {
        /* A plain dataset document, like a file of data/families. */
        domain_errors errs = {0};
        rc = codec_parse_dataset(text, len, &out->dump.map, &errs) == 0 ? 0 : -1;
        if (rc != 0)
            backup_format_errors(name, &errs, err, errlen);
        domain_errors_free(&errs);
        return rc;
    }
    if (rc == MG_ERR_NOT_FOUND) {
        snprintf(err, errlen, "%s is not a musicgraph backup: it does not start with a manifest", name);
        return -1;
    }
    if (rc != 0)
        return -1;
    out->has_manifest = 1;
    size_t el = strlen(DOCUMENT_END);
    if (len < start + el || memcmp(text + len - el, DOCUMENT_END, el) != 0) {
        snprintf(err, errlen,
                 "%s: the document's layout was changed (an edited or cut file?): its checksum cannot be checked",
                 name);
        return -1;
    }
    const char *payload = text + start;
    size_t plen = len - start - el;
    char sum[SHA256_HEX_SIZE];
    sha256_hex(payload, plen, sum);
    if (backup_check_sum(name, sum, &out->manifest, err, errlen) != 0)
        return -1;
    if (parse_payload(payload, plen, text_max, &out->dump, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", name, why);
        backup_contents_free(out);
        return -1;
    }
    snprintf(out->dump.schema_version, sizeof out->dump.schema_version, "%s", out->manifest.schema_version);
    out->dump.data_version = out->manifest.data_version;
    store_counts have = backup_counts(&out->dump);
    if (backup_counts_differ(&have, &out->manifest.counts, why, sizeof why)) {
        snprintf(err, errlen, "%s: the payload does not match the manifest's row counts (%s)", name, why);
        backup_contents_free(out);
        return -1;
    }
    out->dump.counts = have;
    return 0;
}

int backup_check_sum(const char *name, const char *sum, const backup_manifest *m, char *err, size_t errlen)
{
    if (strcmp(sum, m->payload_sha256) == 0)
        return 0;
    snprintf(err, errlen,
             "%s: checksum mismatch: the payload's SHA-256 is %.12s…, the manifest says %.12s…: the file was "
             "altered or damaged",
             name, sum, m->payload_sha256);
    return -1;
}
