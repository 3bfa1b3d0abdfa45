/*
 * fuzz_backup.c — libFuzzer target for what reads a backup file before
 * anything is trusted: the streaming gzip reader (core/gzip.c), the head of
 * a document — manifest, signature member, payload start
 * (backup_decode_head) — the whole document (backup_decode), and the
 * envelope of an encrypted backup (backup_crypt.h): its readable header
 * line and, under a fixed raw key, the chunked stream after it.
 *
 * The input goes three ways. As gzip, pushed in pieces of varying size into
 * a gzip_reader whose sink counts the bytes and stops past 1 MiB (the limit
 * must hold however the input is cut). As a document's head: when it is
 * accepted, its offsets must lie inside the input and the signature be
 * base64. As a whole document: when accepted, its row counts must be the
 * manifest's. As an encrypted backup: an accepted header line lies inside the
 * input and asks for bounded costs; decrypting (only key-file headers:
 * Argon2id per input would be too slow) never writes more than the input
 * holds. A refusal must always say why.
 *
 * Build and run: tests/fuzz/run fuzz_backup (FUZZ_SECONDS bounds it).
 */
#include "core/errors.h"
#include "core/gzip.h"
#include "ops/backup_crypt.h"
#include "ops/backup_format.h"

#include <sys/mman.h>
#include <unistd.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SINK_MAX (1u << 20)

static int count_bytes(void *ctx, const char *data, size_t len, char *err, size_t errlen)
{
    (void)data;
    size_t *total = ctx;
    *total += len;
    if (*total > SINK_MAX) {
        snprintf(err, errlen, "too large");
        return -1;
    }
    return 0;
}

static void refused_with_reason(const char *what, const char *err)
{
    if (!err[0]) {
        fprintf(stderr, "fuzz_backup: %s refused without a reason\n", what);
        abort();
    }
}

static void gzip_pieces(const uint8_t *data, size_t size)
{
    size_t total = 0;
    char err[512] = "";
    gzip_reader *r = gzip_reader_new("fuzz", count_bytes, &total);
    if (!r)
        return;
    size_t at = 0, piece = size ? (size_t)data[0] % 97 + 1 : 1;
    int rc = 0;
    while (rc == 0 && at < size) {
        size_t n = size - at < piece ? size - at : piece;
        rc = gzip_reader_push(r, data + at, n, err, sizeof err);
        at += n;
    }
    if (rc == 0)
        rc = gzip_reader_finish(r, err, sizeof err);
    if (rc != 0)
        refused_with_reason("gzip", err);
    if (total > SINK_MAX + (64u << 10)) {
        fprintf(stderr, "fuzz_backup: the sink's limit did not stop the stream (%zu bytes)\n", total);
        abort();
    }
    gzip_reader_free(r);
}

/* The input as an encrypted backup, decrypted under a fixed key into a
 * memory file. */
static void encrypted(const uint8_t *data, size_t size)
{
    char err[8192] = "";
    backup_crypt_header h;
    if (backup_crypt_parse_header("fuzz", (const char *)data, size, &h, err, sizeof err) != 0) {
        refused_with_reason("encryption header", err);
        return;
    }
    if (h.line_len > size || h.chunk_bytes < 1024 || h.chunk_bytes > (4u << 20) || h.memlimit > (1u << 30)) {
        fprintf(stderr, "fuzz_backup: an encryption header out of bounds\n");
        abort();
    }
    if (h.passphrase)
        return;
    static backup_crypt *key;
    if (!key && backup_crypt_key_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &key, err,
                                     sizeof err) != 0)
        abort();
    int in = memfd_create("in", 0), out = memfd_create("out", 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", in);
    if (in < 0 || out < 0 || write(in, data, size) != (ssize_t)size)
        abort();
    err[0] = '\0';
    if (backup_crypt_decrypt_file(key, path, INT64_MAX, out, &h, err, sizeof err) != 0)
        refused_with_reason("encrypted stream", err);
    if (lseek(out, 0, SEEK_END) > (off_t)size) {
        fprintf(stderr, "fuzz_backup: more plaintext than ciphertext\n");
        abort();
    }
    close(in);
    close(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (backup_crypt_is(data, size)) {
        encrypted(data, size);
        return 0;
    }
    const char *text = (const char *)data;
    char err[8192] = "";
    gzip_pieces(data, size);

    backup_head h;
    int rc = backup_decode_head("fuzz", text, size, &h, err, sizeof err);
    if (rc == 0) {
        if (h.manifest_at + h.manifest_len > size || h.payload_at > size ||
            strspn(h.signature, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
                strlen(h.signature)) {
            fprintf(stderr, "fuzz_backup: a head out of bounds\n");
            abort();
        }
    } else if (rc != MG_ERR_NOT_FOUND) {
        refused_with_reason("head", err);
    }

    backup_contents c;
    err[0] = '\0';
    if (backup_decode("fuzz", text, size, 0, 4096, &c, err, sizeof err) == 0) {
        store_counts have = backup_counts(&c.dump);
        char what[256];
        if (backup_counts_differ(&have, &c.manifest.counts, what, sizeof what)) {
            fprintf(stderr, "fuzz_backup: accepted with other counts than its manifest's: %s\n", what);
            abort();
        }
        backup_contents_free(&c);
    } else {
        refused_with_reason("document", err);
    }
    return 0;
}
