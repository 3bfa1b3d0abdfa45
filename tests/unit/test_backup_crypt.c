/*
 * test_backup_crypt.c — the encrypted envelope of backups (ops/backup_crypt):
 * round trips of lengths around the chunk size (empty, one byte, exactly
 * one and two chunks, several and a half) under a raw key and a passphrase,
 * and the refusals: a wrong key, a cut at every chunk boundary and inside
 * a chunk, a flipped byte in the header line, the stream header and each
 * chunk, bytes after the end, and readable lines a hostile file could carry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ops/backup_crypt.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK 65536

static char dir[] = "/tmp/test-backup-crypt-XXXXXX";

static backup_manifest sample_manifest(void)
{
    backup_manifest m;
    memset(&m, 0, sizeof m);
    m.format_version = 2;
    snprintf(m.kind, sizeof m.kind, "backup");
    snprintf(m.schema_version, sizeof m.schema_version, "0004_acme");
    snprintf(m.program_version, sizeof m.program_version, "test");
    snprintf(m.created_at, sizeof m.created_at, "2026-12-06T10:00:00Z");
    snprintf(m.tag, sizeof m.tag, "daily");
    snprintf(m.backend, sizeof m.backend, "sqlite");
    m.counts.genres = 3;
    m.counts.users = 1;
    memset(m.payload_sha256, 'a', 64);
    snprintf(m.signing_key, sizeof m.signing_key, "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    return m;
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static unsigned char *read_whole(const char *path, size_t *len)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    unsigned char *p = malloc((size_t)st.st_size + 1);
    int fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return p;
}

/* Encrypts len bytes of plain under k into DIR/enc (the writer fed in
 * uneven pieces, as gzip output comes). */
static void encrypt(const backup_crypt *k, const unsigned char *plain, size_t len, const char *enc)
{
    backup_manifest m = sample_manifest();
    char err[512];
    int fd = open(enc, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    backup_crypt_writer *w;
    assert_int_equal(backup_crypt_writer_new(k, fd, &m, &w, err, sizeof err), 0);
    for (size_t at = 0, piece = 1; at < len; at += piece, piece = piece * 3 + 7) {
        size_t n = len - at < piece ? len - at : piece;
        assert_int_equal(backup_crypt_write(w, (const char *)plain + at, n, err, sizeof err), 0);
        if (n < piece)
            break;
    }
    assert_int_equal(backup_crypt_writer_finish(w, err, sizeof err), 0);
    backup_crypt_writer_free(w);
    close(fd);
}

/* Decrypts enc into DIR/plain: 0 with the bytes in *out, or -1 with err. */
static int decrypt(const backup_crypt *k, const char *enc, unsigned char **out, size_t *len, char *err, size_t errlen)
{
    char plain[128];
    snprintf(plain, sizeof plain, "%s/plain", dir);
    int fd = open(plain, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    backup_crypt_header h;
    int rc = backup_crypt_decrypt_file(k, enc, INT64_MAX, fd, &h, err, errlen);
    close(fd);
    if (rc == 0) {
        backup_manifest m = sample_manifest();
        assert_memory_equal(&h.manifest, &m, sizeof m);
        *out = read_whole(plain, len);
    }
    return rc;
}

static backup_crypt *raw_key(unsigned char byte)
{
    char hex[65];
    for (int i = 0; i < 64; i++)
        hex[i] = "0123456789abcdef"[(byte + i) % 16];
    hex[64] = '\0';
    backup_crypt *k;
    char err[256];
    assert_int_equal(backup_crypt_key_hex(hex, &k, err, sizeof err), 0);
    return k;
}

static void round_trips(void **state)
{
    (void)state;
    static const size_t lengths[] = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + CHUNK / 2};
    backup_crypt *k = raw_key(1);
    char enc[128], err[512];
    snprintf(enc, sizeof enc, "%s/enc", dir);
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        size_t len = lengths[i], got;
        unsigned char *plain = malloc(len + 1), *back;
        randombytes_buf(plain, len);
        encrypt(k, plain, len, enc);
        assert_int_equal(decrypt(k, enc, &back, &got, err, sizeof err), 0);
        assert_int_equal(got, len);
        assert_memory_equal(back, plain, len);
        free(back);
        free(plain);
    }
    backup_crypt_free(k);
}

static void passphrase_round_trip_and_wrong_passphrase(void **state)
{
    (void)state;
    backup_crypt *k = backup_crypt_passphrase("correct horse"), *wrong = backup_crypt_passphrase("correct horsE");
    char enc[128], err[512];
    snprintf(enc, sizeof enc, "%s/enc", dir);
    unsigned char plain[5000], *back;
    size_t got;
    randombytes_buf(plain, sizeof plain);
    encrypt(k, plain, sizeof plain, enc);
    assert_int_equal(decrypt(k, enc, &back, &got, err, sizeof err), 0);
    assert_int_equal(got, sizeof plain);
    assert_memory_equal(back, plain, sizeof plain);
    free(back);
    assert_int_equal(decrypt(wrong, enc, &back, &got, err, sizeof err), -1);
    assert_non_null(strstr(err, "wrong passphrase"));
    backup_crypt *raw = raw_key(2);
    assert_int_equal(decrypt(raw, enc, &back, &got, err, sizeof err), -1);
    assert_non_null(strstr(err, "was encrypted with a passphrase, but a key file is configured"));
    assert_int_equal(decrypt(NULL, enc, &back, &got, err, sizeof err), -1);
    assert_non_null(strstr(err, "no key is configured"));
    backup_crypt_free(raw);
    backup_crypt_free(k);
    backup_crypt_free(wrong);
}

static void damaged_streams_are_refused(void **state)
{
    (void)state;
    backup_crypt *k = raw_key(3), *other = raw_key(4);
    char enc[128], bad[128], err[512];
    snprintf(enc, sizeof enc, "%s/enc", dir);
    snprintf(bad, sizeof bad, "%s/bad", dir);
    size_t len = 3 * CHUNK + 100, flen, got;
    unsigned char *plain = malloc(len), *back;
    randombytes_buf(plain, len);
    encrypt(k, plain, len, enc);
    unsigned char *file = read_whole(enc, &flen);
    size_t line = (size_t)((unsigned char *)memchr(file, '\n', flen) - file) + 1, body = line + 24;
    size_t piece = CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES;
    assert_int_equal(flen, body + 3 * piece + 100 + crypto_secretstream_xchacha20poly1305_ABYTES);

    assert_int_equal(decrypt(other, enc, &back, &got, err, sizeof err), -1);
    assert_non_null(strstr(err, "wrong key"));
    /* Cut anywhere: at every chunk boundary, inside a chunk, in the stream header, one byte short. */
    const size_t cuts[] = {line,    line + 5, body, body + piece, body + 2 * piece, body + 3 * piece, body + piece + 17,
                           flen - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_file(bad, file, cuts[i]);
        err[0] = '\0';
        assert_int_equal(decrypt(k, bad, &back, &got, err, sizeof err), -1);
        assert_true(strstr(err, "cut short") != NULL || strstr(err, "encryption header") != NULL);
    }
    /* A flipped bit anywhere after the key check is caught. */
    const size_t flips[] = {5, line - 3, line + 3, body + 1, body + piece + 1, body + 3 * piece + 5, flen - 1};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        file[flips[i]] ^= 0x10;
        write_file(bad, file, flen);
        file[flips[i]] ^= 0x10;
        err[0] = '\0';
        assert_int_equal(decrypt(k, bad, &back, &got, err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    /* Bytes after the final chunk. */
    unsigned char *longer = malloc(flen + 1);
    memcpy(longer, file, flen);
    longer[flen] = 'x';
    write_file(bad, longer, flen + 1);
    assert_int_equal(decrypt(k, bad, &back, &got, err, sizeof err), -1);
    free(longer);
    free(file);
    free(plain);
    backup_crypt_free(k);
    backup_crypt_free(other);
}

static void hostile_header_lines(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "{\"encrypted\":",
        "{\"encrypted\":{}}\n",
        "{\"encrypted\":[1],\"manifest\":{}}\n",
        "{\"encrypted\":{\"format_version\":2,\"cipher\":\"xchacha20poly1305-secretstream\"},\"manifest\":{}}\n",
        "{\"encrypted\":{\"format_version\":1,\"cipher\":\"aes\"},\"manifest\":{}}\n",
        "{\"encrypted\":{\"format_version\":1,\"cipher\":\"xchacha20poly1305-secretstream\",\"chunk_bytes\":1},"
        "\"manifest\":{}}\n",
        "{\"encrypted\":{\"format_version\":1,\"cipher\":\"xchacha20poly1305-secretstream\",\"chunk_bytes\":65536,"
        "\"key\":\"passphrase\",\"kdf\":\"argon2id13\",\"salt\":\"00000000000000000000000000000000\",\"opslimit\":3,"
        "\"memlimit\":1099511627776,\"key_check\":\"00000000000000000000000000000000\"},\"manifest\":{}}\n",
        "{\"encrypted\":{\"format_version\":1,\"cipher\":\"xchacha20poly1305-secretstream\",\"chunk_bytes\":65536,"
        "\"key\":\"key-file\",\"key_check\":\"zz\"},\"manifest\":{}}\n",
        "{\"encrypted\":{\"format_version\":1,\"cipher\":\"xchacha20poly1305-secretstream\",\"chunk_bytes\":65536,"
        "\"key\":\"key-file\",\"key_check\":\"00000000000000000000000000000000\"},\"manifest\":{\"format\":1}}\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        backup_crypt_header h;
        char err[1024] = "";
        assert_int_equal(backup_crypt_parse_header("x", lines[i], strlen(lines[i]), &h, err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
}

static void keys_and_names(void **state)
{
    (void)state;
    backup_crypt *k;
    char err[256];
    assert_int_equal(backup_crypt_key_hex("00ff", &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "64 hexadecimal characters"));
    assert_int_equal(
        backup_crypt_key_hex("g000000000000000000000000000000000000000000000000000000000000000", &k, err, sizeof err),
        -1);
    assert_true(backup_crypt_name_is("musicgraph-20261206T100000Z.json.gz.enc"));
    assert_false(backup_crypt_name_is("musicgraph-20261206T100000Z.json.gz"));
    time_t t;
    char tag[65];
    assert_int_equal(backup_parse_name("musicgraph-20261206T100000Z-daily.json.gz.enc", &t, NULL, tag, sizeof tag), 0);
    assert_string_equal(tag, "daily");
    assert_int_equal(backup_parse_name("musicgraph-20261206T100000Z.json.enc", &t, NULL, tag, sizeof tag), -1);
}

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 || !mkdtemp(dir) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *files[] = {"enc", "bad", "plain"};
    char path[128];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips),
        cmocka_unit_test(passphrase_round_trip_and_wrong_passphrase),
        cmocka_unit_test(damaged_streams_are_refused),
        cmocka_unit_test(hostile_header_lines),
        cmocka_unit_test(keys_and_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
