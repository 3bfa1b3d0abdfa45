/*
 * deploy_container.h — the deploy agent's container mode: the podman
 * operations that replace the container serving musicgraph by one of
 * another image, and back.
 *
 * Names: the container that serves is NAME (the operator's `podman run
 * --name NAME …`); every other container the agent keeps is NAME-VERSION
 * ('+' of a version becomes '_'): the predecessors, kept stopped for a
 * rollback, and the successor while it is being prepared.
 *
 * Why the successor is made by replaying NAME's own create command
 * (podman's Config.CreateCommand, with the image, the name and -d replaced;
 * what `podman generate systemd --new` replays too) and not with `podman
 * container clone`: podman 4.3's clone drops the network mode, the
 * ulimits and the stop timeout (measured here: --network host became bridge,
 * nofile=4096 became 1048576, --stop-timeout 7 became 10). Replaying the
 * command keeps the operator's `podman run` options the single source of
 * truth. An anonymous volume (the image's VOLUME /var/lib/musicgraph when
 * the operator named none) is passed on by its generated name, so the
 * successor sees the same state.
 *
 * One-off commands (version, doctor, migrate --status, backup) run in a
 * throwaway sibling: `podman run --rm` of the wanted image with the serving
 * container's volumes (--volumes-from), network, user, ulimits and
 * environment (an --env-file of mode 0600, so secrets in it are not on a
 * command line). Not `podman exec`: that cannot run the new image's binary,
 * and it needs the old container running.
 *
 * Podman only; `docker` lacks CreateCommand.
 */
#ifndef MG_OPS_DEPLOY_CONTAINER_H
#define MG_OPS_DEPLOY_CONTAINER_H

#include <stddef.h>

typedef struct deploy_ctr deploy_ctr;

/* Inspects the container name (which must exist and was not run with --rm);
 * repo is the image repository, or NULL for the running image's without its
 * tag. scratch_dir holds the agent's temporary files (the env file). */
int deploy_ctr_open(const char *name, const char *repo, const char *scratch_dir, deploy_ctr **out, char *err,
                    size_t errlen);
void deploy_ctr_close(deploy_ctr *c);

/* The version that NAME's image carries (its org.opencontainers.image.version
 * label), "" when it carries none. */
const char *deploy_ctr_serving(const deploy_ctr *c);
const char *deploy_ctr_name(const deploy_ctr *c);
/* REPO:VERSION into ref. */
void deploy_ctr_ref(const deploy_ctr *c, const char *version, char *ref, size_t len);

/* podman pull REPO:VERSION. */
int deploy_ctr_pull(deploy_ctr *c, const char *version, char *err, size_t errlen);
/* Refuses REPO:VERSION unless its entry point is /usr/local/bin/musicgraph and
 * that file is byte for byte the file binary (the verified release's). */
int deploy_ctr_check_binary(deploy_ctr *c, const char *version, const char *binary, char *err, size_t errlen);

/* Runs REPO:VERSION with args in a throwaway sibling of NAME, with NAME's
 * environment and extra_env (NAME=value strings, may be NULL) over it; its
 * output in out. The exit status, or -1 when podman could not run it. */
int deploy_ctr_run_once(deploy_ctr *c, const char *version, const char *const args[], const char *const extra_env[],
                        char *out, size_t outlen);
/* The value of key in NAME's environment; "" when it is not set. */
void deploy_ctr_env(deploy_ctr *c, const char *key, char *value, size_t len);
/* Where a path inside NAME is on this host (through NAME's bind mounts and
 * volumes): 0, or -1 when it lies on no mount (or podman cannot say). */
int deploy_ctr_host_path(deploy_ctr *c, const char *inside, char *host, size_t len);

/* 1 when NAME-VERSION exists (a kept predecessor). */
int deploy_ctr_kept(deploy_ctr *c, const char *version);
/* Makes NAME-VERSION (created from NAME's create command with REPO:VERSION
 * when it does not exist yet) the container that serves: NAME is stopped
 * (its own stop timeout) and renamed NAME-SERVING, NAME-VERSION renamed NAME
 * and started. The steps taken go to done (for the record). */
int deploy_ctr_swap(deploy_ctr *c, const char *version, char *done, size_t dlen, char *err, size_t errlen);
/* 1 while NAME runs; 0 when it has stopped, with its state, exit code and
 * last log line in why. */
int deploy_ctr_running(deploy_ctr *c, char *why, size_t len);
/* Removes NAME-VERSION and the image REPO:VERSION (when nothing else uses it). */
void deploy_ctr_remove(deploy_ctr *c, const char *version);
/* Removes kept NAME-VERSION containers (and their images) so that keep
 * containers remain: the serving one, protect (the previous one) and the
 * newest others; the names removed go to removed. */
void deploy_ctr_prune(deploy_ctr *c, int keep, const char *protect, char *removed, size_t rlen);

#endif
