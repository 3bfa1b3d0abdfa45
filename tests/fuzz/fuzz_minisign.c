/*
 * fuzz_minisign.c — libFuzzer target for the release signature check
 * (ops/minisign.c), which reads public keys and .minisig files that come
 * from a release store.
 *
 * The input is a public key line, a newline, then a signature file, for the
 * fixed message "musicgraph". Properties: no crash or sanitizer error on any
 * input; when the signature verifies, the trusted comment is a C string
 * within its buffer, and the same signature refuses a different message.
 */
#include "ops/minisign.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        ready = sodium_init() >= 0;
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    if (!nl)
        return 0;
    size_t keylen = (size_t)(nl - text);
    minisign_key key;
    char err[512], comment[1024];
    if (minisign_parse_key(text, keylen, &key, err, sizeof err) != 0)
        return 0;
    const char *sig = nl + 1;
    size_t siglen = size - keylen - 1;
    static const char msg[] = "musicgraph", other[] = "musicgrapH";
    if (minisign_verify(&key, msg, sizeof msg - 1, sig, siglen, comment, sizeof comment, err, sizeof err) == 0) {
        if (strnlen(comment, sizeof comment) == sizeof comment)
            abort();
        if (minisign_verify(&key, other, sizeof other - 1, sig, siglen, comment, sizeof comment, err, sizeof err) == 0)
            abort();
    }
    return 0;
}
