/*
 * clients.c — open connections per client address.
 *
 * Without a per-client limit, one address holding thousands of idle sockets
 * reaches the global cap and everybody else is refused. Each address may hold
 * at most its limit; reverse proxies listed in MUSICGRAPH_TRUSTED_PROXIES are
 * exempt (they carry everybody's connections). Accepts and closes are rare
 * next to requests, so one mutex over a small chained hash is enough.
 */
#include "http/internal.h"
#include "core/xalloc.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024

typedef struct client {
    struct client *next;
    http_client_key key;
    int open;
} client;

static client *buckets[BUCKETS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned bucket_of(const http_client_key *k)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < sizeof k->addr; i++)
        h = (h ^ k->addr[i]) * 16777619u;
    return (h ^ (uint32_t)k->family) % BUCKETS;
}

int http_client_key_of(const struct sockaddr *sa, http_client_key *key)
{
    memset(key, 0, sizeof *key);
    key->family = sa->sa_family;
    if (sa->sa_family == AF_INET)
        memcpy(key->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    else if (sa->sa_family == AF_INET6)
        memcpy(key->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    else
        return -1;
    return 0;
}

int http_clients_acquire(const http_client_key *key, int limit)
{
    pthread_mutex_lock(&lock);
    client **slot = &buckets[bucket_of(key)];
    while (*slot && memcmp(&(*slot)->key, key, sizeof *key) != 0)
        slot = &(*slot)->next;
    int admitted = 0;
    if (!*slot) {
        client *c = xcalloc(1, sizeof *c);
        if (c) {
            c->key = *key;
            *slot = c;
        }
    }
    if (*slot && (*slot)->open < limit) {
        (*slot)->open++;
        admitted = 1;
    } else if (*slot && (*slot)->open == 0) {
        client *gone = *slot; /* limit 0: nothing to keep */
        *slot = gone->next;
        free(gone);
    }
    pthread_mutex_unlock(&lock);
    return admitted;
}

void http_clients_release(const http_client_key *key)
{
    pthread_mutex_lock(&lock);
    client **slot = &buckets[bucket_of(key)];
    while (*slot && memcmp(&(*slot)->key, key, sizeof *key) != 0)
        slot = &(*slot)->next;
    if (*slot && --(*slot)->open <= 0) {
        client *gone = *slot;
        *slot = gone->next;
        free(gone);
    }
    pthread_mutex_unlock(&lock);
}
