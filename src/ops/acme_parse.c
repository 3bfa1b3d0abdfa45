/*
 * acme_parse.c — reading what an ACME CA answers (see acme.h): the
 * directory, orders, authorizations and problem documents.
 *
 * Every value is copied into a bounded field and checked for its shape
 * before it is used: a URL must be https:// or http://, a token base64url
 * (it becomes a path on our server), a status one word. A response that is
 * not what RFC 8555 says gets an error naming what is wrong, never a crash.
 */
#include "ops/acme.h"

#include "core/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *load_object(const char *body, size_t len, const char *what, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root || !json_is_object(root)) {
        snprintf(err, errlen, "the CA's %s is not a JSON object%s%s", what, root ? "" : ": ", root ? "" : je.text);
        json_decref(root);
        return NULL;
    }
    return root;
}

static int is_url(const char *s)
{
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return 0;
    return 1;
}

static int is_word(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static int is_b64url(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return 0;
    return 1;
}

/* Copies member key of obj into out when it is a string that fits and that
 * check accepts (check may be NULL). 1 copied, 0 absent, -1 wrong. */
static int take(json_t *obj, const char *key, char *out, size_t outlen, int (*check)(const char *))
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    const char *s = json_string_value(v);
    if (!s || strlen(s) >= outlen || (check && !check(s)))
        return -1;
    strcpy(out, s);
    return 1;
}

static int need(json_t *obj, const char *key, char *out, size_t outlen, int (*check)(const char *), const char *what,
                char *err, size_t errlen)
{
    if (take(obj, key, out, outlen, check) == 1)
        return 0;
    snprintf(err, errlen, "the CA's %s has no valid \"%s\"", what, key);
    return -1;
}

static void problem_of(json_t *p, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!json_is_object(p))
        return;
    const char *type = json_string_value(json_object_get(p, "type"));
    const char *detail = json_string_value(json_object_get(p, "detail"));
    if (!type && !detail)
        return;
    const char *prefix = "urn:ietf:params:acme:error:";
    if (type && strncmp(type, prefix, strlen(prefix)) == 0)
        type += strlen(prefix);
    snprintf(out, outlen, "%s%s%s", type ? type : "", type && detail ? ": " : "", detail ? detail : "");
    /* What goes into a log line stays on one line. */
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < ' ')
            *c = ' ';
}

void acme_problem_text(const char *body, size_t len, char *out, size_t outlen)
{
    out[0] = '\0';
    json_t *root = json_loadb(body, len, 0, NULL);
    problem_of(root, out, outlen);
    json_decref(root);
}

int acme_parse_directory(const char *body, size_t len, acme_directory *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    json_t *root = load_object(body, len, "directory", err, errlen);
    if (!root)
        return -1;
    int rc =
        need(root, "newNonce", d->new_nonce, sizeof d->new_nonce, is_url, "directory", err, errlen) ||
                need(root, "newAccount", d->new_account, sizeof d->new_account, is_url, "directory", err, errlen) ||
                need(root, "newOrder", d->new_order, sizeof d->new_order, is_url, "directory", err, errlen)
            ? -1
            : 0;
    if (rc == 0 && take(root, "renewalInfo", d->renewal_info, sizeof d->renewal_info, is_url) < 0)
        d->renewal_info[0] = '\0';
    json_decref(root);
    return rc;
}

void acme_order_free(acme_order *o)
{
    for (size_t i = 0; i < o->nauthz; i++)
        free(o->authz[i]);
    o->nauthz = 0;
}

int acme_parse_order(const char *body, size_t len, acme_order *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    json_t *root = load_object(body, len, "order", err, errlen);
    if (!root)
        return -1;
    int rc = -1;
    if (need(root, "status", o->status, sizeof o->status, is_word, "order", err, errlen) != 0 ||
        need(root, "finalize", o->finalize, sizeof o->finalize, is_url, "order", err, errlen) != 0)
        goto done;
    if (take(root, "certificate", o->certificate, sizeof o->certificate, is_url) < 0) {
        snprintf(err, errlen, "the CA's order has an invalid \"certificate\"");
        goto done;
    }
    json_t *list = json_object_get(root, "authorizations");
    if (!json_is_array(list) || json_array_size(list) > ACME_MAX_AUTHZ) {
        snprintf(err, errlen, "the CA's order has no valid \"authorizations\"");
        goto done;
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || strlen(s) >= 1024 || !is_url(s)) {
            snprintf(err, errlen, "the CA's order lists an invalid authorization URL");
            acme_order_free(o);
            goto done;
        }
        o->authz[o->nauthz++] = xstrdup(s);
    }
    problem_of(json_object_get(root, "error"), o->error, sizeof o->error);
    rc = 0;
done:
    json_decref(root);
    return rc;
}

int acme_parse_authorization(const char *body, size_t len, const char *type, acme_authz *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    json_t *root = load_object(body, len, "authorization", err, errlen);
    if (!root)
        return -1;
    int rc = -1;
    json_t *id = json_object_get(root, "identifier");
    if (need(root, "status", a->status, sizeof a->status, is_word, "authorization", err, errlen) != 0)
        goto done;
    if (!json_is_object(id) ||
        need(id, "value", a->name, sizeof a->name, NULL, "authorization's identifier", err, errlen) != 0)
        goto done;
    json_t *list = json_object_get(root, "challenges");
    if (!json_is_array(list)) {
        snprintf(err, errlen, "the CA's authorization for %s has no \"challenges\"", a->name);
        goto done;
    }
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (!json_is_object(c) || !t || strcmp(t, type) != 0)
            continue;
        if (need(c, "url", a->challenge_url, sizeof a->challenge_url, is_url, "challenge", err, errlen) != 0 ||
            need(c, "status", a->challenge_status, sizeof a->challenge_status, is_word, "challenge", err, errlen) !=
                0 ||
            need(c, "token", a->token, sizeof a->token, is_b64url, "challenge", err, errlen) != 0)
            goto done;
        problem_of(json_object_get(c, "error"), a->error, sizeof a->error);
        break;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}
