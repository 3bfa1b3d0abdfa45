/*
 * backup_location.h — which backup target a location names, and opening it:
 * a local directory (a path) or an S3 prefix (s3://BUCKET/PREFIX).
 */
#ifndef MG_BACKUP_LOCATION_H
#define MG_BACKUP_LOCATION_H

#include "core/config.h"
#include "ops/backup_target.h"

#include <stddef.h>

/* 1 when location is an S3 URL (s3://BUCKET/…) rather than a local path. */
int backup_location_is_remote(const char *location);
/* Checks the form of a location without connecting (an offsite setting). */
int backup_location_check(const char *location, char *err, size_t errlen);
/* The backups in a directory or under s3://BUCKET/PREFIX (S3 settings from cfg). */
int backup_location_open(const config *cfg, const char *location, backup_target **out, char *err, size_t errlen);
/* The place holding the one backup at location (a file, or s3://BUCKET/KEY);
 * name receives its name there. */
int backup_location_open_file(const config *cfg, const char *location, backup_target **out, char *name, size_t namelen,
                              char *err, size_t errlen);
/* The newest backup in dir: 0, MG_ERR_NOT_FOUND when there is none, -1
 * when the directory cannot be read. */
int backup_location_latest(const char *dir, backup_info *out);

#endif
