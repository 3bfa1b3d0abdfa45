/*
 * release_store.c — see release_store.h.
 */
#include "ops/release_store.h"

#include "core/fs.h"
#include "core/xalloc.h"
#include "ops/https_store.h"
#include "ops/s3.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct release_store {
    char url[1200];
    s3_client *s3;      /* an S3 prefix */
    https_store *https; /* an HTTPS URL; neither: a directory */
    char bucket[256];
    char base[1100]; /* "PREFIX/" or "" */
};

int release_store_open(const config *cfg, const char *url, release_store **out, char *err, size_t errlen)
{
    if (!url || !*url) {
        snprintf(err, errlen, "no release store given (MUSICGRAPH_DEPLOY_STORE or --store)");
        return -1;
    }
    release_store *rs = xcalloc(1, sizeof *rs);
    snprintf(rs->url, sizeof rs->url, "%s", url);
    size_t n = strlen(rs->url);
    while (n > 1 && rs->url[n - 1] == '/')
        rs->url[--n] = '\0';
    if (s3_is_url(url)) {
        char rest[1024];
        if (s3_parse_url(url, rs->bucket, sizeof rs->bucket, rest, sizeof rest, err, errlen) != 0 ||
            s3_open(cfg, &rs->s3, err, errlen) != 0) {
            free(rs);
            return -1;
        }
        size_t r = strlen(rest);
        snprintf(rs->base, sizeof rs->base, "%s%s", rest, r && rest[r - 1] != '/' ? "/" : "");
    } else if (https_store_is_url(url)) {
        if (https_store_open(cfg, url, &rs->https, err, errlen) != 0) {
            free(rs);
            return -1;
        }
    } else if (strstr(url, "://")) {
        snprintf(err, errlen, "%.300s: a release store is a directory, https://HOST/PATH/ or s3://BUCKET/PREFIX", url);
        free(rs);
        return -1;
    }
    *out = rs;
    return 0;
}

void release_store_close(release_store *rs)
{
    if (!rs)
        return;
    if (rs->s3)
        s3_close(rs->s3);
    https_store_close(rs->https);
    free(rs);
}

const char *release_store_url(const release_store *rs) { return rs->url; }

static void key_of(const release_store *rs, const char *name, char *key, size_t len)
{
    snprintf(key, len, "%s%s", rs->base, name);
}

/* Copies from into a new file to (fsynced), refusing more than max bytes
 * (0: no limit) — counted while copying, since the file may still grow. */
static int copy_file(const char *from, const char *to, int64_t max, char *err, size_t errlen)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = in >= 0 ? open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
    char chunk[65536];
    ssize_t n = 0;
    int64_t total = 0;
    int rc = in >= 0 && out >= 0 ? 0 : -1;
    while (rc == 0 && (n = read(in, chunk, sizeof chunk)) > 0) {
        total += n;
        if (max && total > max)
            break;
        if (fs_write_all(out, chunk, (size_t)n) != 0)
            rc = -1;
    }
    if (rc == 0 && max && total > max) {
        snprintf(err, errlen, "%.300s: larger than expected (over %lld bytes)", from, (long long)max);
        rc = -1;
    } else {
        if (n < 0 || (out >= 0 && rc == 0 && fsync(out) != 0))
            rc = -1;
        if (rc != 0)
            snprintf(err, errlen, "cannot copy %.300s to %.300s: %.300s", from, to, strerror(errno));
    }
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0 && rc == 0) {
        snprintf(err, errlen, "cannot write %.300s: %.300s", to, strerror(errno));
        rc = -1;
    }
    if (rc != 0 && out >= 0)
        unlink(to);
    return rc;
}

int release_store_get(release_store *rs, const char *name, size_t max, char **data, size_t *len, int *missing,
                      char *err, size_t errlen)
{
    *data = NULL;
    *len = 0;
    *missing = 0;
    char where[2400];
    if (rs->s3) {
        key_of(rs, name, where, sizeof where);
        return s3_get_bytes(rs->s3, rs->bucket, where, max, data, len, missing, err, errlen);
    }
    if (rs->https)
        return https_store_get(rs->https, name, max, data, len, missing, err, errlen);
    snprintf(where, sizeof where, "%s/%s", rs->url, name);
    if (access(where, F_OK) != 0 && errno == ENOENT) {
        *missing = 1;
        return 0;
    }
    unsigned char *bytes;
    size_t size;
    if (fs_read_file(where, max, &bytes, len, &size, err, errlen) != 0)
        return -1;
    if (size > max) {
        free(bytes);
        snprintf(err, errlen, "%s is larger than expected (%zu bytes)", where, size);
        return -1;
    }
    *data = (char *)bytes;
    return 0;
}

int release_store_fetch(release_store *rs, const char *name, const char *path, int64_t max, int *missing, char *err,
                        size_t errlen)
{
    *missing = 0;
    char where[2400];
    if (rs->s3) {
        key_of(rs, name, where, sizeof where);
        int rc = s3_get_file(rs->s3, rs->bucket, where, path, max, missing, err, errlen);
        if (rc == 0 && *missing)
            unlink(path);
        return rc;
    }
    if (rs->https)
        return https_store_fetch(rs->https, name, path, max, missing, err, errlen);
    snprintf(where, sizeof where, "%s/%s", rs->url, name);
    struct stat st;
    if (stat(where, &st) != 0 && errno == ENOENT) {
        *missing = 1;
        return 0;
    }
    return copy_file(where, path, max, err, errlen);
}

int release_store_put(release_store *rs, const char *name, const void *data, size_t len, char *err, size_t errlen)
{
    char where[2400];
    if (rs->s3) {
        key_of(rs, name, where, sizeof where);
        return s3_put_bytes(rs->s3, rs->bucket, where, data, len, "application/octet-stream", err, errlen);
    }
    if (rs->https)
        return https_store_put(rs->https, name, data, len, err, errlen);
    snprintf(where, sizeof where, "%s/%s", rs->url, name);
    char dir[2400];
    snprintf(dir, sizeof dir, "%s", where);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (fs_make_dirs(dir, err, errlen) != 0)
        return -1;
    /* Everyone may read the store: the 0750 of fs_make_dirs is for state. */
    if (fs_write_atomic(where, data, len, 0644, err, errlen) != 0)
        return -1;
    return 0;
}

int release_copy_file(const char *from, const char *to, char *err, size_t errlen)
{
    return copy_file(from, to, 0, err, errlen);
}
