/*
 * backup_anonymize.h — turning a dump into one that is safe to hand to a
 * development or staging installation (`musicgraph export --anonymize`).
 *
 * Emails become user-ID@example.invalid, password hashes a value no
 * password matches, audit actors go, and emails inside the audit log's
 * before/after documents are replaced. The real values are kept aside so
 * that the finished document can be searched for any of them: a user's
 * email typed into a genre's description must not slip through.
 */
#ifndef MG_BACKUP_ANONYMIZE_H
#define MG_BACKUP_ANONYMIZE_H

#include "store/records.h"

#include <stddef.h>

/* The real emails and password hashes an anonymized dump replaced. */
typedef struct backup_secrets {
    char **items; /* each user's email then hash, in user order */
    size_t count;
} backup_secrets;

void backup_anonymize(store_dump_t *d, backup_secrets *originals);
/* 1 when text still contains any of the originals. */
int backup_secrets_leak(const backup_secrets *originals, const char *text, size_t len);
/* Wipes and frees the originals. */
void backup_secrets_free(backup_secrets *originals);

#endif
