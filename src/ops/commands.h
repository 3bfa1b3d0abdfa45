/*
 * commands.h — the data-safety subcommands: backup, restore, verify, prune,
 * backups, export, import, backup-key.
 *
 * Each has the signature of main.c's commands and its --help text; main.c
 * lists them in its command table. They print what they did on stdout and,
 * on failure, one clear line (sometimes followed by details) on stderr:
 * exit 0 on success, 1 on failure, 2 on a usage error.
 */
#ifndef MG_OPS_COMMANDS_H
#define MG_OPS_COMMANDS_H

#include "core/config.h"

int cmd_backup(config *cfg, int argc, char **argv);
int cmd_restore(config *cfg, int argc, char **argv);
int cmd_verify(config *cfg, int argc, char **argv);
int cmd_prune(config *cfg, int argc, char **argv);
int cmd_backups(config *cfg, int argc, char **argv);
int cmd_export(config *cfg, int argc, char **argv);
int cmd_import(config *cfg, int argc, char **argv);
int cmd_backup_key(config *cfg, int argc, char **argv);

extern const char cmd_backup_usage[];
extern const char cmd_restore_usage[];
extern const char cmd_verify_usage[];
extern const char cmd_prune_usage[];
extern const char cmd_backups_usage[];
extern const char cmd_export_usage[];
extern const char cmd_import_usage[];
extern const char cmd_backup_key_usage[];

#endif
