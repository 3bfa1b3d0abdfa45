/*
 * acme.c — the ACME protocol flow on libcurl (see acme.h).
 *
 * Every request but the directory and the first nonce is a JWS POST
 * (RFC 8555 section 6.2): the account's first request carries its public
 * key (jwk), every later one the account URL (kid). Each response brings
 * the nonce for the next request; a badNonce error is retried (at most
 * twice) with the one it brings. Polling honours Retry-After, bounded, and
 * the whole order has one deadline, so a CA that never answers costs a
 * bounded wait and an error, never a stuck thread.
 */
#include "ops/acme.h"

#include "core/buf.h"
#include "core/log.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_RESPONSE    (1u << 20)
#define BAD_NONCE_TRIES 3
#define POLL_MAX_WAIT_S 10

typedef struct response {
    long status;
    buf body;
    char nonce[256];
    char location[1024];
    int retry_after; /* seconds, 0 when absent */
} response;

typedef struct client {
    const acme_settings *s;
    CURL *curl;
    EVP_PKEY *key;
    char jwk[256];
    char thumbprint[64];
    char kid[1024]; /* the account URL, once known */
    char nonce[256];
    acme_directory dir;
    time_t deadline;
} client;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static int cancelled(const client *c) { return c->s->cancel && atomic_load(c->s->cancel); }

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    response *r = arg;
    if (r->body.len + size * n > MAX_RESPONSE)
        return 0; /* curl reports a write error: the CA sent far too much */
    buf_append(&r->body, data, size * n);
    return size * n;
}

/* Copies a header's value (trimmed) into out when line is that header. */
static int header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
        return 0;
    const char *v = line + nlen + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    if ((size_t)(end - v) < outlen) {
        memcpy(out, v, (size_t)(end - v));
        out[end - v] = '\0';
    }
    return 1;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
    response *r = arg;
    size_t len = size * n;
    char retry[32];
    header_value(line, len, "Replay-Nonce", r->nonce, sizeof r->nonce);
    header_value(line, len, "Location", r->location, sizeof r->location);
    if (header_value(line, len, "Retry-After", retry, sizeof retry))
        r->retry_after = atoi(retry); /* an HTTP date reads as 0: the default wait */
    return len;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c2, curl_off_t d)
{
    (void)a, (void)b, (void)c2, (void)d;
    return cancelled(arg) ? 1 : 0;
}

static void response_reset(response *r)
{
    buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

/* One HTTP exchange. body NULL: GET (or HEAD when head). */
static int exchange(client *c, const char *url, const char *body, int head, response *r, char *err, size_t errlen)
{
    response_reset(r);
    CURL *cu = c->curl;
    curl_easy_reset(cu);
    char curl_msg[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    if (body)
        headers = curl_slist_append(headers, "Content-Type: application/jose+json");
    headers = curl_slist_append(headers, "Accept: application/json, application/pem-certificate-chain");
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, curl_msg);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(cu, CURLOPT_USERAGENT, "musicgraph-acme");
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(cu, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(cu, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(cu, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(cu, CURLOPT_XFERINFODATA, c);
    if (c->s->ca_roots && *c->s->ca_roots)
        curl_easy_setopt(cu, CURLOPT_CAINFO, c->s->ca_roots);
    if (body) {
        curl_easy_setopt(cu, CURLOPT_POST, 1L);
        curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
    } else if (head) {
        curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
    }
    CURLcode cc = curl_easy_perform(cu);
    curl_slist_free_all(headers);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "cannot reach the ACME CA at %s: %s", url,
                 cancelled(c)  ? "stopping"
                 : curl_msg[0] ? curl_msg
                               : curl_easy_strerror(cc));
        return -1;
    }
    curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->nonce[0])
        snprintf(c->nonce, sizeof c->nonce, "%s", r->nonce);
    return 0;
}

static int is_problem(const response *r, const char *type)
{
    char text[512];
    acme_problem_text(r->body.data ? r->body.data : "", r->body.len, text, sizeof text);
    return strncmp(text, type, strlen(type)) == 0 && text[strlen(type)] == ':';
}

static int refused(const response *r, const char *what, char *err, size_t errlen)
{
    char text[512];
    acme_problem_text(r->body.data ? r->body.data : "", r->body.len, text, sizeof text);
    snprintf(err, errlen, "the ACME CA refused %s (HTTP %ld): %s", what, r->status,
             text[0] ? text : "no problem document");
    return -1;
}

/* A JWS POST; payload NULL is POST-as-GET (an empty payload). */
static int post(client *c, const char *url, const char *payload, const char *what, response *r, char *err,
                size_t errlen)
{
    for (int attempt = 1;; attempt++) {
        if (!c->nonce[0]) {
            if (exchange(c, c->dir.new_nonce, NULL, 1, r, err, errlen) != 0)
                return -1;
            if (!c->nonce[0]) {
                snprintf(err, errlen, "the ACME CA gave no Replay-Nonce (HTTP %ld from %s)", r->status,
                         c->dir.new_nonce);
                return -1;
            }
        }
        json_t *prot = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "nonce", c->nonce, "url", url);
        if (c->kid[0])
            json_object_set_new(prot, "kid", json_string(c->kid));
        else
            json_object_set_new(prot, "jwk", json_loads(c->jwk, 0, NULL));
        char *prot_json = json_dumps(prot, JSON_COMPACT);
        json_decref(prot);
        char *prot64 = acme_b64url(prot_json, strlen(prot_json));
        char *pay64 = acme_b64url(payload ? payload : "", payload ? strlen(payload) : 0);
        free(prot_json);
        buf input = BUF_INIT;
        buf_printf(&input, "%s.%s", prot64, pay64);
        char *sig = acme_es256(c->key, input.data, input.len, err, errlen);
        buf_free(&input);
        char *body = NULL;
        if (sig) {
            json_t *jws = json_pack("{s:s, s:s, s:s}", "protected", prot64, "payload", pay64, "signature", sig);
            body = json_dumps(jws, JSON_COMPACT);
            json_decref(jws);
        }
        free(prot64);
        free(pay64);
        free(sig);
        if (!body)
            return -1;
        c->nonce[0] = '\0'; /* a nonce is good for one request */
        int rc = exchange(c, url, body, 0, r, err, errlen);
        free(body);
        if (rc != 0)
            return -1;
        if (r->status >= 400 && is_problem(r, "badNonce") && attempt < BAD_NONCE_TRIES) {
            log_info("acme: the CA rejected our nonce, retrying with a fresh one");
            continue;
        }
        if (r->status >= 400)
            return refused(r, what, err, errlen);
        return 0;
    }
}

/* Sleeps the Retry-After the CA asked for (1 to POLL_MAX_WAIT_S seconds),
 * in steps so that a shutdown is not kept waiting. */
static int wait_turn(client *c, const response *r, const char *what, char *err, size_t errlen)
{
    int s = r->retry_after > 0 ? r->retry_after : 1;
    if (s > POLL_MAX_WAIT_S)
        s = POLL_MAX_WAIT_S;
    for (int i = 0; i < s * 10; i++) {
        if (cancelled(c) || time(NULL) + 1 > c->deadline) {
            snprintf(err, errlen, "%s: %s", what, cancelled(c) ? "stopping" : "the ACME order timed out");
            return -1;
        }
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
    }
    return 0;
}

static const char *body_of(response *r) { return r->body.data ? r->body.data : ""; }

static int load_directory(client *c, response *r, char *err, size_t errlen)
{
    if (exchange(c, c->s->directory, NULL, 0, r, err, errlen) != 0)
        return -1;
    if (r->status != 200) {
        snprintf(err, errlen, "the ACME directory %s answered HTTP %ld", c->s->directory, r->status);
        return -1;
    }
    return acme_parse_directory(body_of(r), r->body.len, &c->dir, err, errlen);
}

static int register_account(client *c, response *r, char *err, size_t errlen)
{
    json_t *payload = json_pack("{s:b}", "termsOfServiceAgreed", 1);
    if (c->s->email && *c->s->email) {
        char contact[512];
        snprintf(contact, sizeof contact, "mailto:%s", c->s->email);
        json_object_set_new(payload, "contact", json_pack("[s]", contact));
    }
    char *p = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    int rc = post(c, c->dir.new_account, p, "the account", r, err, errlen);
    free(p);
    if (rc != 0)
        return -1;
    if (!r->location[0]) {
        snprintf(err, errlen, "the ACME CA created the account but gave no account URL (Location)");
        return -1;
    }
    snprintf(c->kid, sizeof c->kid, "%s", r->location);
    log_info("acme: account %s (%s)", c->kid, r->status == 201 ? "created" : "existing");
    return 0;
}

/* Answers one authorization's challenge and waits for the CA's verdict. */
static int authorize(client *c, const acme_responder *rsp, const char *url, response *r, char *err, size_t errlen)
{
    const char *type = c->s->challenge;
    acme_authz a;
    if (post(c, url, NULL, "the authorization", r, err, errlen) != 0 ||
        acme_parse_authorization(body_of(r), r->body.len, type, &a, err, errlen) != 0)
        return -1;
    if (strcmp(a.status, "valid") == 0)
        return 0; /* validated for an earlier order and still fresh */
    if (!a.challenge_url[0]) {
        snprintf(err, errlen, "the ACME CA offers no %s challenge for %s", type, a.name);
        return -1;
    }
    char key_auth[512];
    snprintf(key_auth, sizeof key_auth, "%s.%s", a.token, c->thumbprint);
    if (rsp->present(rsp->ctx, type, a.name, a.token, key_auth, err, errlen) != 0) {
        rsp->cleanup(rsp->ctx, type, a.name, a.token, key_auth); /* a DNS record may be half set */
        return -1;
    }
    log_info("acme: answering the %s challenge for %s", type, a.name);
    int rc = post(c, a.challenge_url, "{}", "the challenge", r, err, errlen);
    while (rc == 0) {
        if (post(c, url, NULL, "the authorization", r, err, errlen) != 0 ||
            acme_parse_authorization(body_of(r), r->body.len, type, &a, err, errlen) != 0) {
            rc = -1;
            break;
        }
        if (strcmp(a.status, "valid") == 0)
            break;
        if (strcmp(a.status, "pending") != 0) {
            snprintf(err, errlen, "the ACME CA could not validate %s with %s (%s): %s", a.name, type, a.status,
                     a.error[0] ? a.error : "no detail given");
            rc = -1;
            break;
        }
        rc = wait_turn(c, r, "waiting for the authorization", err, errlen);
    }
    rsp->cleanup(rsp->ctx, type, a.name, a.token, key_auth);
    return rc;
}

/* Polls the order at url until its status leaves pending/processing. */
static int poll_order(client *c, const char *url, acme_order *o, response *r, char *err, size_t errlen)
{
    for (;;) {
        if (wait_turn(c, r, "waiting for the order", err, errlen) != 0 ||
            post(c, url, NULL, "the order", r, err, errlen) != 0)
            return -1;
        acme_order_free(o);
        if (acme_parse_order(body_of(r), r->body.len, o, err, errlen) != 0)
            return -1;
        if (strcmp(o->status, "pending") != 0 && strcmp(o->status, "processing") != 0)
            return 0;
    }
}

static int run_order(client *c, const acme_responder *rsp, acme_result *out, response *r, char *err, size_t errlen)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < c->s->nnames; i++)
        json_array_append_new(ids, json_pack("{s:s, s:s}", "type", "dns", "value", c->s->names[i]));
    json_t *payload = json_pack("{s:o}", "identifiers", ids);
    char *p = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    int rc = post(c, c->dir.new_order, p, "the order", r, err, errlen);
    free(p);
    if (rc != 0)
        return -1;
    char order_url[1024];
    snprintf(order_url, sizeof order_url, "%s", r->location);
    acme_order o;
    if (acme_parse_order(body_of(r), r->body.len, &o, err, errlen) != 0)
        return -1;
    if (!order_url[0]) {
        snprintf(err, errlen, "the ACME CA created the order but gave no order URL (Location)");
        goto fail;
    }
    for (size_t i = 0; i < o.nauthz; i++)
        if (authorize(c, rsp, o.authz[i], r, err, errlen) != 0)
            goto fail;
    if (strcmp(o.status, "ready") != 0 && poll_order(c, order_url, &o, r, err, errlen) != 0)
        goto fail;
    if (strcmp(o.status, "ready") != 0) {
        snprintf(err, errlen, "the ACME order is %s, not ready, after its authorizations: %s", o.status,
                 o.error[0] ? o.error : "no detail given");
        goto fail;
    }
    char *csr;
    if (acme_make_csr(c->s->names, c->s->nnames, &out->key_pem, &csr, err, errlen) != 0)
        goto fail;
    buf fin = BUF_INIT;
    buf_printf(&fin, "{\"csr\":\"%s\"}", csr);
    free(csr);
    rc = post(c, o.finalize, fin.data, "the finalization", r, err, errlen);
    buf_free(&fin);
    if (rc != 0)
        goto fail;
    acme_order_free(&o);
    if (acme_parse_order(body_of(r), r->body.len, &o, err, errlen) != 0)
        return -1;
    if (strcmp(o.status, "valid") != 0 && poll_order(c, order_url, &o, r, err, errlen) != 0)
        goto fail;
    if (strcmp(o.status, "valid") != 0 || !o.certificate[0]) {
        snprintf(err, errlen, "the ACME order ended %s without a certificate: %s", o.status,
                 o.error[0] ? o.error : "no detail given");
        goto fail;
    }
    if (post(c, o.certificate, NULL, "the certificate download", r, err, errlen) != 0 ||
        acme_chain_check(body_of(r), r->body.len, c->s->names, c->s->nnames, &out->info, err, errlen) != 0)
        goto fail;
    out->chain_pem = buf_steal(&r->body, NULL);
    acme_order_free(&o);
    return 0;
fail:
    acme_order_free(&o);
    return -1;
}

int acme_obtain(const acme_settings *s, const acme_responder *rsp, acme_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (s->nnames == 0) {
        snprintf(err, errlen, "no names to obtain a certificate for");
        return -1;
    }
    pthread_once(&curl_once, curl_init);
    client c = {.s = s, .deadline = time(NULL) + (s->timeout_s > 0 ? s->timeout_s : 300)};
    int created = 0, rc = -1;
    response r = {0};
    c.curl = curl_easy_init();
    c.key = acme_account_key(s->account_key, &created, err, errlen);
    if (!c.curl || !c.key)
        goto done;
    if (created)
        log_info("acme: created the account key %s", s->account_key);
    if (acme_jwk(c.key, c.jwk, sizeof c.jwk, c.thumbprint, sizeof c.thumbprint) != 0) {
        snprintf(err, errlen, "cannot read the public half of the ACME account key");
        goto done;
    }
    if (load_directory(&c, &r, err, errlen) != 0 || register_account(&c, &r, err, errlen) != 0 ||
        run_order(&c, rsp, out, &r, err, errlen) != 0)
        goto done;
    rc = 0;
done:
    if (rc != 0)
        acme_result_free(out);
    response_reset(&r);
    EVP_PKEY_free(c.key);
    if (c.curl)
        curl_easy_cleanup(c.curl);
    return rc;
}

void acme_result_free(acme_result *res)
{
    free(res->chain_pem);
    if (res->key_pem) {
        OPENSSL_cleanse(res->key_pem, strlen(res->key_pem));
        free(res->key_pem);
    }
    memset(res, 0, sizeof *res);
}
