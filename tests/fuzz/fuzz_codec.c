/*
 * fuzz_codec.c — libFuzzer target for the dataset reader (domain/codec.c)
 * and the data rules (domain/rules.c).
 *
 * Any bytes go to codec_parse_dataset. Whatever it accepts is checked by
 * domain_check_dataset (which must not crash on structurally odd data: NULL
 * ids, missing names, unknown types, cycles), then written back with
 * codec_write_dataset. The written document must parse again, to the same
 * number of entries, and writing that gives the same bytes: export followed
 * by import is lossless for everything the reader lets in.
 *
 * Build and run: tests/fuzz/run (FUZZ_SECONDS bounds each target).
 */
#include "core/buf.h"
#include "domain/codec.h"
#include "domain/model.h"
#include "domain/rules.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const domain_errors *errs, const buf *doc)
{
    fprintf(stderr, "fuzz_codec: %s\n", what);
    for (size_t i = 0; errs && i < errs->count && i < 10; i++)
        fprintf(stderr, "  %s: %s: %s\n", errs->items[i].entry, errs->items[i].field, errs->items[i].message);
    if (doc)
        fprintf(stderr, "document: %.*s\n", (int)(doc->len > 2000 ? 2000 : doc->len), doc->data ? doc->data : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dataset d;
    domain_errors errs = {0};
    if (codec_parse_dataset((const char *)data, size, &d, &errs) != 0) {
        /* A refusal always says why, and hands nothing out. */
        if (errs.count == 0)
            die("parse failed without an error", NULL, NULL);
        if (d.ngenres || d.nbands || d.genres || d.bands)
            die("parse failed but left entries behind", NULL, NULL);
        domain_errors_free(&errs);
        return 0;
    }
    if (errs.count != 0)
        die("parse succeeded with errors", &errs, NULL);

    domain_errors rule_errs = {0};
    size_t n = domain_check_dataset(&d, &rule_errs);
    if (n != rule_errs.count)
        die("domain_check_dataset miscounted", &rule_errs, NULL);
    for (size_t i = 0; i < rule_errs.count; i++)
        if (!rule_errs.items[i].entry || !rule_errs.items[i].field || !rule_errs.items[i].message ||
            !rule_errs.items[i].message[0])
            die("an error without text", &rule_errs, NULL);
    domain_errors_free(&rule_errs);

    /* Deleting any genre must be answerable too. */
    if (d.ngenres && d.genres[0].id) {
        const char **g, **b;
        size_t ng, nb;
        if (domain_genre_delete_blockers(&d, d.genres[0].id, &g, &ng, &b, &nb) == 0) {
            free(g);
            free(b);
        }
    }

    buf first = BUF_INIT;
    codec_write_dataset(&d, &first);
    if (buf_failed(&first))
        die("writer ran out of memory", NULL, NULL);

    dataset back;
    domain_errors back_errs = {0};
    if (codec_parse_dataset(first.data, first.len, &back, &back_errs) != 0)
        die("written dataset does not parse again", &back_errs, &first);
    if (back.ngenres != d.ngenres || back.nbands != d.nbands)
        die("written dataset parses to a different number of entries", NULL, &first);

    buf second = BUF_INIT;
    codec_write_dataset(&back, &second);
    if (second.len != first.len || memcmp(second.data, first.data, first.len) != 0)
        die("write(parse(write(x))) differs from write(x)", NULL, &second);

    buf_free(&first);
    buf_free(&second);
    dataset_free(&back);
    dataset_free(&d);
    domain_errors_free(&back_errs);
    domain_errors_free(&errs);
    return 0;
}
