/*
 * release.c — see release.h.
 */
#include "ops/release.h"

#include "core/fs.h"
#include "ops/https_store.h"
#include "ops/minisign.h"
#include "ops/release_store.h"
#include "ops/s3.h"

#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char cmd_release_usage[] = "usage: musicgraph release verify DIR --public-key KEY\n"
                                 "       musicgraph release promote VERSION CHANNEL --to STORE\n"
                                 "       musicgraph release publish DIR --to STORE --public-key KEY\n\n"
                                 "DIR holds a release as `make dist` writes it: the tarballs, SHA256SUMS and\n"
                                 "SHA256SUMS.minisig. verify checks the minisign signature of SHA256SUMS with\n"
                                 "KEY (a minisign .pub file, or its RW… line) and the SHA-256 of every file it\n"
                                 "names; the version is the one in the signed comment. publish verifies, then\n"
                                 "copies the release to STORE/releases/VERSION/. STORE is a directory,\n"
                                 "https://HOST[:PORT]/PATH/ (GET and WebDAV PUT, TLS verified: the settings\n"
                                 "MUSICGRAPH_RELEASE_STORE_CA_FILE and _AUTH_FILE) or s3://BUCKET/PREFIX\n"
                                 "(MUSICGRAPH_S3_* settings, as for backups). A version that is already in the\n"
                                 "store is never replaced: publish refuses it. promote points\n"
                                 "STORE/channels/CHANNEL (dev, staging, production) at a published VERSION;\n"
                                 "production only a version deployed healthy on dev or staging.\n\n"
                                 "  --public-key KEY  MUSICGRAPH_RELEASE_PUBLIC_KEY\n"
                                 "  --to STORE        the release store\n";

#define MAX_FILES 16
#define SUMS      "SHA256SUMS"
#define SIG       "SHA256SUMS.minisig"

typedef struct release {
    char version[128];
    char files[MAX_FILES + 2][256]; /* the named files, then SIG, then SUMS: the upload order */
    size_t nfiles;
} release;

/* Reads a whole small file; *data is malloc'd and NUL-terminated. */
static int read_small(const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %.300s: %.300s", path, strerror(errno));
        return -1;
    }
    *data = malloc(max + 1);
    *len = *data ? fread(*data, 1, max + 1, f) : 0;
    int bad = ferror(f) || !*data;
    fclose(f);
    if (bad || *len > max) {
        snprintf(err, errlen, bad ? "cannot read %.300s" : "%.300s is larger than expected", path);
        free(*data);
        *data = NULL;
        return -1;
    }
    (*data)[*len] = '\0';
    return 0;
}

static int sha256_file(const char *path, char hex[65], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read %.300s: %.300s", path, strerror(errno));
        return -1;
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        crypto_hash_sha256_update(&st, chunk, (size_t)n);
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "cannot read %.300s: %.300s", path, strerror(errno));
        return -1;
    }
    unsigned char digest[32];
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
    return 0;
}

static int safe_name(const char *s, size_t n)
{
    if (n == 0 || n > 200 || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') && !(s[i] >= '0' && s[i] <= '9') &&
            !strchr(".-_+", s[i]))
            return 0;
    return 1;
}

/* KEY is a file holding a public key, or the key itself. */
static int load_key(const char *arg, minisign_key *key, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len;
    char e[256];
    if (access(arg, F_OK) == 0) {
        if (read_small(arg, 4096, &text, &len, err, errlen) != 0)
            return -1;
    }
    int rc = minisign_parse_key(text ? text : arg, text ? len : strlen(arg), key, e, sizeof e);
    if (rc != 0)
        snprintf(err, errlen, "public key %.200s: %.300s", arg, e);
    free(text);
    return rc;
}

/* Checks the release in dir (see release.h) and fills r. With only, the
 * files SHA256SUMS names other than only need not be there (a deploy
 * fetches the one tarball it unpacks), but only must be named. */
static int release_check(const char *dir, const char *keyarg, const char *only, release *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    minisign_key key;
    if (load_key(keyarg, &key, err, errlen) != 0)
        return -1;
    char path[4096], *sums = NULL, *sig = NULL;
    size_t sumslen, siglen;
    snprintf(path, sizeof path, "%s/%s", dir, SUMS);
    if (read_small(path, 64 * 1024, &sums, &sumslen, err, errlen) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, SIG);
    if (read_small(path, 4096, &sig, &siglen, err, errlen) != 0) {
        free(sums);
        snprintf(err, errlen, "%.300s/%.300s is missing: the release is not signed", dir, SIG);
        return -1;
    }
    char comment[1024], e[512];
    int rc = -1;
    if (minisign_verify(&key, sums, sumslen, sig, siglen, comment, sizeof comment, e, sizeof e) != 0) {
        snprintf(err, errlen, "%.300s/%.300s: %.300s", dir, SUMS, e);
        goto out;
    }
    int vlen = 0;
    if (sscanf(comment, "musicgraph %127s commit %*s%n", r->version, &vlen) != 1 || vlen == 0 ||
        !safe_name(r->version, strlen(r->version))) {
        snprintf(err, errlen, "the signed comment \"%.200s\" does not name a musicgraph version", comment);
        goto out;
    }
    char prefix[160];
    snprintf(prefix, sizeof prefix, "musicgraph-%s-", r->version);
    for (char *line = sums, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
        nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n == 0)
            continue;
        /* sha256sum's lines: 64 hex digits, space, space or '*', the name. */
        const char *name = line + 66;
        size_t namelen = n > 66 ? n - 66 : 0;
        if (n < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*') || !safe_name(name, namelen) ||
            strncmp(name, prefix, strlen(prefix)) != 0 || r->nfiles == MAX_FILES) {
            snprintf(err, errlen, "%.300s: unexpected line \"%.*s\" (expected HASH  %.300sNAME)", SUMS,
                     (int)(n > 120 ? 120 : n), line, prefix);
            goto out;
        }
        char want[65], got[65];
        snprintf(want, sizeof want, "%.64s", line);
        snprintf(r->files[r->nfiles], sizeof r->files[0], "%.*s", (int)namelen, name);
        if (only && strcmp(r->files[r->nfiles], only) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, r->files[r->nfiles]);
        if (sha256_file(path, got, err, errlen) != 0)
            goto out;
        if (strcmp(want, got) != 0) {
            snprintf(err, errlen, "%.300s: SHA-256 %.300s, but SHA256SUMS says %.300s: the file was changed", path, got,
                     want);
            goto out;
        }
        r->nfiles++;
    }
    if (r->nfiles == 0) {
        if (only)
            snprintf(err, errlen, "%.300s/%.300s does not name %.300s", dir, SUMS, only);
        else
            snprintf(err, errlen, "%.300s/%.300s names no file", dir, SUMS);
        goto out;
    }
    snprintf(r->files[r->nfiles++], sizeof r->files[0], "%s", SIG);
    snprintf(r->files[r->nfiles++], sizeof r->files[0], "%s", SUMS);
    rc = 0;
out:
    free(sums);
    free(sig);
    return rc;
}

int release_verify(const char *dir, const char *key, const char *only, char *version, size_t vlen, char *err,
                   size_t errlen)
{
    release r;
    if (release_check(dir, key, only, &r, err, errlen) != 0)
        return -1;
    snprintf(version, vlen, "%s", r.version);
    return 0;
}

static void remove_tree(const char *dir, const release *r)
{
    char path[4700];
    for (size_t i = 0; i < r->nfiles; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, r->files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int publish_dir(const char *dir, const char *store, const release *r, char *err, size_t errlen)
{
    char releases[4096], tmp[4400], final[4400], from[4096], to[4700];
    if (snprintf(releases, sizeof releases, "%s/releases", store) >= (int)sizeof releases) {
        snprintf(err, errlen, "the store path is too long");
        return -1;
    }
    snprintf(final, sizeof final, "%s/%s", releases, r->version);
    if (fs_make_dirs(releases, err, errlen) != 0)
        return -1;
    if (access(final, F_OK) == 0) {
        snprintf(err, errlen, "%.300s is already published in %.300s; a published version is never replaced",
                 r->version, store);
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", releases, r->version);
    if (!mkdtemp(tmp)) {
        snprintf(err, errlen, "cannot create a directory in %.300s: %.300s", releases, strerror(errno));
        return -1;
    }
    chmod(tmp, 0755);
    for (size_t i = 0; i < r->nfiles; i++) {
        snprintf(from, sizeof from, "%s/%s", dir, r->files[i]);
        snprintf(to, sizeof to, "%s/%s", tmp, r->files[i]);
        if (release_copy_file(from, to, err, errlen) != 0) {
            remove_tree(tmp, r);
            return -1;
        }
    }
    /* Whole or not at all, and never over a version published meanwhile. */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) != 0) {
        int e = errno;
        remove_tree(tmp, r);
        if (e == EEXIST || e == ENOTEMPTY)
            snprintf(err, errlen, "%.300s is already published in %.300s; a published version is never replaced",
                     r->version, store);
        else
            snprintf(err, errlen, "cannot rename %.300s to %.300s: %.300s", tmp, final, strerror(e));
        return -1;
    }
    int fd = open(releases, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

/* The store's prefix for s3://BUCKET/PREFIX: "PREFIX/" ("" for the bucket's root). */
static void s3_base(const char *rest, char *out, size_t len)
{
    size_t n = strlen(rest);
    snprintf(out, len, "%s%s", rest, n && rest[n - 1] != '/' ? "/" : "");
}

static int publish_s3(const config *cfg, const char *dir, const char *store, const release *r, char *err, size_t errlen)
{
    char bucket[256], rest[1024], base[1100], prefix[1300], key[1600], from[4096];
    if (s3_parse_url(store, bucket, sizeof bucket, rest, sizeof rest, err, errlen) != 0)
        return -1;
    s3_base(rest, base, sizeof base);
    snprintf(prefix, sizeof prefix, "%sreleases/%s/", base, r->version);
    s3_client *c;
    if (s3_open(cfg, &c, err, errlen) != 0)
        return -1;
    s3_object *objects = NULL;
    size_t count = 0;
    int rc = s3_list(c, bucket, prefix, &objects, &count, err, errlen);
    free(objects);
    if (rc == 0 && count > 0) {
        snprintf(err, errlen, "%.300s is already published in %.300s; a published version is never replaced",
                 r->version, store);
        rc = -1;
    }
    /* In order: SHA256SUMS last, so that it marks a complete release. */
    for (size_t i = 0; rc == 0 && i < r->nfiles; i++) {
        snprintf(from, sizeof from, "%s/%s", dir, r->files[i]);
        snprintf(key, sizeof key, "%s%s", prefix, r->files[i]);
        rc = s3_put_file(c, bucket, key, from, err, errlen);
    }
    s3_close(c);
    return rc;
}

/* Checks that no object of the release is there yet (a half-published
 * release is refused too, as on S3), then puts each as a new object (see
 * https_store.c for what that guarantees against a concurrent publish). */
static int publish_https(const config *cfg, const char *dir, const char *store, const release *r, char *err,
                         size_t errlen)
{
    https_store *hs;
    if (https_store_open(cfg, store, &hs, err, errlen) != 0)
        return -1;
    char name[600], from[4096];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->nfiles; i++) {
        int exists = 0;
        snprintf(name, sizeof name, "releases/%s/%s", r->version, r->files[i]);
        rc = https_store_exists(hs, name, &exists, err, errlen);
        if (rc == 0 && exists) {
            snprintf(err, errlen,
                     "%.300s is already published in %.300s (%.300s exists); a published version is never replaced",
                     r->version, store, r->files[i]);
            rc = -1;
        }
    }
    /* In order: SHA256SUMS last, so that it marks a complete release. */
    for (size_t i = 0; rc == 0 && i < r->nfiles; i++) {
        snprintf(from, sizeof from, "%s/%s", dir, r->files[i]);
        snprintf(name, sizeof name, "releases/%s/%s", r->version, r->files[i]);
        rc = https_store_put_new_file(hs, name, from, err, errlen);
    }
    https_store_close(hs);
    return rc;
}

static int channel_valid(const char *c)
{
    return strcmp(c, "dev") == 0 || strcmp(c, "staging") == 0 || strcmp(c, "production") == 0;
}

/* Production only takes a version some deploy agent found healthy on dev or
 * staging: the record deployed/ENV/VERSION it wrote says "result":"healthy". */
static int healthy_before(release_store *rs, const char *version, char *err, size_t errlen)
{
    static const char *const envs[] = {"dev", "staging"};
    char seen[512] = "";
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        char name[300], *data = NULL;
        size_t len;
        int missing;
        snprintf(name, sizeof name, "deployed/%s/%s", envs[i], version);
        if (release_store_get(rs, name, 64 * 1024, &data, &len, &missing, err, errlen) != 0)
            return -1;
        json_t *doc = missing ? NULL : json_loads(data, 0, NULL);
        const char *result = json_string_value(json_object_get(doc, "result"));
        int healthy = result && strcmp(result, "healthy") == 0;
        if (!missing)
            snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "%s%s: %.40s", seen[0] ? "; " : "", envs[i],
                     result ? result : "unreadable record");
        json_decref(doc);
        free(data);
        if (healthy)
            return 0;
    }
    snprintf(err, errlen,
             "%s has not been deployed healthy on dev or staging (%s): deploy it there first; production takes "
             "only a version that passed its checks",
             version, seen[0] ? seen : "no deployed/dev or deployed/staging record");
    return -1;
}

/* channels/CHANNEL := "VERSION\n", once releases/VERSION/SHA256SUMS is in the store. Replacing the
 * pointer is the point of it: in a directory through a rename, so a reader sees the old or the new. */
static int promote(const config *cfg, const char *store, const char *version, const char *channel, char *err,
                   size_t errlen)
{
    release_store *rs;
    if (release_store_open(cfg, store, &rs, err, errlen) != 0)
        return -1;
    char name[300], line[256], *data = NULL;
    size_t len;
    int missing = 0;
    snprintf(name, sizeof name, "releases/%s/%s", version, SUMS);
    int rc = release_store_get(rs, name, 64 * 1024, &data, &len, &missing, err, errlen);
    free(data);
    if (rc == 0 && missing) {
        snprintf(err, errlen, "%s is not published in %.300s (no releases/%s/%s)", version, store, version, SUMS);
        rc = -1;
    }
    if (rc == 0 && strcmp(channel, "production") == 0)
        rc = healthy_before(rs, version, err, errlen);
    snprintf(name, sizeof name, "channels/%s", channel);
    snprintf(line, sizeof line, "%s\n", version);
    if (rc == 0)
        rc = release_store_put(rs, name, line, strlen(line), err, errlen);
    release_store_close(rs);
    return rc;
}

int cmd_release(config *cfg, int argc, char **argv)
{
    const char *action = argc > 1 ? argv[1] : "";
    const char *args[2] = {NULL, NULL}, *store = NULL, *key = cfg->release_public_key;
    int nargs = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            store = argv[++i];
        else if (nargs < 2 && argv[i][0] != '-')
            args[nargs++] = argv[i];
        else {
            fprintf(stderr, "musicgraph release: unexpected argument '%s' (see musicgraph release --help)\n", argv[i]);
            return 2;
        }
    }
    int verify = strcmp(action, "verify") == 0, publish = strcmp(action, "publish") == 0,
        promoting = strcmp(action, "promote") == 0;
    if (!(verify && nargs == 1 && !store) && !(publish && nargs == 1 && store) && !(promoting && nargs == 2 && store)) {
        fprintf(stderr, "musicgraph release: expected verify DIR, publish DIR --to STORE or promote VERSION CHANNEL "
                        "--to STORE (see musicgraph release --help)\n");
        return 2;
    }
    char err[2048];
    if (promoting) {
        if (!safe_name(args[0], strlen(args[0])) || !channel_valid(args[1])) {
            fprintf(stderr, "musicgraph release promote: expected a version and dev, staging or production\n");
            return 2;
        }
        if (promote(cfg, store, args[0], args[1], err, sizeof err) != 0) {
            fprintf(stderr, "musicgraph release promote: %s\n", err);
            return 1;
        }
        printf("%s/channels/%s -> %s\n", store, args[1], args[0]);
        return 0;
    }
    if (!key || !*key) {
        fprintf(stderr, "musicgraph release: give the public key (--public-key or MUSICGRAPH_RELEASE_PUBLIC_KEY)\n");
        return 2;
    }
    release r;
    if (release_check(args[0], key, NULL, &r, err, sizeof err) != 0) {
        fprintf(stderr, "musicgraph release: %s\n", err);
        return 1;
    }
    if (verify) {
        printf("musicgraph %s: signature and %zu checksums verified\n", r.version, r.nfiles - 2);
        return 0;
    }
    int rc = s3_is_url(store)            ? publish_s3(cfg, args[0], store, &r, err, sizeof err)
             : https_store_is_url(store) ? publish_https(cfg, args[0], store, &r, err, sizeof err)
                                         : publish_dir(args[0], store, &r, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "musicgraph release publish: %s\n", err);
        return 1;
    }
    printf("published musicgraph %s to %s/releases/%s/ (%zu files)\n", r.version, store, r.version, r.nfiles);
    return 0;
}
