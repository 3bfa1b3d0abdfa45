/*
 * prune.c — GFS retention (see prune.h).
 *
 * Selection works on names only (time and tag are in the name), so a
 * directory or an S3 prefix is pruned without reading any backup.
 */
#include "ops/prune.h"

#include "ops/backup.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void mark(prune_item *it, const char *why)
{
    size_t used = strlen(it->reasons);
    snprintf(it->reasons + used, sizeof it->reasons - used, "%s%s", used ? ", " : "", why);
    it->keep = 1;
}

static long day_key(time_t t) { return (long)(t >= 0 ? t / 86400 : (t - 86399) / 86400); }

/* 1970-01-01 was a Thursday: shifting by 3 days makes weeks start on Monday. */
static long week_key(time_t t)
{
    long d = day_key(t) + 3;
    return d >= 0 ? d / 7 : (d - 6) / 7;
}

static long month_key(time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    return (long)tm.tm_year * 12 + tm.tm_mon;
}

/* Newest to oldest: the first backup met in each new period is that
 * period's newest; stop after count periods. */
static void apply_rule(prune_item *items, size_t n, int count, long (*key)(time_t), const char *name)
{
    long last = LONG_MIN;
    int taken = 0;
    for (size_t i = n; i-- > 0 && taken < count;) {
        long k = key(items[i].created);
        if (k == last)
            continue;
        last = k;
        taken++;
        mark(&items[i], name);
    }
}

void prune_select(prune_item *items, size_t n, const prune_policy *p)
{
    for (size_t i = 0; i < n; i++) {
        items[i].keep = 0;
        items[i].reasons[0] = '\0';
    }
    if (n == 0)
        return;
    mark(&items[n - 1], "newest");
    for (size_t i = 0; i < n; i++)
        if (items[i].tag && (strcmp(items[i].tag, "keep") == 0 || strncmp(items[i].tag, "keep-", 5) == 0))
            mark(&items[i], "tagged keep");
    apply_rule(items, n, p->daily, day_key, "daily");
    apply_rule(items, n, p->weekly, week_key, "weekly");
    apply_rule(items, n, p->monthly, month_key, "monthly");
}

static void report(FILE *out, const prune_item *it, int dry_run, const char *where)
{
    if (!out)
        return;
    if (it->keep)
        fprintf(out, "keep          %s%s  (%s)\n", where, it->name, it->reasons);
    else
        fprintf(out, "%-13s %s%s\n", dry_run ? "would remove" : "remove", where, it->name);
}

int prune_dir(const char *dir, const prune_policy *p, int dry_run, FILE *out, size_t *kept, size_t *removed, char *err,
              size_t errlen)
{
    backup_info *list;
    size_t n;
    *kept = *removed = 0;
    if (backup_list(dir, &list, &n, err, errlen) != 0)
        return -1;
    prune_item *items = calloc(n ? n : 1, sizeof *items);
    if (!items) {
        free(list);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].name = list[i].name;
        items[i].created = list[i].created;
        items[i].tag = list[i].tag;
        /* backup_list sorted by (time, .N): equal times keep that order. */
        items[i].seq = (int)i;
    }
    prune_select(items, n, p);
    char where[4200];
    snprintf(where, sizeof where, "%s/", dir);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].keep) {
            (*kept)++;
            report(out, &items[i], dry_run, where);
            continue;
        }
        if (!dry_run) {
            if (unlink(list[i].location) != 0 && errno != ENOENT) {
                snprintf(err, errlen, "cannot remove %s: %s", list[i].location, strerror(errno));
                rc = -1;
                break;
            }
            char side[4300];
            snprintf(side, sizeof side, "%s.verified", list[i].location);
            unlink(side);
        }
        (*removed)++;
        report(out, &items[i], dry_run, where);
    }
    free(items);
    free(list);
    return rc;
}

typedef struct s3_entry {
    char name[256];
    time_t created;
    int seq;
    char tag[BACKUP_TAG_MAX + 1];
} s3_entry;

static int by_created(const void *a, const void *b)
{
    const s3_entry *x = a, *y = b;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return strcmp(x->name, y->name);
}

int prune_s3(s3_client *c, const char *bucket, const char *prefix, const prune_policy *p, int dry_run, FILE *out,
             size_t *kept, size_t *removed, char *err, size_t errlen)
{
    *kept = *removed = 0;
    char dirprefix[1100];
    snprintf(dirprefix, sizeof dirprefix, "%s%s", prefix, prefix[0] && prefix[strlen(prefix) - 1] != '/' ? "/" : "");
    s3_object *objs;
    size_t nobj;
    if (s3_list(c, bucket, dirprefix, &objs, &nobj, err, errlen) != 0)
        return -1;
    s3_entry *e = calloc(nobj ? nobj : 1, sizeof *e);
    prune_item *items = calloc(nobj ? nobj : 1, sizeof *items);
    if (!e || !items) {
        free(objs), free(e), free(items);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < nobj; i++) {
        const char *name = objs[i].key + strlen(dirprefix);
        if (strchr(name, '/') || strlen(name) >= sizeof e[n].name)
            continue;
        time_t t;
        char tag[BACKUP_TAG_MAX + 1];
        if (backup_parse_name(name, &t, tag, sizeof tag) != 0)
            continue;
        snprintf(e[n].name, sizeof e[n].name, "%s", name);
        snprintf(e[n].tag, sizeof e[n].tag, "%s", tag);
        e[n].created = t;
        const char *dot = strchr(name + strlen("musicgraph-") + 16, '.');
        e[n].seq = dot && dot[1] >= '1' && dot[1] <= '9' ? atoi(dot + 1) : 0;
        n++;
    }
    free(objs);
    qsort(e, n, sizeof *e, by_created);
    for (size_t i = 0; i < n; i++) {
        items[i].name = e[i].name;
        items[i].created = e[i].created;
        items[i].seq = e[i].seq;
        items[i].tag = e[i].tag;
    }
    prune_select(items, n, p);
    char where[1200];
    snprintf(where, sizeof where, "s3://%s/%s", bucket, dirprefix);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].keep) {
            (*kept)++;
            report(out, &items[i], dry_run, where);
            continue;
        }
        if (!dry_run) {
            char key[1400];
            snprintf(key, sizeof key, "%s%s", dirprefix, e[i].name);
            if (s3_delete(c, bucket, key, err, errlen) != 0) {
                rc = -1;
                break;
            }
            snprintf(key, sizeof key, "%s%s.info.json", dirprefix, e[i].name);
            char ignored[512];
            s3_delete(c, bucket, key, ignored, sizeof ignored);
        }
        (*removed)++;
        report(out, &items[i], dry_run, where);
    }
    free(items);
    free(e);
    return rc;
}
