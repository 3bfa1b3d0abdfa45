/*
 * proxy.c — who the client is when requests come through reverse proxies.
 *
 * X-Forwarded-For and X-Forwarded-Proto are believed only when the TCP peer
 * is one of the configured trusted proxies (addresses or CIDR ranges);
 * otherwise anyone could claim any address and slip past the login rate
 * limit. The client is the rightmost address in X-Forwarded-For that is not
 * itself a trusted proxy; several X-Forwarded-For headers are one list.
 */
#include "http/internal.h"
#include "core/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <h2o.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROXIES 32

typedef struct cidr {
    int family;
    unsigned char addr[16];
    int bits;
} cidr;

static cidr proxies[MAX_PROXIES];
static int nproxies;

static int parse_address(const char *text, int *family, unsigned char out[16])
{
    if (inet_pton(AF_INET, text, out) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out) == 1) {
        *family = AF_INET6;
        return 0;
    }
    return -1;
}

int http_set_trusted_proxies(const char *list, char *err, size_t errlen)
{
    nproxies = 0;
    char *copy = xstrdup(list ? list : "");
    int rc = 0;
    for (char *save = NULL, *item = strtok_r(copy, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
        if (nproxies == MAX_PROXIES) {
            snprintf(err, errlen, "MUSICGRAPH_TRUSTED_PROXIES: at most %d entries", MAX_PROXIES);
            rc = -1;
            break;
        }
        cidr *c = &proxies[nproxies];
        char *slash = strchr(item, '/');
        if (slash)
            *slash = '\0';
        if (parse_address(item, &c->family, c->addr) != 0) {
            snprintf(err, errlen, "MUSICGRAPH_TRUSTED_PROXIES: '%s' is not an IP address", item);
            rc = -1;
            break;
        }
        int max = c->family == AF_INET ? 32 : 128;
        c->bits = max;
        if (slash) {
            /* Strictly digits: "10.0.0.0/x" once became /0 and trusted everybody. */
            char *end;
            errno = 0;
            long bits = strtol(slash + 1, &end, 10);
            if (slash[1] < '0' || slash[1] > '9' || *end || errno || bits < 0 || bits > max) {
                snprintf(err, errlen, "MUSICGRAPH_TRUSTED_PROXIES: bad prefix length in '%s/%s' (0 to %d)", item,
                         slash + 1, max);
                rc = -1;
                break;
            }
            c->bits = (int)bits;
        }
        nproxies++;
    }
    free(copy);
    if (rc != 0)
        nproxies = 0;
    return rc;
}

static int is_trusted_bytes(int family, const unsigned char a[16])
{
    for (int i = 0; i < nproxies; i++) {
        const cidr *c = &proxies[i];
        if (c->family != family)
            continue;
        int full = c->bits / 8, rest = c->bits % 8;
        if (memcmp(a, c->addr, (size_t)full) != 0)
            continue;
        if (rest && ((a[full] ^ c->addr[full]) & (0xFF << (8 - rest))))
            continue;
        return 1;
    }
    return 0;
}

static int is_trusted(const char *text)
{
    int family;
    unsigned char a[16];
    return nproxies > 0 && parse_address(text, &family, a) == 0 && is_trusted_bytes(family, a);
}

int http_is_trusted_proxy_key(const http_client_key *key)
{
    return nproxies > 0 && is_trusted_bytes(key->family, key->addr);
}

static void peer_address(h2o_req_t *req, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    out[0] = '\0';
    if (sl > 0 && ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)len);
    else if (sl > 0 && ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)len);
}

void http_client_address_into(h2o_req_t *req, char *out, size_t len)
{
    peer_address(req, out, len);
    if (!is_trusted(out))
        return;
    /* Several X-Forwarded-For headers form one list, in order: walk it from
     * the right (the last header's last address first), skipping our own
     * proxies; the first address that is not one of them is the client. */
    ssize_t found[16];
    size_t nfound = 0;
    for (ssize_t i = -1; nfound < 16 && (i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-forwarded-for"), i)) >= 0;)
        found[nfound++] = i;
    while (nfound > 0) {
        h2o_iovec_t v = req->headers.entries[found[--nfound]].value;
        size_t end = v.len;
        while (end > 0) {
            size_t start = end;
            while (start > 0 && v.base[start - 1] != ',')
                start--;
            char item[64];
            size_t a = start, b = end;
            while (a < b && v.base[a] == ' ')
                a++;
            while (b > a && v.base[b - 1] == ' ')
                b--;
            int family;
            unsigned char bin[16];
            if (b - a == 0 || b - a >= sizeof item)
                return; /* garbage in the chain: stop at the last address we could trust */
            memcpy(item, v.base + a, b - a);
            item[b - a] = '\0';
            if (parse_address(item, &family, bin) != 0)
                return;
            snprintf(out, len, "%s", item);
            if (!is_trusted_bytes(family, bin))
                return;
            end = start > 0 ? start - 1 : 0;
        }
    }
}

const char *http_client_address(http_request *r)
{
    char text[64];
    http_client_address_into(r->req, text, sizeof text);
    return h2o_strdup(&r->req->pool, text, strlen(text)).base;
}

int http_is_secure(http_request *r)
{
    if (r->req->scheme == &H2O_URL_SCHEME_HTTPS)
        return 1;
    char peer[64];
    peer_address(r->req, peer, sizeof peer);
    if (!is_trusted(peer))
        return 0;
    ssize_t i = h2o_find_header_by_str(&r->req->headers, H2O_STRLIT("x-forwarded-proto"), -1);
    return i >= 0 && h2o_lcstris(r->req->headers.entries[i].value.base, r->req->headers.entries[i].value.len,
                                 H2O_STRLIT("https"));
}
