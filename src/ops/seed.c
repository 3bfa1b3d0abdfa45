/*
 * seed.c — dataset file -> rules -> store (see seed.h).
 */
#include "ops/seed.h"

#include "core/buf.h"
#include "core/embedded.h"
#include "domain/codec.h"
#include "domain/rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_MAX_BYTES (256u * 1024 * 1024)

int seed_parse_checked(const char *json, size_t len, dataset *out, char *err, size_t errlen)
{
    domain_errors errs = {0};
    if (codec_parse_dataset(json, len, out, &errs) == 0)
        domain_check_dataset(out, &errs);
    if (errs.count == 0)
        return 0;
    buf msg = BUF_INIT;
    size_t shown = errs.count < 10 ? errs.count : 10;
    buf_printf(&msg, "the dataset breaks %zu rule%s:", errs.count, errs.count == 1 ? "" : "s");
    for (size_t i = 0; i < shown; i++)
        buf_printf(&msg, "\n  %s: %s: %s", errs.items[i].entry, errs.items[i].field, errs.items[i].message);
    if (shown < errs.count)
        buf_printf(&msg, "\n  … and %zu more", errs.count - shown);
    snprintf(err, errlen, "%s", buf_cstr(&msg));
    buf_free(&msg);
    domain_errors_free(&errs);
    dataset_free(out);
    return -1;
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

int seed_run(store *s, const char *path, size_t *genres, size_t *bands, char *err, size_t errlen)
{
    int empty;
    if (store_is_empty(s, &empty, err, errlen) != 0)
        return -1;
    if (!empty) {
        snprintf(err, errlen, "the database already holds data; seeding only fills an empty database");
        return -1;
    }
    char *owned = NULL;
    const char *json;
    size_t len;
    if (path) {
        if (read_file(path, &owned, &len, err, errlen) != 0)
            return -1;
        json = owned;
    } else {
        const struct embedded_file *f = embedded_find(embedded_dataset, "musicgraph.json");
        json = (const char *)f->data;
        len = f->len;
    }
    dataset d;
    char why[4096];
    int rc = seed_parse_checked(json, len, &d, why, sizeof why);
    free(owned);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path ? path : "bundled dataset", why);
        return -1;
    }
    rc = store_replace_all(s, &d, err, errlen);
    *genres = d.ngenres;
    *bands = d.nbands;
    dataset_free(&d);
    return rc;
}
