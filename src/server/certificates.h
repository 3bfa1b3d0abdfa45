/*
 * certificates.h — certificates that renew themselves: the ACME manager.
 *
 * When MUSICGRAPH_ACME_DOMAINS is set, the server obtains its TLS
 * certificate from an ACME CA (ops/acme.h) and keeps it fresh: one
 * background thread (never an event loop) loads the certificate kept in
 * STATE_DIR/acme at start, orders one when there is none, and renews it
 * when less than a third of its lifetime is left. A failure is logged with
 * the CA's problem and retried with exponential backoff and jitter; the
 * certificate in service stays until a new one has been obtained, checked
 * and loaded. New certificates reach new connections through the same
 * hot swap as SIGHUP (http_tls_load): open connections are not touched.
 */
#ifndef MG_SERVER_CERTIFICATES_H
#define MG_SERVER_CERTIFICATES_H

#include "core/buf.h"
#include "core/config.h"

#include <stddef.h>

typedef struct certificates certificates;

/* Loads a stored certificate if there is a usable one and starts the
 * renewal thread. *out stays NULL (and 0 is returned) when ACME is off. */
int certificates_start(const config *cfg, certificates **out, char *err, size_t errlen);
/* Stops the thread (an order in progress is abandoned within a second). */
void certificates_stop(certificates *c);
/* Prometheus lines: expiry, renewal outcomes. Nothing when c is NULL. */
void certificates_metrics(certificates *c, buf *out);

#endif
