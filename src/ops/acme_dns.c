/*
 * acme_dns.c — the dns-01 challenge (RFC 8555 section 8.4) through an
 * operator's hook command, and the wait until the record can be seen.
 *
 * DNS providers are many and their APIs differ, so the record is set by a
 * command the operator chooses (deploy/acme/ has one for RFC 2136 dynamic
 * updates with nsupdate and one for Route 53): HOOK add|remove NAME
 * TXT_NAME TXT_VALUE, which must exit 0 once the change is made. A change
 * accepted by a provider's API is not yet visible to the CA, so the record
 * is then looked up (through MUSICGRAPH_ACME_DNS_RESOLVER or the system's
 * resolver) until it answers with the value, before the CA is asked.
 */
#include "ops/acme.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <resolv.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void acme_dns_record(const char *name, const char *key_auth, char *txt_name, size_t namelen, char *value,
                     size_t valuelen)
{
    /* A wildcard's record sits at its base name (RFC 8555 section 8.4). */
    if (strncmp(name, "*.", 2) == 0)
        name += 2;
    snprintf(txt_name, namelen, "_acme-challenge.%s", name);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)key_auth, strlen(key_auth), digest);
    char *b64 = acme_b64url(digest, sizeof digest);
    snprintf(value, valuelen, "%s", b64);
    free(b64);
}

static void sleep_ms(long ms) { nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL); }

int acme_dns_hook(const char *hook, const char *action, const char *name, const char *txt_name, const char *value,
                  int timeout_s, char *err, size_t errlen)
{
    char *argv[] = {(char *)hook, (char *)action, (char *)name, (char *)txt_name, (char *)value, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, hook, NULL, NULL, argv, environ);
    if (rc != 0) {
        snprintf(err, errlen, "cannot run the DNS hook %s: %s", hook, strerror(rc));
        return -1;
    }
    int status = 0;
    for (long waited = 0;; waited += 100) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR) {
            snprintf(err, errlen, "cannot wait for the DNS hook %s: %s", hook, strerror(errno));
            return -1;
        }
        if (waited >= timeout_s * 1000L) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, errlen, "the DNS hook %s %s %s did not finish within %d s", hook, action, txt_name,
                     timeout_s);
            return -1;
        }
        sleep_ms(100);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "the DNS hook %s %s %s %s %d", hook, action, txt_name,
                 WIFEXITED(status) ? "exited with status" : "was killed by signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

/* 1 when one of the TXT records of name holds value, 0 when none does. */
static int txt_holds(res_state st, const char *name, const char *value)
{
    unsigned char answer[4096];
    int len = res_nquery(st, name, ns_c_in, ns_t_txt, answer, sizeof answer);
    ns_msg msg;
    if (len < 0 || ns_initparse(answer, len, &msg) != 0)
        return 0;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_txt)
            continue;
        /* TXT data: strings of a length byte and the bytes, concatenated. */
        char text[1024];
        size_t n = 0;
        const unsigned char *p = ns_rr_rdata(rr), *end = p + ns_rr_rdlen(rr);
        while (p < end && p + 1 + *p <= end && n + *p < sizeof text) {
            memcpy(text + n, p + 1, *p);
            n += *p;
            p += 1 + *p;
        }
        if (n == strlen(value) && memcmp(text, value, n) == 0)
            return 1;
    }
    return 0;
}

int acme_dns_wait(const char *resolver, const char *txt_name, const char *value, int timeout_s,
                  const atomic_int *cancel, char *err, size_t errlen)
{
    struct __res_state st;
    memset(&st, 0, sizeof st);
    if (res_ninit(&st) != 0) {
        snprintf(err, errlen, "cannot set up a DNS resolver");
        return -1;
    }
    if (resolver && *resolver) {
        /* IPv4 ADDRESS[:PORT]: the server the CA asks too, or one close to it. */
        char host[64];
        int port = 53;
        snprintf(host, sizeof host, "%s", resolver);
        char *colon = strchr(host, ':');
        if (colon) {
            *colon = '\0';
            port = atoi(colon + 1);
        }
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || port <= 0 || port > 65535) {
            snprintf(err, errlen, "MUSICGRAPH_ACME_DNS_RESOLVER must be IPV4[:PORT], not '%s'", resolver);
            res_nclose(&st);
            return -1;
        }
        st.nsaddr_list[0] = sa;
        st.nscount = 1;
    }
    int rc = -1;
    for (time_t deadline = time(NULL) + timeout_s;;) {
        if (txt_holds(&st, txt_name, value)) {
            rc = 0;
            break;
        }
        if (time(NULL) >= deadline || (cancel && atomic_load(cancel))) {
            snprintf(err, errlen, "the TXT record %s did not show the challenge value within %d s", txt_name,
                     timeout_s);
            break;
        }
        sleep_ms(1000);
    }
    res_nclose(&st);
    return rc;
}
