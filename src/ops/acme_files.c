/*
 * acme_files.c — where the ACME state lives in the state directory, and
 * the record of the last order, shared by the server's certificate manager
 * (which writes them) and doctor (which reports them). See acme.h.
 */
#include "ops/acme.h"

#include "core/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void acme_files_of(const char *state_dir, acme_files *f)
{
    snprintf(f->dir, sizeof f->dir, "%s/acme", state_dir);
    snprintf(f->account_key, sizeof f->account_key, "%s/account.key", f->dir);
    snprintf(f->chain, sizeof f->chain, "%s/certificate.pem", f->dir);
    snprintf(f->key, sizeof f->key, "%s/certificate.key", f->dir);
    snprintf(f->attempt, sizeof f->attempt, "%s/last-attempt", f->dir);
}

size_t acme_split_names(char *list, const char **names, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(list, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        if (n == max)
            return max + 1;
        names[n++] = t;
    }
    return n;
}

int acme_record_attempt(const acme_files *f, time_t when, int ok, const char *detail, char *err, size_t errlen)
{
    char line[1200];
    int n = snprintf(line, sizeof line, "%lld %s %s\n", (long long)when, ok ? "ok" : "failed", detail);
    if (n < 0)
        return -1;
    return fs_write_atomic(f->attempt, line, strlen(line), 0600, err, errlen);
}

int acme_read_attempt(const acme_files *f, time_t *when, int *ok, char *detail, size_t len)
{
    FILE *in = fopen(f->attempt, "r");
    if (!in)
        return -1;
    char line[1200], result[16];
    long long t;
    int pos = 0, rc = -1;
    if (fgets(line, sizeof line, in) && sscanf(line, "%lld %15s %n", &t, result, &pos) == 2 && pos > 0) {
        line[strcspn(line, "\n")] = '\0';
        *when = (time_t)t;
        *ok = strcmp(result, "ok") == 0;
        snprintf(detail, len, "%s", line + pos);
        rc = 0;
    }
    fclose(in);
    return rc;
}
