/*
 * seed.c — dataset files -> codec -> rules -> store (see seed.h).
 */
#include "ops/seed.h"

#include "core/buf.h"
#include "core/embedded.h"
#include "domain/codec.h"
#include "domain/rules.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEED_MAX_BYTES (256u * 1024 * 1024)
#define SEED_MAX_FILES 256

/* "the dataset breaks N rules:" and the first ten, each prefixed by where. */
static void format_errors(const char *where, const domain_errors *errs, char *err, size_t errlen)
{
    buf msg = BUF_INIT;
    size_t shown = errs->count < 10 ? errs->count : 10;
    buf_printf(&msg, "%s breaks %zu rule%s:", where, errs->count, errs->count == 1 ? "" : "s");
    for (size_t i = 0; i < shown; i++)
        buf_printf(&msg, "\n  %s: %s: %s", errs->items[i].entry, errs->items[i].field, errs->items[i].message);
    if (shown < errs->count)
        buf_printf(&msg, "\n  … and %zu more", errs->count - shown);
    snprintf(err, errlen, "%s", buf_cstr(&msg));
    buf_free(&msg);
}

static int read_file(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    buf b = BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf_append(&b, chunk, n);
        if (b.len > SEED_MAX_BYTES)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed || buf_failed(&b) || b.len > SEED_MAX_BYTES) {
        snprintf(err, errlen, "cannot read %s: %s", path, failed ? "read error" : "file too large");
        buf_free(&b);
        return -1;
    }
    *data = buf_steal(&b, len);
    return 0;
}

/* Parses one document named where and appends its entries to out. */
static int add_document(const char *where, const char *json, size_t len, dataset *out, char *err, size_t errlen)
{
    domain_errors errs = {0};
    dataset part;
    if (codec_parse_dataset(json, len, &part, &errs) != 0) {
        format_errors(where, &errs, err, errlen);
        domain_errors_free(&errs);
        return -1;
    }
    if (dataset_append(out, &part) != 0) {
        dataset_free(&part);
        snprintf(err, errlen, "out of memory reading %s", where);
        return -1;
    }
    return 0;
}

static int add_file(const char *path, dataset *out, char *err, size_t errlen)
{
    char *json;
    size_t len;
    if (read_file(path, &json, &len, err, errlen) != 0)
        return -1;
    int rc = add_document(path, json, len, out, err, errlen);
    free(json);
    return rc;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every *.json in dir, in name order (the order does not change the map,
 * but a stable order gives stable error messages). */
static int add_directory(const char *dir, dataset *out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    char *names[SEED_MAX_FILES];
    size_t n = 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (n == SEED_MAX_FILES) {
            snprintf(err, errlen, "%s holds more than %d dataset files", dir, SEED_MAX_FILES);
            rc = -1;
        } else if (!(names[n++] = strdup(e->d_name))) {
            n--;
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    closedir(d);
    if (rc == 0 && n == 0) {
        snprintf(err, errlen, "%s holds no dataset files (*.json)", dir);
        rc = -1;
    }
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            buf path = BUF_INIT;
            buf_printf(&path, "%s/%s", dir, names[i]);
            rc = buf_failed(&path) ? -1 : add_file(buf_cstr(&path), out, err, errlen);
            buf_free(&path);
        }
        free(names[i]);
    }
    return rc;
}

int seed_load(const char *path, dataset *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    struct stat st;
    if (!path) {
        for (const struct embedded_file *f = embedded_dataset; rc == 0 && f->name; f++) {
            char where[160];
            snprintf(where, sizeof where, "bundled dataset file %s", f->name);
            rc = add_document(where, (const char *)f->data, f->len, out, err, errlen);
        }
    } else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = add_directory(path, out, err, errlen);
    } else {
        rc = add_file(path, out, err, errlen);
    }
    if (rc == 0) {
        domain_errors errs = {0};
        if (domain_check_dataset(out, &errs) != 0) {
            format_errors(path ? path : "the bundled dataset", &errs, err, errlen);
            rc = -1;
        }
        domain_errors_free(&errs);
    }
    if (rc != 0)
        dataset_free(out);
    return rc;
}

int seed_run(store *s, const char *path, size_t *genres, size_t *bands, char *err, size_t errlen)
{
    int empty;
    if (store_is_empty(s, &empty, err, errlen) != 0)
        return -1;
    if (!empty) {
        snprintf(err, errlen, "the database already holds data; seeding only fills an empty database");
        return -1;
    }
    dataset d;
    if (seed_load(path, &d, err, errlen) != 0)
        return -1;
    int rc = store_replace_all(s, &d, err, errlen);
    *genres = d.ngenres;
    *bands = d.nbands;
    dataset_free(&d);
    return rc;
}
