/*
 * healthcheck.c — see healthcheck.h.
 */
#include "ops/healthcheck.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_healthcheck_usage[] =
    "usage: musicgraph healthcheck [--url URL] [--timeout SECS] [options]\n\n"
    "Asks GET /healthz of the server listening at MUSICGRAPH_LISTEN on this machine\n"
    "(0.0.0.0 and [::] become loopback; https when MUSICGRAPH_TLS_CERT is set, without\n"
    "checking the certificate: it is our own server). Exit 0 on 200, 1 otherwise.\n"
    "The container image's HEALTHCHECK: the image has no shell and no curl.\n\n"
    "  --url URL       ask this URL instead\n"
    "  --timeout SECS  give up after SECS seconds (default 3)\n";

/* Discards the body: only the status matters. */
static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* http(s)://HOST:PORT/healthz for the listening address ADDR:PORT. */
static void healthz_url(const config *cfg, char *out, size_t len)
{
    const char *listen = cfg->listen ? cfg->listen : "127.0.0.1:8080";
    const char *colon = strrchr(listen, ':');
    const char *port = colon ? colon + 1 : "8080";
    size_t hostlen = colon ? (size_t)(colon - listen) : 0;
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)hostlen, listen);
    const char *h = host;
    if (!*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0)
        h = "127.0.0.1";
    else if (strcmp(host, "[::]") == 0)
        h = "[::1]";
    snprintf(out, len, "%s://%s:%s/healthz", cfg->tls_cert ? "https" : "http", h, port);
}

int cmd_healthcheck(config *cfg, int argc, char **argv)
{
    char url[512];
    long timeout = 3;
    healthz_url(cfg, url, sizeof url);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            snprintf(url, sizeof url, "%s", argv[++i]);
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc && atol(argv[i + 1]) > 0)
            timeout = atol(argv[++i]);
        else {
            fprintf(stderr, "musicgraph healthcheck: unexpected argument '%s' (see musicgraph healthcheck --help)\n",
                    argv[i]);
            return 2;
        }
    }
    CURL *c = curl_easy_init();
    if (!c) {
        fprintf(stderr, "musicgraph healthcheck: cannot initialise libcurl\n");
        return 1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        fprintf(stderr, "musicgraph healthcheck: %s: %s\n", url, curl_easy_strerror(rc));
        return 1;
    }
    if (status != 200) {
        fprintf(stderr, "musicgraph healthcheck: %s answered %ld\n", url, status);
        return 1;
    }
    printf("ok %s\n", url);
    return 0;
}
