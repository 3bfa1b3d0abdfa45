/*
 * users.c — accounts and the audit log for admins (JSON API), and the admin
 * application's pages, which need a logged-in admin.
 */
#include "api/api.h"
#include "api/pages.h"
#include "api/auth.h"
#include "api/common.h"

#include "core/buf.h"
#include "core/log.h"
#include "core/password.h"
#include "domain/user.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store *store_or_503(api *a, http_request *r)
{
    char err[256];
    store *s = api_store(a, err, sizeof err);
    if (!s)
        http_problem(r, 503, "Service Unavailable", "The database is not reachable.", NULL);
    return s;
}

static void audit_user(store *s, const char *actor, const char *action, const store_user *before,
                       const store_user *after)
{
    store_audit audit;
    memset(&audit, 0, sizeof audit);
    snprintf(audit.action, sizeof audit.action, "%s", action);
    snprintf(audit.entity_type, sizeof audit.entity_type, "user");
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)(after ? after->id : before->id));
    audit.actor = (char *)actor;
    audit.entity_id = id;
    /* The JSON of a user never carries the password hash. */
    json_t *b = before ? api_user_json(before) : NULL, *af = after ? api_user_json(after) : NULL;
    audit.before_json = b ? json_dumps(b, JSON_COMPACT) : NULL;
    audit.after_json = af ? json_dumps(af, JSON_COMPACT) : NULL;
    char err[256];
    if (store_audit_add(s, &audit, err, sizeof err) != 0)
        log_error("writing the audit log failed: %s", err);
    free(audit.before_json);
    free(audit.after_json);
    json_decref(b);
    json_decref(af);
}

static int get_users(http_request *r, void *a)
{
    auth_ctx auth;
    if (auth_require(a, r, &auth, 1, NULL) != 0)
        return 0;
    store *s = store_or_503(a, r);
    if (!s)
        return 0;
    store_user *users;
    size_t n;
    char err[256];
    if (store_user_list(s, &users, &n, err, sizeof err) != 0) {
        http_problem(r, 503, "Service Unavailable", "The users could not be read.", NULL);
        return 0;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, api_user_json(&users[i]));
    free(users);
    api_send_json(r, 200, json_pack("{s:o}", "users", list));
    return 0;
}

static int post_user(http_request *r, void *a)
{
    auth_ctx auth;
    if (auth_require(a, r, &auth, 1, NULL) != 0)
        return 0;
    json_t *body = api_json_body(r);
    if (!body)
        return 0;
    domain_errors errs = {0};
    const char *username = json_string_value(json_object_get(body, "username"));
    const char *email = json_string_value(json_object_get(body, "email"));
    json_t *pw = json_object_get(body, "password");
    json_t *admin = json_object_get(body, "is_admin");
    user_check_username(username, &errs);
    user_check_email(email, &errs);
    char generated[21] = "";
    const char *password = json_string_value(pw);
    if (pw && !json_is_null(pw) && !password)
        domain_errors_add(&errs, "user", "password", "must be a string");
    if (password)
        user_check_password(password, &errs);
    if (admin && !json_is_boolean(admin))
        domain_errors_add(&errs, "user", "is_admin", "must be true or false");
    store *s = errs.count ? NULL : store_or_503(a, r);
    if (errs.count) {
        api_problem_fields(r, 400, "Bad Request", &errs);
    } else if (s) {
        if (!password) {
            password_generate(generated, sizeof generated);
            password = generated;
        }
        store_user u;
        memset(&u, 0, sizeof u);
        snprintf(u.username, sizeof u.username, "%s", username);
        snprintf(u.email, sizeof u.email, "%s", email);
        u.is_admin = admin && json_is_true(admin);
        char err[256];
        int rc = password_hash(password, u.password_hash, sizeof u.password_hash) != 0
                     ? -1
                     : store_user_create(s, &u, err, sizeof err);
        if (rc == MG_ERR_CONFLICT) {
            domain_errors_add(&errs, "user", "username", "the username or email is already taken");
            api_problem_fields(r, 409, "Conflict", &errs);
        } else if (rc != 0) {
            http_problem(r, 503, "Service Unavailable", "The user could not be created.", NULL);
        } else {
            int found;
            store_user_by_id(s, u.id, &u, &found, err, sizeof err);
            audit_user(s, auth.session.user.username, "create", NULL, &u);
            json_t *out = json_pack("{s:o}", "user", api_user_json(&u));
            if (generated[0])
                json_object_set_new(out, "password", json_string(generated));
            api_send_json(r, 201, out);
        }
    }
    domain_errors_free(&errs);
    json_decref(body);
    return 0;
}

static int patch_user(http_request *r, void *a)
{
    auth_ctx auth;
    if (auth_require(a, r, &auth, 1, NULL) != 0)
        return 0;
    char *end;
    errno = 0;
    long long id = strtoll(r->params[0], &end, 10);
    if (*end || errno || id <= 0) {
        http_problem(r, 404, "Not Found", "There is no user with this id.", NULL);
        return 0;
    }
    json_t *body = api_json_body(r);
    if (!body)
        return 0;
    store *s = store_or_503(a, r);
    store_user before, u;
    int found = 0;
    char err[256];
    domain_errors errs = {0};
    if (!s)
        goto done;
    if (store_user_by_id(s, id, &before, &found, err, sizeof err) != 0 || !found) {
        http_problem(r, found ? 503 : 404, found ? "Service Unavailable" : "Not Found",
                     found ? "The user could not be read." : "There is no user with this id.", NULL);
        goto done;
    }
    u = before;
    json_t *is_admin = json_object_get(body, "is_admin"), *disabled = json_object_get(body, "disabled");
    json_t *email = json_object_get(body, "email"), *password = json_object_get(body, "password");
    if (is_admin && !json_is_boolean(is_admin))
        domain_errors_add(&errs, "user", "is_admin", "must be true or false");
    if (disabled && !json_is_boolean(disabled))
        domain_errors_add(&errs, "user", "disabled", "must be true or false");
    if (email)
        user_check_email(json_string_value(email), &errs);
    if (password)
        user_check_password(json_string_value(password), &errs);
    if (errs.count) {
        api_problem_fields(r, 400, "Bad Request", &errs);
        goto done;
    }
    int self = before.id == auth.session.user.id;
    if (self && ((is_admin && json_is_true(is_admin) != before.is_admin) || (disabled && json_is_true(disabled)))) {
        http_problem(r, 403, "Forbidden", "Nobody changes their own admin flag or disables their own account.", NULL);
        goto done;
    }
    if (is_admin)
        u.is_admin = json_is_true(is_admin);
    if (disabled)
        u.disabled = json_is_true(disabled);
    if (email)
        snprintf(u.email, sizeof u.email, "%s", json_string_value(email));
    if (password && password_hash(json_string_value(password), u.password_hash, sizeof u.password_hash) != 0) {
        http_problem(r, 503, "Service Unavailable", "The password could not be hashed.", NULL);
        goto done;
    }
    int rc = store_user_update(s, &u, err, sizeof err);
    if (rc == MG_ERR_CONFLICT) {
        http_problem(r, 409, "Conflict", err, NULL);
        goto done;
    }
    if (rc != 0) {
        http_problem(r, 503, "Service Unavailable", "The user could not be saved.", NULL);
        goto done;
    }
    if (u.disabled || password)
        store_sessions_delete_user(s, u.id, err, sizeof err);
    audit_user(s, auth.session.user.username, "update", &before, &u);
    api_send_json(r, 200, json_pack("{s:o}", "user", api_user_json(&u)));
done:
    domain_errors_free(&errs);
    json_decref(body);
    return 0;
}

static json_t *parse_or_null(const char *text) { return text ? json_loads(text, 0, NULL) : json_null(); }

static int get_audit(http_request *r, void *a)
{
    auth_ctx auth;
    if (auth_require(a, r, &auth, 1, NULL) != 0)
        return 0;
    const char *page_text = http_query(r, "page", NULL), *per_text = http_query(r, "per_page", NULL);
    long page = page_text ? strtol(page_text, NULL, 10) : 1, per = per_text ? strtol(per_text, NULL, 10) : 50;
    if (page < 1 || page > 1000000 || per < 1 || per > 200) {
        http_problem(r, 400, "Bad Request", "page must be at least 1 and per_page from 1 to 200.", NULL);
        return 0;
    }
    store *s = store_or_503(a, r);
    if (!s)
        return 0;
    store_audit *entries;
    size_t n;
    int64_t total;
    char err[256];
    if (store_audit_list(s, (page - 1) * per, per, &entries, &n, &total, err, sizeof err) != 0) {
        http_problem(r, 503, "Service Unavailable", "The audit log could not be read.", NULL);
        return 0;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        store_audit *e = &entries[i];
        json_array_append_new(list, json_pack("{s:I, s:s, s:s?, s:s, s:s, s:s, s:o, s:o}", "id", (json_int_t)e->id,
                                              "at", e->at, "actor", e->actor, "action", e->action, "entity_type",
                                              e->entity_type, "entity_id", e->entity_id ? e->entity_id : "", "before",
                                              parse_or_null(e->before_json), "after", parse_or_null(e->after_json)));
        store_audit_clear(e);
    }
    free(entries);
    api_send_json(r, 200,
                  json_pack("{s:o, s:i, s:i, s:I}", "entries", list, "page", (int)page, "per_page", (int)per, "total",
                            (json_int_t)total));
    return 0;
}

/* The admin application: one page, routed in the browser, for admins only. */
static int get_admin_page(http_request *r, void *a)
{
    auth_ctx auth;
    if (auth_resolve(a, r, &auth) != 0)
        return 0;
    if (!auth.logged_in) {
        buf next = BUF_INIT;
        buf_puts(&next, "/login?next=");
        /* Percent-encode everything but unreserved characters and '/'. */
        for (const unsigned char *p = (const unsigned char *)http_path(r); *p; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("/-._~", *p))
                buf_putc(&next, (char)*p);
            else
                buf_printf(&next, "%%%02X", *p);
        }
        http_redirect(r, 303, buf_cstr(&next));
        buf_free(&next);
        return 0;
    }
    buf out = BUF_INIT;
    if (!auth.session.user.is_admin) {
        const char *kv[] = {"USERNAME", auth.session.user.username, NULL};
        pages_render_template("forbidden.html", kv, &out);
        http_respond(r, 403, "text/html; charset=utf-8", buf_cstr(&out), out.len);
    } else {
        const char *kv[] = {"USERNAME", auth.session.user.username, "CSRF_TOKEN", auth.session.csrf_token, NULL};
        pages_render_template("admin.html", kv, &out);
        http_respond(r, 200, "text/html; charset=utf-8", buf_cstr(&out), out.len);
    }
    buf_free(&out);
    return 0;
}

void api_register_users(http_router *rt, api *a)
{
    http_route(rt, "GET", "/api/v1/users", get_users, a);
    http_route(rt, "POST", "/api/v1/users", post_user, a);
    http_route(rt, "PATCH", "/api/v1/users/{id}", patch_user, a);
    http_route(rt, "GET", "/api/v1/audit", get_audit, a);
    static const char *const admin_pages[] = {"/admin",
                                              "/admin/genres/new",
                                              "/admin/genres/{id}/edit",
                                              "/admin/bands/new",
                                              "/admin/bands/{id}/edit",
                                              "/admin/users",
                                              "/admin/audit",
                                              NULL};
    for (size_t i = 0; admin_pages[i]; i++)
        http_route(rt, "GET", admin_pages[i], get_admin_page, a);
}
