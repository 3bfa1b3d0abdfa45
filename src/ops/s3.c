/*
 * s3.c — S3 requests through libcurl, signed with AWS Signature V4 (see s3.h).
 *
 * Each request is signed over the method, the path-style URI, the sorted
 * query, the host, x-amz-date and x-amz-content-sha256 (the real SHA-256 of
 * the body, so a corrupted upload is refused by the server). The Host header
 * is set by us to exactly what was signed. One curl handle per client keeps
 * the connection alive across a listing and its follow-up requests.
 */
#include "ops/s3.h"
#include "core/xalloc.h"

#include "core/buf.h"
#include "core/sha256.h"

#include "ops/curl_transfer.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_client {
    CURL *curl;
    char scheme_host[512]; /* "http://127.0.0.1:4568" */
    char host[256];        /* "127.0.0.1:4568", the signed Host header */
    char base_path[256];   /* "" or "/some/path" of the endpoint URL */
    char region[64];
    char *access_key;
    char *secret_key;
};

int s3_is_url(const char *url) { return url && strncmp(url, "s3://", 5) == 0; }

int s3_parse_url(const char *url, char *bucket, size_t blen, char *rest, size_t rlen, char *err, size_t errlen)
{
    if (!s3_is_url(url)) {
        snprintf(err, errlen, "'%s' is not an s3://BUCKET/PATH URL", url);
        return -1;
    }
    const char *b = url + 5;
    size_t n = strcspn(b, "/");
    if (n == 0 || n >= blen) {
        snprintf(err, errlen, "'%s' names no bucket (expected s3://BUCKET/PATH)", url);
        return -1;
    }
    memcpy(bucket, b, n);
    bucket[n] = '\0';
    const char *r = b[n] == '/' ? b + n + 1 : b + n;
    if (strlen(r) >= rlen) {
        snprintf(err, errlen, "'%s': the path is too long", url);
        return -1;
    }
    snprintf(rest, rlen, "%s", r);
    return 0;
}

int s3_open(const config *cfg, s3_client **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg->s3_access_key || !*cfg->s3_access_key || !cfg->s3_secret_key || !*cfg->s3_secret_key) {
        snprintf(err, errlen,
                 "offsite backups need credentials: set MUSICGRAPH_S3_ACCESS_KEY_ID and "
                 "MUSICGRAPH_S3_SECRET_ACCESS_KEY (or their _FILE forms)");
        return -1;
    }
    const char *region = cfg->s3_region && *cfg->s3_region ? cfg->s3_region : "us-east-1";
    char endpoint[512];
    if (cfg->s3_endpoint && *cfg->s3_endpoint)
        snprintf(endpoint, sizeof endpoint, "%s", cfg->s3_endpoint);
    else
        snprintf(endpoint, sizeof endpoint, "https://s3.%s.amazonaws.com", region);
    const char *sep = strstr(endpoint, "://");
    if (!sep || (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0)) {
        snprintf(err, errlen, "MUSICGRAPH_S3_ENDPOINT must be an http:// or https:// URL, not '%s'", endpoint);
        return -1;
    }
    s3_client *c = xcalloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *host = sep + 3;
    size_t hn = strcspn(host, "/");
    if (hn == 0 || hn >= sizeof c->host) {
        snprintf(err, errlen, "MUSICGRAPH_S3_ENDPOINT names no host: '%s'", endpoint);
        free(c);
        return -1;
    }
    memcpy(c->host, host, hn);
    c->host[hn] = '\0';
    snprintf(c->scheme_host, sizeof c->scheme_host, "%.*s%s", (int)(host - endpoint), endpoint, c->host);
    snprintf(c->base_path, sizeof c->base_path, "%s", host + hn);
    size_t bl = strlen(c->base_path);
    while (bl > 0 && c->base_path[bl - 1] == '/')
        c->base_path[--bl] = '\0';
    snprintf(c->region, sizeof c->region, "%s", region);
    c->access_key = xstrdup(cfg->s3_access_key);
    c->secret_key = xstrdup(cfg->s3_secret_key);
    c->curl = curl_transfer_handle();
    if (!c->curl || !c->access_key || !c->secret_key) {
        snprintf(err, errlen, "cannot initialise libcurl");
        s3_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

void s3_close(s3_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    if (c->secret_key)
        sodium_memzero(c->secret_key, strlen(c->secret_key));
    free(c->access_key);
    free(c->secret_key);
    free(c);
}

/* ---- Signature V4 ---- */

static void hmac(const unsigned char *key, size_t keylen, const char *msg, unsigned char out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
    crypto_auth_hmacsha256_final(&st, out);
}

/* RFC 3986 percent-encoding as S3 wants it: unreserved characters stay,
 * '/' stays only in paths. */
static void uri_encode(buf *out, const char *s, int keep_slash)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/'))
            buf_putc(out, (char)*p);
        else
            buf_printf(out, "%%%02X", *p);
    }
}

void s3_sign(const char *access_key, const char *secret_key, const char *region, const char *method, const char *host,
             const char *canonical_uri, const char *canonical_query, const char *amz_date, const char *payload_sha256,
             char *out, size_t outlen)
{
    char date[9];
    snprintf(date, sizeof date, "%.8s", amz_date);
    buf creq = BUF_INIT;
    buf_printf(&creq,
               "%s\n%s\n%s\nhost:%s\nx-amz-content-sha256:%s\nx-amz-date:%s\n\n"
               "host;x-amz-content-sha256;x-amz-date\n%s",
               method, canonical_uri, canonical_query, host, payload_sha256, amz_date, payload_sha256);
    char creq_hash[65];
    sha256_hex(buf_cstr(&creq), creq.len, creq_hash);
    buf_free(&creq);
    char scope[128], to_sign[512];
    snprintf(scope, sizeof scope, "%s/%s/s3/aws4_request", date, region);
    snprintf(to_sign, sizeof to_sign, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, creq_hash);
    size_t klen = strlen(secret_key) + 4;
    unsigned char *k = xmalloc(klen + 1);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    if (!k) {
        snprintf(out, outlen, "%s", "");
        return;
    }
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret_key, klen - 4);
    hmac(k, klen, date, k1);
    sodium_memzero(k, klen);
    free(k);
    hmac(k1, 32, region, k2);
    hmac(k2, 32, "s3", k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, to_sign, sig);
    char sighex[65];
    sodium_bin2hex(sighex, sizeof sighex, sig, sizeof sig);
    snprintf(out, outlen,
             "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s",
             access_key, scope, sighex);
}

/* ---- requests ---- */

typedef struct request {
    const char *method;
    const char *bucket;
    const char *key;   /* NULL for bucket requests */
    const char *query; /* canonical (sorted, encoded), "" for none */
    const char *content_type;
    char payload_sha256[65];
    curl_transfer t; /* the body, the answer */
} request;

/* Text of the first <tag>…</tag> inside [s, end), XML entities decoded. */
static int xml_text(const char *s, const char *end, const char *tag, char *out, size_t outlen)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(s, open);
    if (!a || a >= end)
        return 0;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (!b || b > end)
        return 0;
    size_t o = 0;
    for (const char *p = a; p < b && o + 1 < outlen; p++) {
        char c = *p;
        if (c == '&') {
            static const struct {
                const char *name;
                char c;
            } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
            int done = 0;
            for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++) {
                size_t el = strlen(ents[i].name);
                if ((size_t)(b - p) >= el && strncmp(p, ents[i].name, el) == 0) {
                    out[o++] = ents[i].c;
                    p += el - 1;
                    done = 1;
                    break;
                }
            }
            if (!done && p[1] == '#') {
                char *e;
                long v = strtol(p + (p[2] == 'x' ? 3 : 2), &e, p[2] == 'x' ? 16 : 10);
                if (*e == ';' && v > 0 && v < 128) {
                    out[o++] = (char)v;
                    p = e;
                    done = 1;
                }
            }
            if (!done)
                out[o++] = c;
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return 1;
}

static void describe_failure(s3_client *c, request *r, CURLcode cc, const char *curl_msg, char *err, size_t errlen)
{
    char what[1400];
    if (r->key)
        snprintf(what, sizeof what, "S3 %s s3://%s/%s", r->method, r->bucket, r->key);
    else
        snprintf(what, sizeof what, "S3 listing of s3://%s", r->bucket);
    if (cc != CURLE_OK && r->t.status == 0) {
        snprintf(err, errlen, "%s: cannot reach %s: %s (check MUSICGRAPH_S3_ENDPOINT)", what, c->scheme_host,
                 curl_msg[0] ? curl_msg : curl_easy_strerror(cc));
        return;
    }
    if (r->t.write_failed) {
        snprintf(err, errlen, "%s: cannot write the download: %s", what, strerror(r->t.write_failed));
        return;
    }
    if (r->t.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, errlen, "%s: larger than expected (over %lld bytes)", what, (long long)curl_transfer_limit(&r->t));
        return;
    }
    char code[128] = "", message[512] = "";
    const char *body = buf_cstr(&r->t.response);
    xml_text(body, body + r->t.response.len, "Code", code, sizeof code);
    xml_text(body, body + r->t.response.len, "Message", message, sizeof message);
    const char *hint = "";
    if (strcmp(code, "InvalidAccessKeyId") == 0 || strcmp(code, "SignatureDoesNotMatch") == 0 ||
        strcmp(code, "AccessDenied") == 0 || strcmp(code, "AuthorizationHeaderMalformed") == 0 || r->t.status == 401 ||
        r->t.status == 403)
        hint = " (check MUSICGRAPH_S3_ACCESS_KEY_ID, MUSICGRAPH_S3_SECRET_ACCESS_KEY and MUSICGRAPH_S3_REGION)";
    else if (strcmp(code, "NoSuchBucket") == 0)
        hint = " (create the bucket, or fix the s3:// URL)";
    else if (strcmp(code, "RequestTimeTooSkewed") == 0)
        hint = " (this machine's clock is wrong)";
    if (code[0])
        snprintf(err, errlen, "%s: HTTP %ld %s: %s%s", what, r->t.status, code, message, hint);
    else if (cc != CURLE_OK)
        snprintf(err, errlen, "%s: %s", what, curl_msg[0] ? curl_msg : curl_easy_strerror(cc));
    else
        snprintf(err, errlen, "%s: HTTP %ld%s", what, r->t.status, hint);
}

static int perform(s3_client *c, request *r, char *err, size_t errlen)
{
    buf uri = BUF_INIT, url = BUF_INIT;
    buf_puts(&uri, c->base_path);
    buf_putc(&uri, '/');
    uri_encode(&uri, r->bucket, 0);
    if (r->key) {
        buf_putc(&uri, '/');
        uri_encode(&uri, r->key, 1);
    }
    buf_printf(&url, "%s%s%s%s", c->scheme_host, buf_cstr(&uri), r->query[0] ? "?" : "", r->query);

    char amz_date[17];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
    char auth[512];
    s3_sign(c->access_key, c->secret_key, c->region, r->method, c->host, buf_cstr(&uri), r->query, amz_date,
            r->payload_sha256, auth, sizeof auth);

    struct curl_slist *headers = NULL;
    char h[640];
    snprintf(h, sizeof h, "Host: %s", c->host);
    headers = curl_slist_append(headers, h);
    snprintf(h, sizeof h, "x-amz-date: %s", amz_date);
    headers = curl_slist_append(headers, h);
    snprintf(h, sizeof h, "x-amz-content-sha256: %s", r->payload_sha256);
    headers = curl_slist_append(headers, h);
    snprintf(h, sizeof h, "Authorization: %s", auth);
    headers = curl_slist_append(headers, h);
    headers = curl_slist_append(headers, "Expect:");
    if (r->content_type) {
        snprintf(h, sizeof h, "Content-Type: %s", r->content_type);
        headers = curl_slist_append(headers, h);
    }

    CURL *cu = c->curl;
    char curl_msg[CURL_ERROR_SIZE];
    curl_transfer_setup(cu, &r->t, r->method, curl_msg);
    curl_easy_setopt(cu, CURLOPT_URL, buf_cstr(&url));
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, headers);
    CURLcode cc = curl_transfer_perform(cu, &r->t);
    curl_slist_free_all(headers);
    buf_free(&uri);
    buf_free(&url);
    if (cc == CURLE_OK && r->t.status >= 200 && r->t.status < 300 && !r->t.write_failed)
        return 0;
    describe_failure(c, r, cc, curl_msg, err, errlen);
    return -1;
}

int s3_put_bytes(s3_client *c, const char *bucket, const char *key, const void *data, size_t len,
                 const char *content_type, char *err, size_t errlen)
{
    request r = {.method = "PUT",
                 .bucket = bucket,
                 .key = key,
                 .query = "",
                 .t = {.body = data, .body_len = len},
                 .content_type = content_type};
    sha256_hex(data, len, r.payload_sha256);
    int rc = perform(c, &r, err, errlen);
    buf_free(&r.t.response);
    return rc;
}

int s3_put_file(s3_client *c, const char *bucket, const char *key, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    crypto_hash_sha256_state hs;
    crypto_hash_sha256_init(&hs);
    unsigned char chunk[65536];
    size_t n;
    int64_t total = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        crypto_hash_sha256_update(&hs, chunk, n);
        total += (int64_t)n;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        fclose(f);
        return -1;
    }
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&hs, d);
    rewind(f);
    request r = {.method = "PUT",
                 .bucket = bucket,
                 .key = key,
                 .query = "",
                 .t = {.upload = f, .upload_len = total},
                 .content_type = "application/gzip"};
    sodium_bin2hex(r.payload_sha256, sizeof r.payload_sha256, d, sizeof d);
    int rc = perform(c, &r, err, errlen);
    fclose(f);
    buf_free(&r.t.response);
    return rc;
}

int s3_get_file(s3_client *c, const char *bucket, const char *key, const char *path, int64_t max, int *missing,
                char *err, size_t errlen)
{
    if (missing)
        *missing = 0;
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    request r = {.method = "GET", .bucket = bucket, .key = key, .query = "", .t = {.download = f, .max_download = max}};
    snprintf(r.payload_sha256, sizeof r.payload_sha256, "%s", EMPTY_SHA256);
    int rc = perform(c, &r, err, errlen);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0 && missing && r.t.status == 404) {
        *missing = 1;
        rc = 0;
    }
    buf_free(&r.t.response);
    return rc;
}

int s3_get_bytes(s3_client *c, const char *bucket, const char *key, size_t max, char **data, size_t *len, int *missing,
                 char *err, size_t errlen)
{
    *data = NULL;
    *len = 0;
    if (missing)
        *missing = 0;
    request r = {.method = "GET", .bucket = bucket, .key = key, .query = "", .t = {.max_response = max}};
    snprintf(r.payload_sha256, sizeof r.payload_sha256, "%s", EMPTY_SHA256);
    int rc = perform(c, &r, err, errlen);
    if (rc == 0) {
        buf_cstr(&r.t.response);
        *data = buf_steal(&r.t.response, len);
        if (!*data)
            *data = xcalloc(1, 1);
    } else if (missing && r.t.status == 404) {
        *missing = 1;
        rc = 0;
    }
    buf_free(&r.t.response);
    return rc;
}

int s3_delete(s3_client *c, const char *bucket, const char *key, char *err, size_t errlen)
{
    request r = {.method = "DELETE", .bucket = bucket, .key = key, .query = ""};
    snprintf(r.payload_sha256, sizeof r.payload_sha256, "%s", EMPTY_SHA256);
    int rc = perform(c, &r, err, errlen);
    buf_free(&r.t.response);
    return rc;
}

int s3_list(s3_client *c, const char *bucket, const char *prefix, s3_object **objects, size_t *count, char *err,
            size_t errlen)
{
    *objects = NULL;
    *count = 0;
    char token[2048] = "";
    size_t cap = 0;
    for (int page = 0; page < 100000; page++) {
        /* Canonical query: parameters sorted by name, values encoded. */
        buf q = BUF_INIT;
        if (token[0]) {
            buf_puts(&q, "continuation-token=");
            uri_encode(&q, token, 0);
            buf_putc(&q, '&');
        }
        buf_puts(&q, "list-type=2&prefix=");
        uri_encode(&q, prefix, 0);
        request r = {.method = "GET", .bucket = bucket, .key = NULL, .query = buf_cstr(&q)};
        snprintf(r.payload_sha256, sizeof r.payload_sha256, "%s", EMPTY_SHA256);
        int rc = perform(c, &r, err, errlen);
        buf_free(&q);
        if (rc != 0) {
            buf_free(&r.t.response);
            free(*objects);
            *objects = NULL;
            *count = 0;
            return -1;
        }
        const char *body = buf_cstr(&r.t.response);
        const char *end = body + r.t.response.len;
        for (const char *p = strstr(body, "<Contents>"); p; p = strstr(p + 1, "<Contents>")) {
            const char *close = strstr(p, "</Contents>");
            if (!close)
                break;
            if (*count == cap) {
                cap = cap ? cap * 2 : 64;
                s3_object *grown = xrealloc(*objects, cap * sizeof *grown);
                if (!grown) {
                    snprintf(err, errlen, "out of memory listing s3://%s/%s", bucket, prefix);
                    buf_free(&r.t.response);
                    return -1;
                }
                *objects = grown;
            }
            s3_object *o = &(*objects)[*count];
            memset(o, 0, sizeof *o);
            char size[32] = "";
            if (!xml_text(p, close, "Key", o->key, sizeof o->key))
                continue;
            xml_text(p, close, "Size", size, sizeof size);
            xml_text(p, close, "LastModified", o->last_modified, sizeof o->last_modified);
            o->size = strtoll(size, NULL, 10);
            (*count)++;
        }
        char truncated[16] = "";
        xml_text(body, end, "IsTruncated", truncated, sizeof truncated);
        int more = strcmp(truncated, "true") == 0 && xml_text(body, end, "NextContinuationToken", token, sizeof token);
        buf_free(&r.t.response);
        if (!more)
            return 0;
    }
    snprintf(err, errlen, "listing s3://%s/%s did not end", bucket, prefix);
    return -1;
}
