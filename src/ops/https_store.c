/*
 * https_store.c — see https_store.h.
 *
 * Never replacing a published object with nothing but GET and PUT takes
 * the server's help. A PUT carries If-None-Match: *, which a server that evaluates
 * preconditions on PUT (RFC 9110 13.1.2; Apache's mod_dav does) answers
 * with 412 when the object exists: then a concurrent publish cannot replace
 * it. nginx's dav module ignores the precondition on PUT, so publishing
 * checks first that none of the release's objects exists (release.c), and
 * after each PUT requires 201 Created: nginx answers 204 when it replaced a
 * file. Against nginx, two publishers of the same version racing between
 * the check and their PUTs can still overwrite each other's files — the
 * second one fails, and says so, but the store may then hold a mix; the
 * signature check of every deploy refuses such a mix.
 */
#include "ops/https_store.h"

#include "core/xalloc.h"
#include "ops/curl_transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct https_store {
    CURL *curl;
    char base[1200]; /* "https://HOST[:PORT]/PATH/" */
    char *ca_file;   /* NULL: the system's CAs */
    char *user;      /* NULL: no credentials */
    char *password;
};

int https_store_is_url(const char *url)
{
    return url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0);
}

/* The first line of the credentials file, "user:password". */
static int read_credentials(https_store *hs, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "MUSICGRAPH_RELEASE_STORE_AUTH_FILE: cannot read %.300s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    char *colon = strchr(line, ':');
    int rc = 0;
    if (!colon || colon == line) {
        /* Says nothing of what the file holds: it may be a password. */
        snprintf(err, errlen, "MUSICGRAPH_RELEASE_STORE_AUTH_FILE %.300s: the first line must be USER:PASSWORD", path);
        rc = -1;
    } else {
        *colon = '\0';
        hs->user = xstrdup(line);
        hs->password = xstrdup(colon + 1);
    }
    sodium_memzero(line, sizeof line);
    return rc;
}

int https_store_open(const config *cfg, const char *url, https_store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (strncmp(url, "http://", 7) == 0) {
        snprintf(err, errlen,
                 "%.300s: a release store is reached over https:// only (channels and deploy records are not "
                 "signed, and the credentials would travel in clear)",
                 url);
        return -1;
    }
    const char *host = url + 8;
    size_t hn = strcspn(host, "/?#");
    /* Not the URL in these messages: its user information may be a password. */
    if (memchr(host, '@', hn)) {
        snprintf(err, errlen,
                 "the release store URL holds credentials: give them in MUSICGRAPH_RELEASE_STORE_AUTH_FILE instead");
        return -1;
    }
    if (hn == 0 || host[hn] == '?' || host[hn] == '#') {
        snprintf(err, errlen, "%.300s: expected https://HOST[:PORT]/PATH/", url);
        return -1;
    }
    https_store *hs = xcalloc(1, sizeof *hs);
    size_t n = strlen(url);
    if (n + 2 > sizeof hs->base) {
        snprintf(err, errlen, "the release store URL is too long");
        free(hs);
        return -1;
    }
    snprintf(hs->base, sizeof hs->base, "%s%s", url, url[n - 1] == '/' ? "" : "/");
    if (cfg->release_store_ca_file && *cfg->release_store_ca_file) {
        if (access(cfg->release_store_ca_file, R_OK) != 0) {
            snprintf(err, errlen, "MUSICGRAPH_RELEASE_STORE_CA_FILE: cannot read %.300s: %s",
                     cfg->release_store_ca_file, strerror(errno));
            https_store_close(hs);
            return -1;
        }
        hs->ca_file = xstrdup(cfg->release_store_ca_file);
    }
    if (cfg->release_store_auth_file && *cfg->release_store_auth_file &&
        read_credentials(hs, cfg->release_store_auth_file, err, errlen) != 0) {
        https_store_close(hs);
        return -1;
    }
    hs->curl = curl_transfer_handle();
    if (!hs->curl) {
        snprintf(err, errlen, "cannot initialise libcurl");
        https_store_close(hs);
        return -1;
    }
    *out = hs;
    return 0;
}

void https_store_close(https_store *hs)
{
    if (!hs)
        return;
    if (hs->curl)
        curl_easy_cleanup(hs->curl);
    if (hs->password)
        sodium_memzero(hs->password, strlen(hs->password));
    free(hs->password);
    free(hs->user);
    free(hs->ca_file);
    free(hs);
}

/* The object's URL: the store's, then name with each segment escaped. */
static int object_url(https_store *hs, const char *name, char *out, size_t len)
{
    size_t o = (size_t)snprintf(out, len, "%s", hs->base);
    for (const char *p = name; *p && o < len;) {
        size_t seg = strcspn(p, "/");
        char *escaped = curl_easy_escape(hs->curl, p, (int)seg);
        if (!escaped)
            return -1;
        o += (size_t)snprintf(out + o, len - o, "%s%s", escaped, p[seg] == '/' ? "/" : "");
        curl_free(escaped);
        p += seg + (p[seg] == '/');
    }
    return o < len ? 0 : -1;
}

static void describe_failure(https_store *hs, const char *method, const char *url, const curl_transfer *t, CURLcode cc,
                             const char *curl_msg, char *err, size_t errlen)
{
    const char *detail = curl_msg[0] ? curl_msg : curl_easy_strerror(cc);
    if (t->write_failed) {
        snprintf(err, errlen, "HTTPS %s %.600s: cannot write the download: %s", method, url, strerror(t->write_failed));
    } else if (t->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, errlen, "HTTPS %s %.600s: larger than expected (over %lld bytes)", method, url,
                 (long long)curl_transfer_limit(t));
    } else if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE) {
        snprintf(err, errlen,
                 "HTTPS %s %.600s: the server's certificate is refused: %s (the store's CA: "
                 "MUSICGRAPH_RELEASE_STORE_CA_FILE, else the system's)",
                 method, url, detail);
    } else if (cc == CURLE_UNSUPPORTED_PROTOCOL && t->status >= 300 && t->status < 400) {
        snprintf(err, errlen, "HTTPS %s %.600s: HTTP %ld, a redirect to a URL that is not https://: refused", method,
                 url, t->status);
    } else if (cc != CURLE_OK) {
        snprintf(err, errlen, "HTTPS %s %.600s: %s", method, url, detail);
    } else {
        const char *hint = "";
        if (t->status == 401 && hs->user)
            hint = " (the store refused the credentials in MUSICGRAPH_RELEASE_STORE_AUTH_FILE)";
        else if (t->status == 401)
            hint = " (the store wants credentials: MUSICGRAPH_RELEASE_STORE_AUTH_FILE)";
        else if (t->status == 403)
            hint = " (forbidden: the user lacks the right, or the server cannot read or write there)";
        else if (t->status == 405 || t->status == 501)
            hint = " (the server does not take this method: for PUT, enable WebDAV, e.g. nginx's dav_methods PUT)";
        else if (t->status == 409 && strcmp(method, "PUT") == 0)
            hint = " (the directory does not exist on the server: nginx needs create_full_put_path on)";
        else if (t->status >= 300 && t->status < 400)
            hint = " (a redirect: writes are not redirected, give the store's final URL)";
        snprintf(err, errlen, "HTTPS %s %.600s: HTTP %ld%s", method, url, t->status, hint);
    }
}

/* One request for name; 0 when it answered 2xx, or 404 with *missing set
 * (missing NULL: 404 is an error too). extra: a header, or NULL. */
static int perform(https_store *hs, const char *method, const char *name, curl_transfer *t, const char *extra,
                   int *missing, char *err, size_t errlen)
{
    char url[2400];
    if (object_url(hs, name, url, sizeof url) != 0) {
        snprintf(err, errlen, "%.300s: the name is too long for a URL", name);
        return -1;
    }
    CURL *cu = hs->curl;
    char curl_msg[CURL_ERROR_SIZE];
    curl_transfer_setup(cu, t, method, curl_msg);
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(cu, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(cu, CURLOPT_SSL_VERIFYHOST, 2L);
    if (hs->ca_file)
        curl_easy_setopt(cu, CURLOPT_CAINFO, hs->ca_file);
    if (hs->user) {
        /* Sent only to this host: libcurl drops it on a redirect elsewhere. */
        curl_easy_setopt(cu, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(cu, CURLOPT_USERNAME, hs->user);
        curl_easy_setopt(cu, CURLOPT_PASSWORD, hs->password);
    }
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(cu, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(cu, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    }
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
    if (extra)
        headers = curl_slist_append(headers, extra);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, headers);
    CURLcode cc = curl_transfer_perform(cu, t);
    curl_slist_free_all(headers);
    if (cc == CURLE_OK && t->status >= 200 && t->status < 300)
        return 0;
    if (cc == CURLE_OK && t->status == 404 && missing) {
        *missing = 1;
        return 0;
    }
    describe_failure(hs, method, url, t, cc, curl_msg, err, errlen);
    return -1;
}

int https_store_get(https_store *hs, const char *name, size_t max, char **data, size_t *len, int *missing, char *err,
                    size_t errlen)
{
    *data = NULL;
    *len = 0;
    *missing = 0;
    curl_transfer t = {.max_response = max};
    int rc = perform(hs, "GET", name, &t, NULL, missing, err, errlen);
    if (rc == 0 && !*missing) {
        buf_cstr(&t.response);
        *data = buf_steal(&t.response, len);
        if (!*data)
            *data = xcalloc(1, 1);
    }
    buf_free(&t.response);
    return rc;
}

int https_store_fetch(https_store *hs, const char *name, const char *path, int64_t max, int *missing, char *err,
                      size_t errlen)
{
    *missing = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        snprintf(err, errlen, "cannot create %.300s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    curl_transfer t = {.download = f, .max_download = max};
    int rc = perform(hs, "GET", name, &t, NULL, missing, err, errlen);
    if ((fflush(f) != 0 || fsync(fileno(f)) != 0) && rc == 0) {
        snprintf(err, errlen, "cannot write %.300s: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    if (rc != 0 || *missing)
        unlink(path);
    buf_free(&t.response);
    return rc;
}

int https_store_put(https_store *hs, const char *name, const void *data, size_t len, char *err, size_t errlen)
{
    curl_transfer t = {.body = data, .body_len = len};
    int rc = perform(hs, "PUT", name, &t, NULL, NULL, err, errlen);
    buf_free(&t.response);
    return rc;
}

int https_store_exists(https_store *hs, const char *name, int *exists, char *err, size_t errlen)
{
    int missing = 0;
    curl_transfer t = {0};
    int rc = perform(hs, "HEAD", name, &t, NULL, &missing, err, errlen);
    *exists = rc == 0 && !missing;
    buf_free(&t.response);
    return rc;
}

int https_store_put_new_file(https_store *hs, const char *name, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(err, errlen, "cannot read %.300s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    curl_transfer t = {.upload = f, .upload_len = st.st_size};
    int rc = perform(hs, "PUT", name, &t, "If-None-Match: *", NULL, err, errlen);
    fclose(f);
    if (rc != 0 && t.status == 412) {
        snprintf(err, errlen, "%.300s%.300s exists already: a published object is never replaced", hs->base, name);
    } else if (rc == 0 && t.status != 201) {
        /* 200/204: the server replaced an object that appeared since the check. */
        snprintf(err, errlen,
                 "%.300s%.300s was published meanwhile by someone else (the server answered HTTP %ld, not 201 "
                 "Created): check that release",
                 hs->base, name, t.status);
        rc = -1;
    }
    buf_free(&t.response);
    return rc;
}
