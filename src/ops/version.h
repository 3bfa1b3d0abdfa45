/*
 * version.h — what this binary is: version, commit, build date and the
 * database schema it brings.
 *
 * The version and commit come from git at build time (scripts/version,
 * compiled in as mg_version.h); the build date is the source's date
 * (SOURCE_DATE_EPOCH, else the commit time), so two builds of one commit are
 * byte-identical; the schema is the newest migration embedded in the binary.
 * `musicgraph version`, /healthz, /metrics and doctor all print these.
 */
#ifndef MG_OPS_VERSION_H
#define MG_OPS_VERSION_H

#include <stddef.h>

const char *version_string(void); /* "0.2.0", "0.2.0-3-g1a2b3c4d5e6f" */
const char *version_commit(void); /* 12 hex digits, or "unknown" */
/* The build date as YYYY-MM-DDTHH:MM:SSZ (UTC). */
void version_build_date(char *out, size_t len);
/* The newest migration this binary carries ("0002_accounts"). */
void version_schema(char *out, size_t len);
/* One line: "musicgraph VERSION (commit C, built D, schema S)". */
void version_line(char *out, size_t len);

#endif
