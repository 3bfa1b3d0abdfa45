/*
 * schema.c — matching applied migrations against the embedded ones (see
 * schema.h).
 */
#include "store/schema.h"

#include "core/sha256.h"
#include "core/xalloc.h"
#include "mg_version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void schema_name(const char *file, char *out, size_t len)
{
    snprintf(out, len, "%s", file);
    char *dot = strrchr(out, '.');
    if (dot)
        *dot = '\0';
}

void schema_init(schema_state *st, const struct embedded_file *files)
{
    memset(st, 0, sizeof *st);
    st->files = files;
    while (files[st->count].name)
        st->count++;
    st->list = xcalloc(st->count ? st->count : 1, sizeof *st->list);
    for (size_t i = 0; i < st->count; i++)
        schema_name(files[i].name, st->list[i].name, sizeof st->list[i].name);
}

void schema_record(schema_state *st, const char *name, const char *checksum, const char *applied_at,
                   const char *app_version)
{
    size_t i;
    for (i = 0; i < st->count; i++)
        if (name && strcmp(st->list[i].name, name) == 0)
            break;
    if (i == st->count) {
        st->unknown++;
        if (name && strcmp(name, st->newest_unknown) > 0) {
            snprintf(st->newest_unknown, sizeof st->newest_unknown, "%s", name);
            snprintf(st->needs_version, sizeof st->needs_version, "%s", app_version ? app_version : "");
        }
        return;
    }
    char expected[SHA256_HEX_SIZE];
    sha256_hex(st->files[i].data, st->files[i].len, expected);
    st->list[i].applied = 1;
    st->list[i].checksum_ok = checksum && strcmp(checksum, expected) == 0;
    snprintf(st->list[i].applied_at, sizeof st->list[i].applied_at, "%s", applied_at ? applied_at : "");
}

int schema_check(const schema_state *st, char *err, size_t errlen)
{
    if (st->unknown > 0 && st->needs_version[0]) {
        snprintf(err, errlen,
                 "the database schema is at migration %s, applied by musicgraph %s; this is musicgraph %s, which "
                 "knows migrations up to %s: run musicgraph %s or newer, or restore a backup taken before the upgrade",
                 st->newest_unknown, st->needs_version, MG_VERSION, st->count ? st->list[st->count - 1].name : "none",
                 st->needs_version);
        return -1;
    }
    if (st->unknown > 0) {
        snprintf(err, errlen,
                 "the database has %zu migration(s) this binary does not know (newest %s): it was created by a newer "
                 "musicgraph; run that version, or restore a backup taken before the upgrade",
                 st->unknown, st->newest_unknown);
        return -1;
    }
    for (size_t i = 0; i < st->count; i++)
        if (st->list[i].applied && !st->list[i].checksum_ok) {
            snprintf(err, errlen,
                     "migration %s was applied with different SQL than this binary carries; the schema may differ "
                     "from what this version expects: run the version that applied it, or restore a backup",
                     st->list[i].name);
            return -1;
        }
    return 0;
}

void schema_take(schema_state *st, store_migration **list, size_t *count, size_t *unknown)
{
    *list = st->list;
    *count = st->count;
    *unknown = st->unknown;
    st->list = NULL;
}

void schema_free(schema_state *st)
{
    free(st->list);
    st->list = NULL;
}
