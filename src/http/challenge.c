/*
 * challenge.c — answers ACME http-01 challenges (RFC 8555 section 8.3) and
 * redirects the rest of plain HTTP to HTTPS.
 *
 * The certificate manager (server/certificates.c) publishes a token with
 * its key authorization while the CA validates, and withdraws it after;
 * any loop answers GET /.well-known/acme-challenge/TOKEN from this small
 * table. It is consulted before routing, so a challenge is answered on
 * every listener, plain or TLS, whatever the routes.
 */
#include "http/internal.h"

#include <h2o.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define CHALLENGE_PREFIX "/.well-known/acme-challenge/"
#define MAX_CHALLENGES   32

typedef struct challenge {
    char token[256];
    char key_auth[512];
} challenge;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static challenge table[MAX_CHALLENGES];

int http_acme_challenge_set(const char *token, const char *key_auth)
{
    if (strlen(token) >= sizeof table[0].token || strlen(key_auth) >= sizeof table[0].key_auth || !*token)
        return -1;
    int rc = -1;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_CHALLENGES && rc != 0; i++)
        if (!table[i].token[0] || strcmp(table[i].token, token) == 0) {
            strcpy(table[i].token, token);
            strcpy(table[i].key_auth, key_auth);
            rc = 0;
        }
    pthread_mutex_unlock(&lock);
    return rc;
}

void http_acme_challenge_remove(const char *token)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_CHALLENGES; i++)
        if (strcmp(table[i].token, token) == 0)
            memset(&table[i], 0, sizeof table[i]);
    pthread_mutex_unlock(&lock);
}

int http_acme_answer(http_request *r)
{
    h2o_req_t *req = r->req;
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    size_t prefix = strlen(CHALLENGE_PREFIX);
    if (plen <= prefix || memcmp(req->path.base, CHALLENGE_PREFIX, prefix) != 0)
        return 0;
    r->route = CHALLENGE_PREFIX "{token}";
    char key_auth[512] = "";
    const char *token = req->path.base + prefix;
    size_t tlen = plen - prefix;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_CHALLENGES; i++)
        if (table[i].token[0] && strlen(table[i].token) == tlen && memcmp(table[i].token, token, tlen) == 0)
            strcpy(key_auth, table[i].key_auth);
    pthread_mutex_unlock(&lock);
    if (!key_auth[0]) {
        http_problem(r, 404, "Not Found", "no ACME challenge with this token is pending", NULL);
        return 1;
    }
    http_respond(r, 200, "application/octet-stream", key_auth, strlen(key_auth));
    return 1;
}

void http_redirect_to_https(http_request *r)
{
    h2o_req_t *req = r->req;
    h2o_iovec_t host = req->input.authority;
    /* The HTTPS listener's port is not this one's: browsers come to 443. */
    size_t hlen = host.len;
    const char *colon = memrchr(host.base, ':', host.len);
    if (colon && !memchr(colon, ']', host.len - (size_t)(colon - host.base)))
        hlen = (size_t)(colon - host.base);
    r->route = "-";
    if (hlen == 0) {
        http_problem(r, 400, "Bad Request", "a Host header is needed to redirect to HTTPS", NULL);
        return;
    }
    char location[2048];
    int n = snprintf(location, sizeof location, "https://%.*s%.*s", (int)hlen, host.base, (int)req->path.len,
                     req->path.base);
    if (n < 0 || (size_t)n >= sizeof location) {
        http_problem(r, 414, "URI Too Long", "the path is too long to redirect", NULL);
        return;
    }
    http_redirect(r, 308, location);
}
