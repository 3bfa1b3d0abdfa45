/*
 * deploy.h — `musicgraph deploy`: the pull-based deploy agent.
 *
 * It runs on each server (from musicgraph-deploy.timer, or by hand) and
 * needs no inbound access: it reads its channel in the release store
 * (release_store.h), and when the channel names another version than the
 * one running it downloads that release, checks its signature and
 * checksum, unpacks it beside the others (deploy_local.h), runs the new
 * binary's preflight (doctor, migrate --status), takes a backup tagged
 * pre-deploy-FROM-TO, switches `current`, hands over to the new binary with
 * zero failed requests (SIGUSR2 through the pid file, or to the systemd unit),
 * waits for /readyz to report the new version and runs the smoke checks.
 * On any failure it switches back and hands over again; when the new
 * version had migrated the schema it first restores the pre-deploy backup
 * with the old version's schema and reports the writes that were lost.
 * Every outcome is recorded in the store (deployed/ENV/VERSION, which
 * promotion to production requires healthy) and in ROOT/history.jsonl.
 *
 * Why a subcommand of the binary rather than a script in deploy/: the
 * server already carries what the agent needs (the minisign check, the S3
 * client, backups, the store), so the agent adds no dependency to a server,
 * checks signatures with the same code as `release verify`, and its backup
 * and restore are the ones the operator's commands use. The agent that runs
 * is the current release's binary; the new release's own binary runs the
 * preflight and, on rollback, the old release's binary rebuilds its schema.
 */
#ifndef MG_OPS_DEPLOY_H
#define MG_OPS_DEPLOY_H

#include "core/config.h"

int cmd_deploy(config *cfg, int argc, char **argv);
extern const char cmd_deploy_usage[];

#endif
