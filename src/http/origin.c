/*
 * origin.c — state-changing requests must come from this site.
 *
 * A session cookie is SameSite=Lax and every change needs the session's
 * CSRF token, but a login form posted from another site needs neither: it
 * logs the victim into the attacker's account (login CSRF). So every
 * request that may change state (any method but GET, HEAD and OPTIONS) is
 * refused when the browser says it comes from elsewhere:
 *  - Sec-Fetch-Site (every current browser sends it): only "same-origin" and
 *    "none" (typed, bookmarked) pass;
 *  - otherwise Origin, when present, must be this server's own origin: the
 *    scheme it was reached by (https behind a trusted proxy that says so)
 *    and the Host header, default ports left out. "null" never passes.
 * A request with neither header does not come from a browser (curl, a
 * script, the tests): it has no ambient cookie to abuse, and passes.
 */
#include "http/internal.h"

#include <h2o.h>
#include <string.h>
#include <strings.h>

static int header_value(h2o_req_t *req, const char *name, size_t len, h2o_iovec_t *out)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, len, -1);
    if (i < 0)
        return 0;
    *out = req->headers.entries[i].value;
    return 1;
}

static int is(h2o_iovec_t v, const char *s) { return v.len == strlen(s) && strncasecmp(v.base, s, v.len) == 0; }

/* host[:port] without the scheme's default port. */
static h2o_iovec_t without_default_port(h2o_iovec_t host, int secure)
{
    const char *def = secure ? ":443" : ":80";
    size_t n = strlen(def);
    if (host.len > n && memcmp(host.base + host.len - n, def, n) == 0)
        host.len -= n;
    return host;
}

static int same_origin(http_request *r, h2o_iovec_t origin)
{
    int secure = http_is_secure(r);
    const char *scheme = secure ? "https://" : "http://";
    size_t slen = strlen(scheme);
    h2o_iovec_t host = r->req->input.authority;
    if (origin.len <= slen || strncasecmp(origin.base, scheme, slen) != 0 || host.len == 0)
        return 0;
    h2o_iovec_t ohost = without_default_port(h2o_iovec_init(origin.base + slen, origin.len - slen), secure);
    host = without_default_port(host, secure);
    return ohost.len == host.len && strncasecmp(ohost.base, host.base, host.len) == 0;
}

int http_check_origin(http_request *r, const char **detail)
{
    h2o_req_t *req = r->req;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
        h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")) ||
        h2o_memis(req->method.base, req->method.len, H2O_STRLIT("OPTIONS")))
        return 0;
    h2o_iovec_t v;
    if (header_value(req, H2O_STRLIT("sec-fetch-site"), &v)) {
        if (is(v, "same-origin") || is(v, "none"))
            return 0;
        *detail = "The browser says this request comes from another site (Sec-Fetch-Site): changes are accepted "
                  "only from this site's own pages.";
        return 403;
    }
    if (header_value(req, H2O_STRLIT("origin"), &v) && !same_origin(r, v)) {
        *detail = "This request comes from another origin: changes are accepted only from this site's own pages.";
        return 403;
    }
    return 0;
}
