/*
 * doctor.h — the operator's pre-flight check, and the settings reference.
 *
 * doctor_run checks what an operator should know after any change:
 * configuration and its effective values (secrets redacted), the secret in
 * production, the database and its schema, the state and backup directories
 * (writable, free space), the age of the newest backup, the listening
 * address, and the clock. Each check is ok, warn or error; the worst one is
 * the exit status (0, 1, 2).
 */
#ifndef MG_DOCTOR_H
#define MG_DOCTOR_H

#include "core/buf.h"
#include "core/config.h"

enum doctor_level { DOCTOR_OK, DOCTOR_WARN, DOCTOR_ERROR };

/* Writes the report (text or JSON) to out; returns the worst level. */
enum doctor_level doctor_run(const config *cfg, int json, buf *out);
/* The settings table as Markdown (docs/configuration.md is this output). */
void doctor_settings_markdown(buf *out);
/* Effective configuration, secrets redacted, one "NAME=value" per line. */
void doctor_effective_config(const config *cfg, buf *out);

#endif
