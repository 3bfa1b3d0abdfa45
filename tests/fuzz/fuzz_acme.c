/*
 * fuzz_acme.c — libFuzzer target for what an ACME CA sends back
 * (ops/acme_parse.c, ops/acme_crypto.c): the directory, orders,
 * authorizations, problem documents and the PEM certificate chain.
 *
 * The first byte picks the parser, the rest is the response body.
 * Properties: no crash or sanitizer error on any input; what a parser
 * accepts is shaped as the client relies on (URLs are http(s) without
 * spaces, a challenge token is base64url, since it becomes a path on our
 * server, every field is a terminated string within its buffer).
 */
#include "ops/acme.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_string(const char *s, size_t cap)
{
    if (strnlen(s, cap) == cap)
        abort();
}

static void check_url(const char *s, size_t cap)
{
    check_string(s, cap);
    if (*s && strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
        abort();
    if (strpbrk(s, " \r\n\t"))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char err[512], text[256];
    switch (data[0] % 5) {
    case 0: {
        acme_directory d;
        if (acme_parse_directory(body, len, &d, err, sizeof err) == 0) {
            check_url(d.new_nonce, sizeof d.new_nonce);
            check_url(d.new_order, sizeof d.new_order);
            check_url(d.renewal_info, sizeof d.renewal_info);
        }
        break;
    }
    case 1: {
        acme_order o;
        if (acme_parse_order(body, len, &o, err, sizeof err) == 0) {
            check_url(o.finalize, sizeof o.finalize);
            check_url(o.certificate, sizeof o.certificate);
            for (size_t i = 0; i < o.nauthz; i++)
                check_url(o.authz[i], 1024);
            check_string(o.error, sizeof o.error);
            acme_order_free(&o);
        }
        break;
    }
    case 2: {
        acme_authz a;
        if (acme_parse_authorization(body, len, "http-01", &a, err, sizeof err) == 0) {
            check_url(a.challenge_url, sizeof a.challenge_url);
            check_string(a.name, sizeof a.name);
            if (strspn(a.token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(a.token))
                abort();
        }
        break;
    }
    case 3:
        acme_problem_text(body, len, text, sizeof text);
        check_string(text, sizeof text);
        for (const char *c = text; *c; c++)
            if ((unsigned char)*c < ' ')
                abort(); /* it goes into a log line */
        break;
    default: {
        static const char *const names[] = {"musicgraph.test"};
        acme_cert_info info;
        if (acme_chain_check(body, len, names, 1, &info, err, sizeof err) == 0 &&
            (info.certificates < 1 || info.not_after <= info.not_before))
            abort();
        check_string(err, sizeof err);
    }
    }
    return 0;
}
