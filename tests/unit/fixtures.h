/*
 * fixtures.h — building datasets in the C unit tests, and checks that
 * every store backend must pass.
 *
 * Included by the test files that need it (after cmocka.h); the helpers are
 * static inline so a file may use only some of them.
 */
#ifndef MG_TEST_FIXTURES_H
#define MG_TEST_FIXTURES_H

#include "domain/model.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void set_str(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? strdup(v) : NULL;
}

/* "a,b,c" -> malloc'd array of ids; "" or NULL -> none. */
static inline char **split_ids(const char *csv, size_t *n)
{
    *n = 0;
    if (!csv || !*csv)
        return NULL;
    char **v = calloc(strlen(csv) + 1, sizeof *v);
    char *copy = strdup(csv), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        v[(*n)++] = strdup(t);
    free(copy);
    return v;
}

/* Replaces a string list (aliases, former ids, defining bands) with "a,b,c". */
static inline void set_list(char ***v, size_t *n, const char *csv)
{
    for (size_t i = 0; i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = split_ids(csv, n);
}

/* Adds a genre; its primary parent is the first of parents. */
static inline genre *add_genre(dataset *d, const char *id, const char *name, genre_type type, const char *parents)
{
    genre *g = dataset_add_genre(d);
    assert_non_null(g);
    g->id = strdup(id);
    g->name = strdup(name);
    g->type = type;
    g->parents = split_ids(parents, &g->nparents);
    g->parent = g->nparents ? strdup(g->parents[0]) : NULL;
    return g;
}

/* Adds a band; its primary genre is the first of genres. */
static inline band *add_band(dataset *d, const char *id, const char *name, const char *genres)
{
    band *b = dataset_add_band(d);
    assert_non_null(b);
    b->id = strdup(id);
    b->name = strdup(name);
    b->genres = split_ids(genres, &b->ngenres);
    b->primary_genre = b->ngenres ? strdup(b->genres[0]) : NULL;
    return b;
}

/* Adds a link (to and kind may be NULL, for the tests of broken input). */
static inline void add_link(genre *g, const char *to, const char *kind)
{
    g->links = realloc(g->links, (g->nlinks + 1) * sizeof *g->links);
    g->links[g->nlinks].to = to ? strdup(to) : NULL;
    g->links[g->nlinks].kind = kind ? strdup(kind) : NULL;
    g->nlinks++;
}

/* What both backends must do with the public keys that signed backups
 * (store_backup_keys, store_backup_key_add): record each once, list them
 * oldest first, take nothing but a key. s is a freshly migrated store. */
static inline void check_backup_keys_recorded_once(store *s)
{
    char err[512] = "", *text;
    assert_int_equal(store_backup_keys(s, &text, err, sizeof err), 0);
    assert_string_equal(text, "");
    free(text);
    const char *a = "ed25519:CvVRiTlv+JVtb9jplxjOQkfX6YRd3VMC+Vj3b/ZDfOo=";
    const char *b = "ed25519:qL3zhDMm/UdNLJsrGImE+a2arl7vt99n4+tR1yOADzs=";
    assert_int_equal(store_backup_key_add(s, a, "first", err, sizeof err), 0);
    assert_int_equal(store_backup_key_add(s, a, "again", err, sizeof err), 0);
    assert_int_equal(store_backup_key_add(s, b, "second", err, sizeof err), 0);
    assert_int_equal(store_backup_keys(s, &text, err, sizeof err), 0);
    char want[256];
    snprintf(want, sizeof want, "%s first\n%s second\n", a, b);
    assert_string_equal(text, want);
    free(text);
    assert_int_not_equal(store_backup_key_add(s, "not a key", "x", err, sizeof err), 0);
}

static inline int audit_new_user(const store_user *before, store_user *after, store_audit *audit, void *ctx)
{
    assert_null(before);
    assert_true(after->id > 0);
    assert_true(after->created_at[0] != '\0');
    snprintf(audit->action, sizeof audit->action, "create");
    snprintf(audit->entity_type, sizeof audit->entity_type, "user");
    audit->actor = strdup("boss");
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)after->id);
    audit->entity_id = strdup(id);
    audit->after_json = strdup(ctx);
    return 0;
}

static inline int decline_new_user(const store_user *before, store_user *after, store_audit *audit, void *ctx)
{
    (void)before, (void)after, (void)ctx;
    snprintf(audit->action, sizeof audit->action, "create");
    return -1;
}

/* A new account and its audit entry are saved together, or neither. */
static inline void check_user_created_with_its_audit(store *s)
{
    char err[512] = "";
    store_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "carol");
    snprintf(u.email, sizeof u.email, "carol@example.org");
    snprintf(u.password_hash, sizeof u.password_hash, "h");
    assert_int_equal(store_user_create(s, &u, audit_new_user, "{\"username\":\"carol\"}", err, sizeof err), 0);
    assert_true(u.id > 0);
    store_audit *entries;
    size_t count;
    int64_t total;
    assert_int_equal(store_audit_list(s, 0, 10, &entries, &count, &total, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_string_equal(entries[0].action, "create");
    assert_string_equal(entries[0].actor, "boss");
    assert_int_equal(strtoll(entries[0].entity_id, NULL, 10), u.id);
    for (size_t i = 0; i < count; i++)
        store_audit_clear(&entries[i]);
    free(entries);
    /* Declined, or a name taken: no account and no audit entry. */
    snprintf(u.username, sizeof u.username, "dave");
    snprintf(u.email, sizeof u.email, "dave@example.org");
    assert_int_equal(store_user_create(s, &u, decline_new_user, NULL, err, sizeof err), MG_ERR_DECLINED);
    int found = 1;
    store_user none;
    assert_int_equal(store_user_by_name(s, "dave", &none, &found, err, sizeof err), 0);
    assert_false(found);
    snprintf(u.username, sizeof u.username, "carol");
    assert_int_equal(store_user_create(s, &u, audit_new_user, "{}", err, sizeof err), MG_ERR_CONFLICT);
    assert_int_equal(store_audit_list(s, 0, 10, &entries, &count, &total, err, sizeof err), 0);
    assert_int_equal(total, 1);
    for (size_t i = 0; i < count; i++)
        store_audit_clear(&entries[i]);
    free(entries);
}

#endif
