/*
 * minisign.c — see minisign.h. Follows the format of minisign 0.11 (Debian 12).
 */
#include "ops/minisign.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* The next line of text[*pos..len) without its end of line; NULL at the end. */
static const char *next_line(const char *text, size_t len, size_t *pos, size_t *linelen)
{
    if (*pos >= len)
        return NULL;
    const char *start = text + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *pos += n + (nl ? 1 : 0);
    if (n > 0 && start[n - 1] == '\r')
        n--;
    *linelen = n;
    return start;
}

/* Decodes one base64 line into exactly want bytes. */
static int decode(const char *line, size_t n, unsigned char *out, size_t want)
{
    size_t got = 0;
    if (sodium_base642bin(out, want, line, n, " \t", &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return got == want ? 0 : -1;
}

int minisign_parse_key(const char *text, size_t len, minisign_key *key, char *err, size_t errlen)
{
    size_t pos = 0, n;
    const char *line;
    while ((line = next_line(text, len, &pos, &n))) {
        if (n == 0 || (n >= 18 && memcmp(line, "untrusted comment:", 18) == 0))
            continue;
        unsigned char raw[42];
        if (decode(line, n, raw, sizeof raw) != 0 || memcmp(raw, "Ed", 2) != 0) {
            snprintf(err, errlen, "not a minisign public key (expected the RW… line of minisign.pub)");
            return -1;
        }
        memcpy(key->id, raw + 2, 8);
        memcpy(key->pk, raw + 10, 32);
        return 0;
    }
    snprintf(err, errlen, "the public key is empty");
    return -1;
}

int minisign_verify(const minisign_key *key, const void *msg, size_t msglen, const char *sig, size_t siglen,
                    char *comment, size_t commentlen, char *err, size_t errlen)
{
    static const char trusted[] = "trusted comment: ";
    size_t pos = 0, n1 = 0, n2 = 0, n3 = 0;
    const char *untrusted = next_line(sig, siglen, &pos, &n1);
    const char *sigline = next_line(sig, siglen, &pos, &n2);
    const char *tline = next_line(sig, siglen, &pos, &n3);
    size_t n4 = 0;
    const char *gline = next_line(sig, siglen, &pos, &n4);
    unsigned char raw[74], global[64];
    if (!untrusted || n1 < 18 || memcmp(untrusted, "untrusted comment:", 18) != 0 || !sigline || !tline ||
        n3 < sizeof trusted - 1 || memcmp(tline, trusted, sizeof trusted - 1) != 0 || !gline) {
        snprintf(err, errlen, "not a minisign signature file");
        return -1;
    }
    if (decode(sigline, n2, raw, sizeof raw) != 0 || decode(gline, n4, global, sizeof global) != 0 ||
        (memcmp(raw, "ED", 2) != 0 && memcmp(raw, "Ed", 2) != 0)) {
        snprintf(err, errlen, "the signature file is damaged");
        return -1;
    }
    if (memcmp(raw + 2, key->id, 8) != 0) {
        snprintf(err, errlen, "signed with another key than the one given (key ids differ)");
        return -1;
    }
    unsigned char hash[crypto_generichash_BYTES_MAX];
    const unsigned char *signed_msg = msg;
    size_t signed_len = msglen;
    if (raw[1] == 'D') { /* "ED": the BLAKE2b-512 hash of the file is signed */
        crypto_generichash(hash, sizeof hash, msg, msglen, NULL, 0);
        signed_msg = hash;
        signed_len = sizeof hash;
    }
    if (crypto_sign_verify_detached(raw + 10, signed_msg, signed_len, key->pk) != 0) {
        snprintf(err, errlen,
                 "the signature does not match the file (the file was changed, or not signed by this key)");
        return -1;
    }
    /* The global signature covers the file's signature and the trusted comment. */
    const char *text = tline + sizeof trusted - 1;
    size_t textlen = n3 - (sizeof trusted - 1);
    unsigned char both[64 + 1024];
    if (textlen > sizeof both - 64) {
        snprintf(err, errlen, "the trusted comment is too long");
        return -1;
    }
    memcpy(both, raw + 10, 64);
    memcpy(both + 64, text, textlen);
    if (crypto_sign_verify_detached(global, both, 64 + textlen, key->pk) != 0) {
        snprintf(err, errlen, "the trusted comment was changed after signing");
        return -1;
    }
    snprintf(comment, commentlen, "%.*s", (int)textlen, text);
    return 0;
}
