/*
 * acme.h — an ACME client (RFC 8555): obtains a certificate for a set of
 * names from a CA such as Let's Encrypt.
 *
 * One call does a whole order, synchronously, on the calling thread (the
 * certificate manager's, never an event loop): it loads or creates the
 * account key, registers the account (the CA returns the existing one for a
 * known key), places the order, answers each authorization's challenge
 * through the caller's responder (which makes the server answer it), waits
 * for the CA to validate, finalizes with a CSR for a fresh key and downloads
 * the chain. Nonces are kept from response to response and a badNonce error
 * is retried with the fresh nonce the CA sends along. Errors from the CA are
 * problem documents (RFC 7807); their type and detail end up in err.
 */
#ifndef MG_ACME_H
#define MG_ACME_H

#include "ops/acme_crypto.h"

#include <stdatomic.h>
#include <stddef.h>

#define ACME_LETSENCRYPT         "https://acme-v02.api.letsencrypt.org/directory"
#define ACME_LETSENCRYPT_STAGING "https://acme-staging-v02.api.letsencrypt.org/directory"

typedef struct acme_settings {
    const char *directory;    /* the CA's directory URL */
    const char *ca_roots;     /* PEM file trusted for the CA's HTTPS, or NULL: the system's */
    const char *email;        /* account contact, or NULL */
    const char *const *names; /* DNS names of the certificate, the first is its subject */
    size_t nnames;
    const char *account_key;  /* path of the account key (created when missing) */
    const char *challenge;    /* "http-01" or "tls-alpn-01" */
    int timeout_s;            /* for the whole order */
    const atomic_int *cancel; /* set to abandon the order (shutdown), or NULL */
} acme_settings;

/* Makes the server answer a challenge: for http-01, GET
 * /.well-known/acme-challenge/TOKEN must return key_auth; for tls-alpn-01, a
 * handshake for name offering acme-tls/1 must present a certificate
 * carrying its digest (RFC 8737). */
typedef struct acme_responder {
    int (*present)(void *ctx, const char *type, const char *name, const char *token, const char *key_auth, char *err,
                   size_t errlen);
    void (*cleanup)(void *ctx, const char *type, const char *name, const char *token, const char *key_auth);
    void *ctx;
} acme_responder;

typedef struct acme_result {
    char *chain_pem; /* leaf first */
    char *key_pem;   /* the certificate's private key */
    acme_cert_info info;
} acme_result;

int acme_obtain(const acme_settings *s, const acme_responder *r, acme_result *out, char *err, size_t errlen);
void acme_result_free(acme_result *res);

/* ---- dns-01 (acme_dns.c) ---- */
/* The record to publish for name: _acme-challenge.NAME and the base64url
 * SHA-256 of the key authorization. */
void acme_dns_record(const char *name, const char *key_auth, char *txt_name, size_t namelen, char *value,
                     size_t valuelen);
/* Runs HOOK ACTION NAME TXT_NAME VALUE (action "add" or "remove"); 0 when
 * it exits 0 within timeout_s (it is killed after). */
int acme_dns_hook(const char *hook, const char *action, const char *name, const char *txt_name, const char *value,
                  int timeout_s, char *err, size_t errlen);
/* Looks txt_name up (through resolver "IPV4[:PORT]", or the system's when
 * NULL or empty) until one of its TXT records is value, for timeout_s. */
int acme_dns_wait(const char *resolver, const char *txt_name, const char *value, int timeout_s,
                  const atomic_int *cancel, char *err, size_t errlen);

/* ---- the files in the state directory ---- */
typedef struct acme_files {
    char dir[4096];         /* STATE_DIR/acme, 0700 */
    char account_key[4200]; /* the account, 0600 */
    char chain[4200];       /* certificate.pem: the chain in service */
    char key[4200];         /* certificate.key, 0600 */
    char attempt[4200];     /* last-attempt: "UNIXTIME ok|failed DETAIL" */
} acme_files;
void acme_files_of(const char *state_dir, acme_files *f);
/* Splits MUSICGRAPH_ACME_DOMAINS (commas or spaces) in place: the count,
 * max + 1 when there are more than max. */
size_t acme_split_names(char *list, const char **names, size_t max);
/* The outcome of the last order, for doctor (the server is another process). */
int acme_record_attempt(const acme_files *f, time_t when, int ok, const char *detail, char *err, size_t errlen);
int acme_read_attempt(const acme_files *f, time_t *when, int *ok, char *detail, size_t len);

/* ---- the parsers of CA responses (exposed for tests and fuzzing) ---- */
typedef struct acme_directory {
    char new_nonce[1024], new_account[1024], new_order[1024];
    char renewal_info[1024]; /* RFC 9773, "" when the CA has none */
} acme_directory;
int acme_parse_directory(const char *body, size_t len, acme_directory *d, char *err, size_t errlen);

#define ACME_MAX_AUTHZ 100
typedef struct acme_order {
    char status[16];
    char finalize[1024];
    char certificate[1024];
    size_t nauthz;
    char *authz[ACME_MAX_AUTHZ];
    char error[512]; /* the order's problem, when invalid */
} acme_order;
int acme_parse_order(const char *body, size_t len, acme_order *o, char *err, size_t errlen);
void acme_order_free(acme_order *o);

typedef struct acme_authz {
    char status[16];
    char name[256];           /* identifier value */
    char challenge_url[1024]; /* of the chosen type, "" when the CA offers none */
    char challenge_status[16];
    char token[256];
    char error[512]; /* the challenge's problem, when invalid */
} acme_authz;
int acme_parse_authorization(const char *body, size_t len, const char *type, acme_authz *a, char *err, size_t errlen);
/* "TYPE: DETAIL" of a problem document, or "" when body is not one. */
void acme_problem_text(const char *body, size_t len, char *out, size_t outlen);

#endif
