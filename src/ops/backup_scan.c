/*
 * backup_scan.c — the streaming pass over a backup file (see
 * backup_scan.h).
 *
 * The document flows through one sink: the first bytes collect in a head
 * buffer large enough for any manifest; once it is full (or the document
 * ends) the manifest is decoded, and from the payload's first byte on
 * everything is hashed except the last two bytes seen, which are the
 * document's end ("}\n") when the stream stops.
 */
#include "ops/backup_scan.h"

#include "core/errors.h"
#include "core/gzip.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
/* The manifest, its prefix and room for what follows it before the payload. */
#define HEAD_MAX (BACKUP_MANIFEST_MAX + 16 * 1024)
#define END_LEN  (sizeof BACKUP_DOCUMENT_END - 1)

typedef struct scan_state {
    const char *name;
    const backup_limits *lim;
    backup_scan *out;
    char *head;
    size_t hlen;
    int head_done, hashing;
    crypto_hash_sha256_state sha;
    char tail[END_LEN];
    size_t ntail;
} scan_state;

/* Hashes everything but the last END_LEN bytes seen so far. */
static void hash_bytes(scan_state *st, const char *p, size_t n)
{
    size_t total = st->ntail + n;
    if (total <= END_LEN) {
        memcpy(st->tail + st->ntail, p, n);
        st->ntail = total;
        return;
    }
    size_t emit = total - END_LEN;
    size_t from_tail = emit < st->ntail ? emit : st->ntail, from_p = emit - from_tail;
    crypto_hash_sha256_update(&st->sha, (const unsigned char *)st->tail, from_tail);
    crypto_hash_sha256_update(&st->sha, (const unsigned char *)p, from_p);
    char kept[END_LEN];
    size_t k = 0;
    for (size_t i = from_tail; i < st->ntail; i++)
        kept[k++] = st->tail[i];
    for (size_t i = from_p; i < n; i++)
        kept[k++] = p[i];
    memcpy(st->tail, kept, k);
    st->ntail = k;
}

static int finish_head(scan_state *st, char *err, size_t errlen)
{
    st->head_done = 1;
    backup_head h;
    int rc = backup_decode_head(st->name, st->head, st->hlen, &h, err, errlen);
    if (rc == MG_ERR_NOT_FOUND)
        return 0;
    if (rc != 0)
        return -1;
    backup_scan *out = st->out;
    out->has_manifest = 1;
    out->manifest = h.manifest;
    memcpy(out->signature, h.signature, sizeof out->signature);
    out->manifest_text = xmalloc(h.manifest_len + 1);
    if (!out->manifest_text) {
        snprintf(err, errlen, "out of memory reading %s", st->name);
        return -1;
    }
    memcpy(out->manifest_text, st->head + h.manifest_at, h.manifest_len);
    out->manifest_text[h.manifest_len] = '\0';
    out->manifest_len = h.manifest_len;
    size_t at = h.payload_at;
    st->hashing = 1;
    crypto_hash_sha256_init(&st->sha);
    hash_bytes(st, st->head + at, st->hlen - at);
    return 0;
}

static int document_bytes(void *ctx, const char *data, size_t len, char *err, size_t errlen)
{
    scan_state *st = ctx;
    st->out->document_bytes += (int64_t)len;
    if (st->out->document_bytes > st->lim->document_bytes) {
        snprintf(err, errlen,
                 "%s decompresses to more than %lld bytes, the limit (MUSICGRAPH_BACKUP_MAX_DOCUMENT_BYTES raises "
                 "it): refusing it",
                 st->name, (long long)st->lim->document_bytes);
        return -1;
    }
    if (!st->head_done) {
        size_t take = HEAD_MAX - st->hlen < len ? HEAD_MAX - st->hlen : len;
        memcpy(st->head + st->hlen, data, take);
        st->hlen += take;
        data += take;
        len -= take;
        if (st->hlen < HEAD_MAX)
            return 0;
        if (finish_head(st, err, errlen) != 0)
            return -1;
    }
    if (st->hashing)
        hash_bytes(st, data, len);
    return 0;
}

/* Feeds the file from fd through gzip (or not) into the document sink. */
static int stream(int fd, scan_state *st, char *err, size_t errlen)
{
    char *chunk = xmalloc(READ_CHUNK);
    gzip_reader *gz = st->out->gzip ? gzip_reader_new(st->name, document_bytes, st) : NULL;
    int rc = chunk && (gz || !st->out->gzip) ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "out of memory reading %s", st->name);
    while (rc == 0) {
        ssize_t n = read(fd, chunk, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read %s: %s", st->name, strerror(errno));
            rc = -1;
        } else if (n == 0) {
            break;
        } else if (gz) {
            rc = gzip_reader_push(gz, chunk, (size_t)n, err, errlen);
        } else {
            rc = document_bytes(st, chunk, (size_t)n, err, errlen);
        }
    }
    if (rc == 0 && gz)
        rc = gzip_reader_finish(gz, err, errlen);
    gzip_reader_free(gz);
    free(chunk);
    return rc;
}

int backup_scan_file(const char *path, const backup_limits *lim, backup_scan *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    unsigned char magic[2];
    ssize_t got = 0;
    int rc = -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
    } else if (st.st_size == 0) {
        snprintf(err, errlen, "%s is empty (0 bytes): it is not a backup (a backup that never finished writing?)",
                 path);
    } else if ((int64_t)st.st_size > lim->archive_bytes) {
        snprintf(err, errlen,
                 "%s is %lld bytes, larger than the limit of %lld (MUSICGRAPH_BACKUP_MAX_ARCHIVE_BYTES raises it)",
                 path, (long long)st.st_size, (long long)lim->archive_bytes);
    } else if ((got = pread(fd, magic, sizeof magic, 0)) < 1) {
        snprintf(err, errlen, "cannot read %s: %s", path, got < 0 ? strerror(errno) : "it ended early");
    } else if (!gzip_is(magic, (size_t)got) && magic[0] != '{') {
        snprintf(err, errlen, "%s is not a musicgraph backup: it is neither gzip-compressed nor a JSON document", path);
    } else {
        rc = 0;
    }
    if (rc != 0) {
        close(fd);
        return -1;
    }
    out->archive_bytes = (int64_t)st.st_size;
    out->gzip = gzip_is(magic, (size_t)got);
    scan_state s = {.name = path, .lim = lim, .out = out, .head = xmalloc(HEAD_MAX)};
    if (!s.head) {
        snprintf(err, errlen, "out of memory reading %s", path);
        close(fd);
        return -1;
    }
    rc = stream(fd, &s, err, errlen);
    close(fd);
    if (rc == 0 && !s.head_done)
        rc = finish_head(&s, err, errlen);
    if (rc == 0 && s.hashing) {
        if (s.ntail != END_LEN || memcmp(s.tail, BACKUP_DOCUMENT_END, END_LEN) != 0) {
            snprintf(err, errlen,
                     "%s: the document's layout was changed (an edited or cut file?): its checksum cannot be checked",
                     path);
            rc = -1;
        } else {
            unsigned char digest[crypto_hash_sha256_BYTES];
            crypto_hash_sha256_final(&s.sha, digest);
            sodium_bin2hex(out->payload_sha256, sizeof out->payload_sha256, digest, sizeof digest);
        }
    }
    free(s.head);
    if (rc != 0)
        backup_scan_free(out);
    return rc;
}

void backup_scan_free(backup_scan *s)
{
    free(s->manifest_text);
    s->manifest_text = NULL;
}
