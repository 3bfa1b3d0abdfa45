/*
 * prune.c — GFS retention (see prune.h).
 *
 * Selection works on names only (time and tag are in the name), so a
 * directory or an S3 prefix (backup_target.h) is pruned without reading
 * any backup.
 */
#include "ops/prune.h"
#include "core/xalloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

int prune_target(backup_target *t, const prune_policy *p, int dry_run, FILE *out, size_t *kept, size_t *removed,
                 char *err, size_t errlen)
{
    backup_info *list;
    size_t n;
    *kept = *removed = 0;
    if (backup_target_list(t, &list, &n, err, errlen) != 0)
        return -1;
    prune_item *items = xcalloc(n ? n : 1, sizeof *items);
    if (!items) {
        free(list);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].name = list[i].name;
        items[i].created = list[i].created;
        items[i].tag = list[i].tag;
    }
    prune_select(items, n, p);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].keep) {
            (*kept)++;
        } else {
            if (!dry_run && backup_target_remove(t, items[i].name, err, errlen) != 0) {
                rc = -1;
                break;
            }
            (*removed)++;
        }
        report(out, &items[i], dry_run, backup_target_where(t));
    }
    free(items);
    free(list);
    return rc;
}
