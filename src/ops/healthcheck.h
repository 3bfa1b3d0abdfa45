/*
 * healthcheck.h — `musicgraph healthcheck`: is the server on this machine alive?
 *
 * The container image is built FROM scratch: no shell, no curl. Its
 * HEALTHCHECK runs the binary itself, which asks GET /healthz of the server
 * at the configured listening address (0.0.0.0 and :: become loopback) and
 * exits 0 only on 200 within the timeout.
 */
#ifndef MG_OPS_HEALTHCHECK_H
#define MG_OPS_HEALTHCHECK_H

#include "core/config.h"

int cmd_healthcheck(config *cfg, int argc, char **argv);
extern const char cmd_healthcheck_usage[];

#endif
