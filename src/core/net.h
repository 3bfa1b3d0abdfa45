/*
 * net.h — listening addresses as the configuration writes them.
 */
#ifndef MG_NET_H
#define MG_NET_H

#include <stddef.h>
#include <sys/socket.h>

/* Parses "host:port" ("127.0.0.1:8080", "[::1]:8080", ":8080", "*:8080",
 * "localhost:8080") into a socket address; -1 with a message otherwise. */
int net_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *socklen, char *err, size_t errlen);

#endif
