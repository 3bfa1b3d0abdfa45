/*
 * records.c — freeing what a store hands out (see records.h).
 */
#include "store/records.h"

#include <stdlib.h>
#include <string.h>

void store_audit_clear(store_audit *a)
{
    free(a->actor);
    free(a->entity_id);
    free(a->before_json);
    free(a->after_json);
    memset(a, 0, sizeof *a);
}

void store_dump_free(store_dump_t *d)
{
    dataset_free(&d->map);
    free(d->users);
    for (size_t i = 0; i < d->naudit; i++)
        store_audit_clear(&d->audit[i]);
    free(d->audit);
    memset(d, 0, sizeof *d);
}
