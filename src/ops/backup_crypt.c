/*
 * backup_crypt.c — the encrypted envelope of a backup (see backup_crypt.h).
 *
 * Writing buffers one chunk of plaintext and encrypts it when full; the
 * last, shorter chunk (possibly empty) carries the final tag. Reading takes
 * chunk_bytes + ABYTES at a time: a full piece is an ordinary chunk, a
 * shorter one must be the final one, and the file must end right after it.
 */
#include "ops/backup_crypt.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CIPHER        "xchacha20poly1305-secretstream"
#define KDF           "argon2id13"
#define CHUNK         (64u * 1024)
#define ABYTES        crypto_secretstream_xchacha20poly1305_ABYTES
#define STREAM_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES
/* Argon2id costs of new backups: 3 passes over 64 MiB (a fraction of a
 * second here); stored in each file, so they can grow later. */
#define OPSLIMIT 3u
#define MEMLIMIT (64u * 1024 * 1024)
/* What a file may ask for: beyond this it is hostile, not ours. */
#define OPSLIMIT_MAX 16u
#define MEMLIMIT_MAX (1024u * 1024 * 1024)
#define CHUNK_MIN    1024u
#define CHUNK_MAX    (4u * 1024 * 1024)

static const unsigned char key_check_msg[] = "musicgraph backup key check";

struct backup_crypt {
    int passphrase;
    char *secret; /* the passphrase */
    unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
};

backup_crypt *backup_crypt_passphrase(const char *passphrase)
{
    backup_crypt *k = xcalloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->passphrase = 1;
    k->secret = xstrdup(passphrase);
    if (!k->secret) {
        free(k);
        return NULL;
    }
    return k;
}

int backup_crypt_key_hex(const char *hex, backup_crypt **out, char *err, size_t errlen)
{
    backup_crypt *k = xcalloc(1, sizeof *k);
    size_t n = 0;
    const char *end;
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (sodium_hex2bin(k->key, sizeof k->key, hex, strlen(hex), " \t", &n, &end) != 0 || n != sizeof k->key || *end) {
        snprintf(err, errlen,
                 "MUSICGRAPH_BACKUP_KEY must be 64 hexadecimal characters (32 bytes, e.g. from `openssl rand -hex "
                 "32`)");
        sodium_memzero(k, sizeof *k);
        free(k);
        return -1;
    }
    *out = k;
    return 0;
}

void backup_crypt_free(backup_crypt *k)
{
    if (!k)
        return;
    if (k->secret) {
        sodium_memzero(k->secret, strlen(k->secret));
        free(k->secret);
    }
    sodium_memzero(k, sizeof *k);
    free(k);
}

const char *backup_crypt_kind(const backup_crypt *k) { return k->passphrase ? "passphrase (Argon2id)" : "key file"; }

static int set(const char *v) { return v && *v; }

int backup_crypt_from_config(const config *cfg, backup_crypt **out, int *local, char *err, size_t errlen)
{
    *out = NULL;
    *local = set(cfg->backup_encrypt) && strcmp(cfg->backup_encrypt, "0") != 0;
    if (set(cfg->backup_encrypt) && strcmp(cfg->backup_encrypt, "0") && strcmp(cfg->backup_encrypt, "1")) {
        snprintf(err, errlen, "MUSICGRAPH_BACKUP_ENCRYPT must be 0 or 1, not '%.40s'", cfg->backup_encrypt);
        return -1;
    }
    if (set(cfg->backup_passphrase) && set(cfg->backup_key)) {
        snprintf(err, errlen,
                 "both MUSICGRAPH_BACKUP_PASSPHRASE and MUSICGRAPH_BACKUP_KEY are set (or their _FILE forms): set "
                 "only one, the one your backups were encrypted with");
        return -1;
    }
    if (set(cfg->backup_passphrase)) {
        *out = backup_crypt_passphrase(cfg->backup_passphrase);
        if (!*out) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    } else if (set(cfg->backup_key) && backup_crypt_key_hex(cfg->backup_key, out, err, errlen) != 0) {
        return -1;
    }
    if (*local && !*out) {
        snprintf(err, errlen,
                 "MUSICGRAPH_BACKUP_ENCRYPT=1 needs a key: set MUSICGRAPH_BACKUP_PASSPHRASE_FILE or "
                 "MUSICGRAPH_BACKUP_KEY_FILE");
        return -1;
    }
    return 0;
}

int backup_crypt_is(const void *data, size_t len)
{
    size_t n = strlen(BACKUP_CRYPT_MAGIC);
    return len >= n && memcmp(data, BACKUP_CRYPT_MAGIC, n) == 0;
}

int backup_crypt_name_is(const char *name)
{
    size_t n = strlen(name), s = strlen(BACKUP_CRYPT_SUFFIX);
    return n > s && strcmp(name + n - s, BACKUP_CRYPT_SUFFIX) == 0;
}

/* The stream key for a file: the raw key, or the passphrase stretched with
 * h's salt and costs. */
static int derive(const backup_crypt *k, const backup_crypt_header *h, unsigned char *key, char *err, size_t errlen)
{
    if (!k->passphrase) {
        memcpy(key, k->key, sizeof k->key);
        return 0;
    }
    if (crypto_pwhash(key, crypto_secretstream_xchacha20poly1305_KEYBYTES, k->secret, strlen(k->secret), h->salt,
                      h->opslimit, (size_t)h->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        snprintf(err, errlen, "Argon2id could not derive the key (%llu MiB of memory needed): out of memory",
                 (unsigned long long)(h->memlimit >> 20));
        return -1;
    }
    return 0;
}

static void key_check(const unsigned char *key, unsigned char out[16])
{
    crypto_generichash(out, 16, key_check_msg, sizeof key_check_msg - 1, key,
                       crypto_secretstream_xchacha20poly1305_KEYBYTES);
}

/* ---- writing ---- */

struct backup_crypt_writer {
    int fd;
    crypto_secretstream_xchacha20poly1305_state st;
    buf line; /* the readable line: the first chunk's additional data */
    int first;
    unsigned char *plain, *cipher;
    size_t have;
};

static void header_line(const backup_crypt_header *h, const backup_manifest *m, buf *out)
{
    char hex[2 * 16 + 1];
    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "encrypted");
    jw_object_begin(&w);
    jw_key(&w, "format_version");
    jw_int(&w, 1);
    jw_key(&w, "cipher");
    jw_string(&w, CIPHER);
    jw_key(&w, "chunk_bytes");
    jw_int(&w, (int64_t)h->chunk_bytes);
    jw_key(&w, "key");
    jw_string(&w, h->passphrase ? "passphrase" : "key-file");
    if (h->passphrase) {
        jw_key(&w, "kdf");
        jw_string(&w, KDF);
        jw_key(&w, "salt");
        jw_string(&w, sodium_bin2hex(hex, sizeof hex, h->salt, sizeof h->salt));
        jw_key(&w, "opslimit");
        jw_int(&w, (int64_t)h->opslimit);
        jw_key(&w, "memlimit");
        jw_int(&w, (int64_t)h->memlimit);
    }
    jw_key(&w, "key_check");
    jw_string(&w, sodium_bin2hex(hex, sizeof hex, h->key_check, sizeof h->key_check));
    jw_object_end(&w);
    jw_key(&w, "manifest");
    buf mj = BUF_INIT;
    backup_manifest_json(m, &mj);
    jw_raw(&w, mj.data, mj.len);
    buf_free(&mj);
    jw_object_end(&w);
    buf_putc(out, '\n');
}

void backup_crypt_writer_free(backup_crypt_writer *w)
{
    if (!w)
        return;
    buf_free(&w->line);
    if (w->plain)
        sodium_memzero(w->plain, CHUNK);
    free(w->plain);
    free(w->cipher);
    sodium_memzero(&w->st, sizeof w->st);
    free(w);
}

int backup_crypt_writer_new(const backup_crypt *k, int fd, const backup_manifest *m, backup_crypt_writer **out,
                            char *err, size_t errlen)
{
    backup_crypt_writer *w = xcalloc(1, sizeof *w);
    if (w) {
        w->plain = xmalloc(CHUNK);
        w->cipher = xmalloc(CHUNK + ABYTES);
    }
    if (!w || !w->plain || !w->cipher) {
        backup_crypt_writer_free(w);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->fd = fd;
    w->first = 1;
    backup_crypt_header h = {.passphrase = k->passphrase, .chunk_bytes = CHUNK};
    unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES], stream_header[STREAM_HEADER];
    if (k->passphrase) {
        randombytes_buf(h.salt, sizeof h.salt);
        h.opslimit = OPSLIMIT;
        h.memlimit = MEMLIMIT;
    }
    int rc = derive(k, &h, key, err, errlen);
    if (rc == 0) {
        key_check(key, h.key_check);
        header_line(&h, m, &w->line);
        crypto_secretstream_xchacha20poly1305_init_push(&w->st, stream_header, key);
        if (buf_failed(&w->line)) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        } else if (fs_write_all(fd, w->line.data, w->line.len) != 0 ||
                   fs_write_all(fd, stream_header, sizeof stream_header) != 0) {
            snprintf(err, errlen, "cannot write: %s", strerror(errno));
            rc = -1;
        }
    }
    sodium_memzero(key, sizeof key);
    if (rc != 0) {
        backup_crypt_writer_free(w);
        return -1;
    }
    *out = w;
    return 0;
}

static int push(backup_crypt_writer *w, unsigned char tag, char *err, size_t errlen)
{
    unsigned long long clen;
    const unsigned char *ad = w->first ? (const unsigned char *)w->line.data : NULL;
    crypto_secretstream_xchacha20poly1305_push(&w->st, w->cipher, &clen, w->plain, w->have, ad,
                                               w->first ? w->line.len : 0, tag);
    w->first = 0;
    w->have = 0;
    if (fs_write_all(w->fd, w->cipher, (size_t)clen) != 0) {
        snprintf(err, errlen, "cannot write: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int backup_crypt_write(void *ctx, const char *data, size_t len, char *err, size_t errlen)
{
    backup_crypt_writer *w = ctx;
    while (len > 0) {
        size_t take = CHUNK - w->have < len ? CHUNK - w->have : len;
        memcpy(w->plain + w->have, data, take);
        w->have += take;
        data += take;
        len -= take;
        if (w->have == CHUNK && push(w, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int backup_crypt_writer_finish(backup_crypt_writer *w, char *err, size_t errlen)
{
    return push(w, crypto_secretstream_xchacha20poly1305_TAG_FINAL, err, errlen);
}

/* Reads up to len bytes (fewer only at the end of the file). */
static ssize_t read_full(int fd, void *p, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)p + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int backup_crypt_encrypt_file(const backup_crypt *k, const char *in, const backup_manifest *m, int fd, char *err,
                              size_t errlen)
{
    int ifd = open(in, O_RDONLY | O_CLOEXEC);
    if (ifd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", in, strerror(errno));
        return -1;
    }
    backup_crypt_writer *w = NULL;
    char *chunk = xmalloc(CHUNK);
    int rc = -1;
    if (!chunk)
        snprintf(err, errlen, "out of memory");
    else
        rc = backup_crypt_writer_new(k, fd, m, &w, err, errlen);
    while (rc == 0) {
        ssize_t n = read_full(ifd, chunk, CHUNK);
        if (n < 0) {
            snprintf(err, errlen, "cannot read %s: %s", in, strerror(errno));
            rc = -1;
        } else if (n == 0) {
            break;
        } else {
            rc = backup_crypt_write(w, chunk, (size_t)n, err, errlen);
        }
    }
    if (rc == 0)
        rc = backup_crypt_writer_finish(w, err, errlen);
    backup_crypt_writer_free(w);
    free(chunk);
    close(ifd);
    return rc;
}

/* ---- reading ---- */

static int hex_member(const json_t *o, const char *key, unsigned char *out, size_t len)
{
    const char *s = json_string_value(json_object_get(o, key));
    size_t n;
    return s && strlen(s) == 2 * len && sodium_hex2bin(out, len, s, 2 * len, NULL, &n, NULL) == 0 && n == len ? 0 : -1;
}

static int uint_member(const json_t *o, const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < min ||
        (uint64_t)json_integer_value(v) > max)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int parse_encryption(const json_t *e, backup_crypt_header *h, char *why, size_t wlen)
{
    json_t *version = json_object_get(e, "format_version");
    const char *cipher = json_string_value(json_object_get(e, "cipher"));
    const char *key = json_string_value(json_object_get(e, "key"));
    uint64_t chunk;
    if (!json_is_integer(version) || json_integer_value(version) != 1) {
        snprintf(why, wlen, "its encryption format_version is not 1 (a newer musicgraph's file?)");
        return -1;
    }
    if (!cipher || strcmp(cipher, CIPHER) != 0) {
        snprintf(why, wlen, "its cipher is not \"%s\"", CIPHER);
        return -1;
    }
    if (uint_member(e, "chunk_bytes", CHUNK_MIN, CHUNK_MAX, &chunk) != 0) {
        snprintf(why, wlen, "its chunk_bytes is not a number from %u to %u", CHUNK_MIN, CHUNK_MAX);
        return -1;
    }
    h->chunk_bytes = (size_t)chunk;
    if (key && strcmp(key, "passphrase") == 0) {
        const char *kdf = json_string_value(json_object_get(e, "kdf"));
        h->passphrase = 1;
        if (!kdf || strcmp(kdf, KDF) != 0 || hex_member(e, "salt", h->salt, sizeof h->salt) != 0 ||
            uint_member(e, "opslimit", crypto_pwhash_OPSLIMIT_MIN, OPSLIMIT_MAX, &h->opslimit) != 0 ||
            uint_member(e, "memlimit", crypto_pwhash_MEMLIMIT_MIN, MEMLIMIT_MAX, &h->memlimit) != 0) {
            snprintf(why, wlen,
                     "its key derivation is not %s with a 16-byte salt, at most %u passes and %u MiB of memory", KDF,
                     OPSLIMIT_MAX, MEMLIMIT_MAX >> 20);
            return -1;
        }
    } else if (!key || strcmp(key, "key-file") != 0) {
        snprintf(why, wlen, "its key is neither \"passphrase\" nor \"key-file\"");
        return -1;
    }
    if (hex_member(e, "key_check", h->key_check, sizeof h->key_check) != 0) {
        snprintf(why, wlen, "its key_check is not 32 hexadecimal characters");
        return -1;
    }
    return 0;
}

int backup_crypt_parse_header(const char *name, const char *data, size_t len, backup_crypt_header *h, char *err,
                              size_t errlen)
{
    memset(h, 0, sizeof *h);
    const char *nl = memchr(data, '\n', len < BACKUP_CRYPT_LINE_MAX ? len : BACKUP_CRYPT_LINE_MAX);
    if (!backup_crypt_is(data, len) || !nl) {
        snprintf(err, errlen, "%s: its encryption header is %s", name,
                 nl ? "not one of musicgraph's" : "cut short or longer than a musicgraph header");
        return -1;
    }
    h->line_len = (size_t)(nl - data) + 1;
    json_error_t je;
    json_t *j = json_loadb(data, h->line_len, JSON_REJECT_DUPLICATES, &je);
    json_t *e = json_object_get(j, "encrypted"), *m = json_object_get(j, "manifest");
    char why[512] = "";
    int rc = -1;
    if (!j)
        snprintf(why, sizeof why, "is not valid JSON (%s)", je.text);
    else if (!json_is_object(e) || !json_is_object(m) || json_object_size(j) != 2)
        snprintf(why, sizeof why, "must hold exactly \"encrypted\" and \"manifest\" objects");
    else if (parse_encryption(e, h, why, sizeof why) == 0) {
        char *text = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
        buf doc = BUF_INIT;
        buf_printf(&doc, "{\"manifest\":%s}", text ? text : "null");
        free(text);
        rc = buf_failed(&doc) ? -1 : backup_decode_manifest(name, doc.data, doc.len, &h->manifest, err, errlen);
        buf_free(&doc);
        json_decref(j);
        return rc;
    }
    json_decref(j);
    snprintf(err, errlen, "%s: its encryption header %s", name, why);
    return rc;
}

static int open_encrypted(const char *path, int64_t max_bytes, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
    } else if ((int64_t)st.st_size > max_bytes) {
        snprintf(err, errlen,
                 "%s is %lld bytes, larger than the limit of %lld (MUSICGRAPH_BACKUP_MAX_ARCHIVE_BYTES raises it)",
                 path, (long long)st.st_size, (long long)max_bytes);
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

/* The chunks after the stream header: each decrypted and written to out_fd. */
static int decrypt_chunks(int fd, int out_fd, crypto_secretstream_xchacha20poly1305_state *st,
                          const backup_crypt_header *h, const char *line, const char *path, char *err, size_t errlen)
{
    size_t piece = h->chunk_bytes + ABYTES;
    unsigned char *cipher = xmalloc(piece), *plain = xmalloc(h->chunk_bytes);
    int rc = cipher && plain ? 1 : -1;
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
    for (size_t i = 0; rc > 0; i++) {
        ssize_t n = read_full(fd, cipher, piece);
        unsigned long long plen;
        unsigned char tag;
        if (n < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            rc = -1;
        } else if ((size_t)n < ABYTES) {
            snprintf(err, errlen,
                     "%s: the encrypted stream ends before its final chunk: the file was cut short, refusing it", path);
            rc = -1;
        } else if (crypto_secretstream_xchacha20poly1305_pull(st, plain, &plen, &tag, cipher, (size_t)n,
                                                              i == 0 ? (const unsigned char *)line : NULL,
                                                              i == 0 ? h->line_len : 0) != 0) {
            if (i == 0)
                snprintf(err, errlen,
                         "%s: the encrypted data does not belong to its readable header (a header swapped from "
                         "another backup, or edited), or its first chunk was altered or cut short: refusing it",
                         path);
            else if ((size_t)n < piece)
                snprintf(err, errlen,
                         "%s: the encrypted stream ends inside chunk %zu, or that chunk was altered: the file was cut "
                         "short or damaged, refusing it",
                         path, i + 1);
            else
                snprintf(err, errlen,
                         "%s: encrypted chunk %zu was altered or damaged (it fails authentication): refusing it", path,
                         i + 1);
            rc = -1;
        } else if (fs_write_all(out_fd, plain, (size_t)plen) != 0) {
            snprintf(err, errlen, "cannot write the decrypted backup: %s", strerror(errno));
            rc = -1;
        } else if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
            char extra;
            ssize_t more = (size_t)n == piece ? read_full(fd, &extra, 1) : 0;
            if (more != 0) {
                snprintf(err, errlen, "%s: bytes follow the encrypted stream's final chunk: refusing it", path);
                rc = -1;
            } else {
                rc = 0;
            }
        } else if ((size_t)n < piece) {
            snprintf(err, errlen,
                     "%s: the encrypted stream ends before its final chunk: the file was cut short, refusing it", path);
            rc = -1;
        }
    }
    if (plain)
        sodium_memzero(plain, h->chunk_bytes);
    free(plain);
    free(cipher);
    return rc;
}

int backup_crypt_decrypt_file(const backup_crypt *k, const char *path, int64_t max_bytes, int out_fd,
                              backup_crypt_header *h, char *err, size_t errlen)
{
    int fd = open_encrypted(path, max_bytes, err, errlen);
    if (fd < 0)
        return -1;
    char *line = xmalloc(BACKUP_CRYPT_LINE_MAX);
    ssize_t n = line ? pread(fd, line, BACKUP_CRYPT_LINE_MAX, 0) : -1;
    int rc = -1;
    if (n < 0)
        snprintf(err, errlen, "cannot read %s: %s", path, line ? strerror(errno) : "out of memory");
    else
        rc = backup_crypt_parse_header(path, line, (size_t)n, h, err, errlen);
    if (rc == 0 && !k) {
        snprintf(err, errlen,
                 "%s is encrypted (with a %s) and no key is configured: set MUSICGRAPH_BACKUP_PASSPHRASE_FILE or "
                 "MUSICGRAPH_BACKUP_KEY_FILE to the one it was made with",
                 path, h->passphrase ? "passphrase" : "key file");
        rc = -1;
    } else if (rc == 0 && k->passphrase != h->passphrase) {
        snprintf(err, errlen,
                 "%s was encrypted with a %s, but a %s is configured: set MUSICGRAPH_BACKUP_%s_FILE to the one it "
                 "was made with",
                 path, h->passphrase ? "passphrase" : "key file", k->passphrase ? "passphrase" : "key file",
                 h->passphrase ? "PASSPHRASE" : "KEY");
        rc = -1;
    }
    unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES], check[16], stream_header[STREAM_HEADER];
    if (rc == 0)
        rc = derive(k, h, key, err, errlen);
    if (rc == 0) {
        key_check(key, check);
        if (sodium_memcmp(check, h->key_check, sizeof check) != 0) {
            snprintf(err, errlen, "%s: wrong %s: the configured %s is not the one this backup was encrypted with", path,
                     h->passphrase ? "passphrase" : "key",
                     h->passphrase ? "MUSICGRAPH_BACKUP_PASSPHRASE" : "MUSICGRAPH_BACKUP_KEY");
            rc = -1;
        }
    }
    crypto_secretstream_xchacha20poly1305_state st;
    if (rc == 0) {
        if (lseek(fd, (off_t)h->line_len, SEEK_SET) < 0 ||
            read_full(fd, stream_header, sizeof stream_header) != (ssize_t)sizeof stream_header ||
            crypto_secretstream_xchacha20poly1305_init_pull(&st, stream_header, key) != 0) {
            snprintf(err, errlen,
                     "%s: the encrypted stream ends before its final chunk: the file was cut short, refusing it", path);
            rc = -1;
        }
    }
    if (rc == 0)
        rc = decrypt_chunks(fd, out_fd, &st, h, line, path, err, errlen);
    sodium_memzero(key, sizeof key);
    sodium_memzero(&st, sizeof st);
    free(line);
    close(fd);
    return rc;
}
