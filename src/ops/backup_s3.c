/*
 * backup_s3.c — backups under an S3 prefix (see backup_target.h).
 *
 * A backup is uploaded as PREFIX/NAME with a small PREFIX/NAME.info.json
 * beside it: {"manifest":…,"verification":null or {"ok","verified_at",
 * "message"}}, so that a listing shows row counts and verification without
 * downloading every backup. Fetching downloads into a temporary directory.
 */
#include "ops/backup_target_impl.h"
#include "core/xalloc.h"

#include "core/buf.h"
#include "core/fs.h"
#include "ops/s3.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct s3_target {
    backup_target base;
    s3_client *client;
    char bucket[256];
    char prefix[1100]; /* "" or ends with '/' */
} s3_target;

/* The key of a name, or of its sidecar (suffix); -1 with a message when it
 * is too long. */
static int key_of(const s3_target *t, const char *name, const char *suffix, char *out, size_t len, char *err,
                  size_t errlen)
{
    int w = snprintf(out, len, "%s%s%s", t->prefix, name, suffix);
    if (w >= 0 && (size_t)w < len)
        return 0;
    snprintf(err, errlen, "the S3 key for %.200s would be too long", name);
    return -1;
}

/* NAME.info.json: the manifest (null when unknown) and the verification (null when never). */
static int put_info(s3_target *t, const char *name, const backup_manifest *m, int verified, int ok, const char *message,
                    char *err, size_t errlen)
{
    buf info = BUF_INIT;
    json_writer w;
    jw_init(&w, &info);
    jw_object_begin(&w);
    jw_key(&w, "manifest");
    if (m->payload_sha256[0]) {
        buf mj = BUF_INIT;
        backup_manifest_json(m, &mj);
        jw_raw(&w, mj.data, mj.len);
        buf_free(&mj);
    } else {
        jw_null(&w);
    }
    jw_key(&w, "verification");
    if (verified) {
        jw_object_begin(&w);
        backup_verification_members(&w, ok, message);
        jw_object_end(&w);
    } else {
        jw_null(&w);
    }
    jw_object_end(&w);
    buf_putc(&info, '\n');
    char key[1500];
    int rc = key_of(t, name, ".info.json", key, sizeof key, err, errlen);
    if (rc == 0)
        rc = s3_put_bytes(t->client, t->bucket, key, info.data, info.len, "application/json", err, errlen);
    buf_free(&info);
    return rc;
}

/* Counts and verification from NAME.info.json, when it is there. */
static void read_info(s3_target *t, const char *key, backup_info *b)
{
    char side[1200], *data = NULL, why[1024];
    size_t len;
    int missing = 0;
    snprintf(side, sizeof side, "%s.info.json", key);
    if (s3_get_bytes(t->client, t->bucket, side, 1 << 20, &data, &len, &missing, why, sizeof why) == 0 && !missing) {
        json_t *j = json_loadb(data, len, 0, NULL);
        json_t *man = json_object_get(j, "manifest"), *ver = json_object_get(j, "verification");
        json_t *counts = json_object_get(man, "counts");
        if (json_is_object(counts)) {
            b->has_manifest = 1;
            b->manifest.counts.genres = json_integer_value(json_object_get(counts, "genres"));
            b->manifest.counts.bands = json_integer_value(json_object_get(counts, "bands"));
            b->manifest.counts.users = json_integer_value(json_object_get(counts, "users"));
            b->manifest.counts.audit_log = json_integer_value(json_object_get(counts, "audit_log"));
        }
        if (json_is_object(ver)) {
            b->verified = json_is_true(json_object_get(ver, "ok")) ? 1 : -1;
            const char *at = json_string_value(json_object_get(ver, "verified_at"));
            snprintf(b->verified_at, sizeof b->verified_at, "%s", at ? at : "");
        }
        json_decref(j);
    }
    free(data);
}

static int s3t_list(backup_target *bt, backup_info **list, size_t *count, char *err, size_t errlen)
{
    s3_target *t = (s3_target *)bt;
    *list = NULL;
    *count = 0;
    s3_object *objs;
    size_t n;
    if (s3_list(t->client, t->bucket, t->prefix, &objs, &n, err, errlen) != 0)
        return -1;
    backup_info *out = xcalloc(n ? n : 1, sizeof *out);
    size_t k = 0;
    for (size_t i = 0; out && i < n; i++) {
        const char *name = objs[i].key + strlen(t->prefix);
        backup_info *b = &out[k];
        memset(b, 0, sizeof *b);
        if (strchr(name, '/') || strlen(name) >= sizeof b->name ||
            backup_parse_name(name, &b->created, &b->seq, b->tag, sizeof b->tag) != 0)
            continue;
        snprintf(b->name, sizeof b->name, "%s", name);
        snprintf(b->location, sizeof b->location, "s3://%s/%s", t->bucket, objs[i].key);
        b->size = objs[i].size;
        read_info(t, objs[i].key, b);
        k++;
    }
    free(objs);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *list = out;
    *count = k;
    return 0;
}

static int s3t_fetch(backup_target *bt, const char *name, char *path, size_t pathlen, char *err, size_t errlen)
{
    s3_target *t = (s3_target *)bt;
    char dir[4096], key[1500];
    if (fs_make_private_temp_dir("download", dir, sizeof dir, err, errlen) != 0)
        return -1;
    snprintf(path, pathlen, "%s/%s", dir, name);
    int missing = 0;
    int rc = key_of(t, name, "", key, sizeof key, err, errlen);
    if (rc == 0)
        rc = s3_get_file(t->client, t->bucket, key, path, 0, &missing, err, errlen);
    if (rc == 0 && missing) {
        snprintf(err, errlen, "s3://%s/%s does not exist", t->bucket, key);
        rc = -1;
    }
    if (rc != 0) {
        unlink(path);
        rmdir(dir);
    }
    return rc;
}

/* Removes the downloaded file and its temporary directory. */
static void s3t_release(backup_target *t, const char *path)
{
    (void)t;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 0, path);
    unlink(path);
    if (dir[0])
        rmdir(dir);
}

static int s3t_put(backup_target *bt, const char *path, const backup_manifest *m, char *where, size_t wlen, char *err,
                   size_t errlen)
{
    s3_target *t = (s3_target *)bt;
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    char key[1500];
    if (key_of(t, name, "", key, sizeof key, err, errlen) != 0 ||
        s3_put_file(t->client, t->bucket, key, path, err, errlen) != 0 ||
        put_info(t, name, m, 0, 0, NULL, err, errlen) != 0)
        return -1;
    snprintf(where, wlen, "s3://%s/%s", t->bucket, key);
    return 0;
}

static int s3t_remove(backup_target *bt, const char *name, char *err, size_t errlen)
{
    s3_target *t = (s3_target *)bt;
    char key[1500], ignored[512];
    if (key_of(t, name, "", key, sizeof key, err, errlen) != 0 ||
        s3_delete(t->client, t->bucket, key, err, errlen) != 0)
        return -1;
    if (key_of(t, name, ".info.json", key, sizeof key, ignored, sizeof ignored) == 0)
        s3_delete(t->client, t->bucket, key, ignored, sizeof ignored);
    return 0;
}

static int s3t_record(backup_target *bt, const char *name, const backup_manifest *m, int ok, const char *message,
                      char *err, size_t errlen)
{
    return put_info((s3_target *)bt, name, m, 1, ok, message, err, errlen);
}

static void s3t_close(backup_target *bt)
{
    s3_target *t = (s3_target *)bt;
    s3_close(t->client);
    free(t);
}

static const struct backup_target_ops s3_ops = {
    .list = s3t_list,
    .fetch = s3t_fetch,
    .release = s3t_release,
    .put = s3t_put,
    .remove = s3t_remove,
    .record = s3t_record,
    .close = s3t_close,
};

int backup_s3_open(const config *cfg, const char *bucket, const char *prefix, backup_target **out, char *err,
                   size_t errlen)
{
    s3_target *t = xcalloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (s3_open(cfg, &t->client, err, errlen) != 0) {
        free(t);
        return -1;
    }
    t->base.ops = &s3_ops;
    snprintf(t->bucket, sizeof t->bucket, "%s", bucket);
    snprintf(t->prefix, sizeof t->prefix, "%s", prefix);
    snprintf(t->base.where, sizeof t->base.where, "s3://%s/%s", bucket, prefix);
    *out = &t->base;
    return 0;
}
