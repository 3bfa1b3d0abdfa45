/*
 * version.c — see version.h.
 */
#include "ops/version.h"

#include "core/embedded.h"
#include "mg_version.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const char *version_string(void) { return MG_VERSION; }

const char *version_commit(void) { return MG_COMMIT; }

void version_build_date(char *out, size_t len)
{
    time_t t = (time_t)MG_BUILD_EPOCH;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, len, "unknown");
}

void version_schema(char *out, size_t len)
{
    /* The table is sorted by name: the last entry is the newest migration. */
    const char *name = "none";
    for (const struct embedded_file *f = embedded_sqlite_migrations; f->name; f++)
        name = f->name;
    size_t n = strcspn(name, ".");
    snprintf(out, len, "%.*s", (int)n, name);
}

void version_line(char *out, size_t len)
{
    char date[32], schema[128];
    version_build_date(date, sizeof date);
    version_schema(schema, sizeof schema);
    snprintf(out, len, "musicgraph %s (commit %s, built %s, schema %s)", MG_VERSION, MG_COMMIT, date, schema);
}
