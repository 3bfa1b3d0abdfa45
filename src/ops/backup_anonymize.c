/*
 * backup_anonymize.c — anonymized dumps (see backup_anonymize.h).
 */
#include "ops/backup_anonymize.h"
#include "core/xalloc.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ANONYMIZED_HASH "!anonymized"

void backup_secrets_free(backup_secrets *s)
{
    for (size_t i = 0; i < s->count; i++) {
        sodium_memzero(s->items[i], strlen(s->items[i]));
        free(s->items[i]);
    }
    free(s->items);
}

/* Replaces "email" values and drops "password_hash" members anywhere in v. */
static void scrub_json(json_t *v, const store_dump_t *d, const backup_secrets *originals)
{
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            scrub_json(json_array_get(v, i), d, originals);
        return;
    }
    if (!json_is_object(v))
        return;
    json_object_del(v, "password_hash");
    json_t *email = json_object_get(v, "email");
    if (email && json_is_string(email)) {
        const char *replacement = "redacted@example.invalid";
        /* originals holds each user's email then hash, in user order. */
        for (size_t i = 0; i < d->nusers && 2 * i < originals->count; i++)
            if (strcasecmp(originals->items[2 * i], json_string_value(email)) == 0)
                replacement = d->users[i].email;
        json_object_set_new(v, "email", json_string(replacement));
    }
    const char *key;
    json_t *member;
    json_object_foreach(v, key, member)
    {
        (void)key;
        scrub_json(member, d, originals);
    }
}

static char *scrub_text(const char *text, const store_dump_t *d, const backup_secrets *originals)
{
    if (!text)
        return NULL;
    json_t *v = json_loads(text, 0, NULL);
    if (!v)
        return NULL; /* unreadable: dropping it cannot leak anything */
    scrub_json(v, d, originals);
    char *out = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    return out;
}

void backup_anonymize(store_dump_t *d, backup_secrets *originals)
{
    for (size_t i = 0; i < d->nusers; i++) {
        store_user *u = &d->users[i];
        /* Always two entries per user, so scrub_json can index them. */
        char **grown = xrealloc(originals->items, (originals->count + 2) * sizeof *grown);
        if (grown) {
            originals->items = grown;
            originals->items[originals->count++] = xstrdup(u->email);
            originals->items[originals->count++] = xstrdup(u->password_hash);
            if (!originals->items[originals->count - 1] || !originals->items[originals->count - 2])
                originals->count -= 2;
        }
        snprintf(u->email, sizeof u->email, "user-%lld@example.invalid", (long long)u->id);
        snprintf(u->password_hash, sizeof u->password_hash, "%s", ANONYMIZED_HASH);
        u->last_login_at[0] = '\0';
    }
    for (size_t i = 0; i < d->naudit; i++) {
        store_audit *a = &d->audit[i];
        free(a->actor);
        a->actor = NULL;
        char *before = scrub_text(a->before_json, d, originals);
        char *after = scrub_text(a->after_json, d, originals);
        free(a->before_json);
        free(a->after_json);
        a->before_json = before;
        a->after_json = after;
    }
}

int backup_secrets_leak(const backup_secrets *originals, const char *text, size_t len)
{
    for (size_t i = 0; i < originals->count; i++)
        if (memmem(text, len, originals->items[i], strlen(originals->items[i])))
            return 1;
    return 0;
}
