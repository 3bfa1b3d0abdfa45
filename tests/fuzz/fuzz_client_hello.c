/*
 * fuzz_client_hello.c — libFuzzer target for the readers of TLS
 * ClientHello extensions in src/http/alpn_challenge.c (tls-alpn-01): the
 * server_name and ALPN bodies come from any client on the Internet before
 * any authentication.
 *
 * The first byte picks the reader, the rest is the extension body.
 * Properties: no crash or sanitizer error; an accepted name is a C string
 * within its buffer, as long as the bytes that carried it, without a NUL.
 */
#include "http/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const unsigned char *p = data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        int offered = http_alpn_offers_acme(p, len);
        if (offered && !memmem(p, len,
                               "\x0a"
                               "acme-tls/1",
                               11))
            abort();
        return 0;
    }
    char name[256];
    if (http_sni_host_name(p, len, name, sizeof name) == 0) {
        size_t n = strnlen(name, sizeof name);
        if (n == sizeof name || n == 0 || n + 5 > len || memcmp(name, p + 5, n) != 0)
            abort();
    }
    return 0;
}
