/*
 * net.c — parsing listening addresses (see net.h).
 */
#include "core/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int net_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *socklen, char *err, size_t errlen)
{
    memset(ss, 0, sizeof *ss);
    char host[128];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon[1] == '\0') {
        snprintf(err, errlen, "listen address '%s' must be HOST:PORT", listen);
        return -1;
    }
    size_t hlen = (size_t)(colon - listen);
    if (hlen >= sizeof host) {
        snprintf(err, errlen, "listen address '%s' is too long", listen);
        return -1;
    }
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errlen, "listen port in '%s' must be a number from 0 to 65535", listen);
        return -1;
    }
    if (host[0] == '[' && hlen >= 2 && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1) {
            snprintf(err, errlen, "'%s' is not an IPv6 address", host + 1);
            return -1;
        }
        *socklen = sizeof *a6;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (host[0] == '\0' || strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0)
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0)
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
        snprintf(err, errlen, "'%s' is not an IPv4 address (use [addr] for IPv6)", host);
        return -1;
    }
    *socklen = sizeof *a4;
    return 0;
}
