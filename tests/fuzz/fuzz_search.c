/*
 * fuzz_search.c — libFuzzer target for the name search (graph/search.c).
 *
 * The bundled dataset is built into a snapshot once; each input is a limit
 * byte, then a query (any bytes up to the first NUL: broken UTF-8, controls,
 * long runs). The answer must be JSON echoing the query, with at most
 * `limit` results, each naming a genre or band of the map with a known
 * match; and it must be the start of the answer to the same query with a
 * limit of 50, with the same total — results are ranked by a total order,
 * whatever order the scan meets the names and their aliases in.
 *
 * Build and run: tests/fuzz/run fuzz_search (FUZZ_SECONDS bounds it).
 */
#include "core/buf.h"
#include "graph/index.h"
#include "graph/search.h"
#include "graph/snapshot.h"
#include "ops/seed.h"

#include <jansson.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static graph_snapshot *map;

static void die(const char *what, const char *query)
{
    fprintf(stderr, "fuzz_search: %s (query \"%s\")\n", what, query);
    abort();
}

static json_t *ask(const char *query, size_t limit)
{
    buf out = BUF_INIT;
    graph_search(map, query, limit, &out);
    if (buf_failed(&out))
        die("out of memory", query);
    json_error_t jerr;
    json_t *v = json_loadb(out.data, out.len, 0, &jerr);
    if (!v)
        die(jerr.text, query);
    buf_free(&out);
    return v;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    dataset d;
    char err[512];
    if (seed_load(NULL, &d, err, sizeof err) != 0 || !(map = graph_build(&d, 1, err, sizeof err))) {
        fprintf(stderr, "fuzz_search: the bundled dataset: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t limit = 1 + data[0] % 50; /* what the API accepts */
    char *query = strndup((const char *)data + 1, size - 1);
    if (!query)
        return 0;
    json_t *some = ask(query, limit), *all = ask(query, 50);
    const json_t *results = json_object_get(some, "results"), *best = json_object_get(all, "results");
    if (!json_is_array(results) || !json_is_array(best) || !json_is_string(json_object_get(some, "query")))
        die("no query or results", query);
    if (json_array_size(results) > limit)
        die("more results than the limit", query);
    if (json_integer_value(json_object_get(some, "total")) != json_integer_value(json_object_get(all, "total")))
        die("the total depends on the limit", query);
    for (size_t i = 0; i < json_array_size(results); i++) {
        const json_t *r = json_array_get(results, i);
        const char *kind = json_string_value(json_object_get(r, "kind"));
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *match = json_string_value(json_object_get(r, "match"));
        if (!kind || !id || !match || (strcmp(kind, "genre") != 0 && strcmp(kind, "band") != 0))
            die("a result without kind, id and match", query);
        size_t at;
        if (!(strcmp(kind, "genre") == 0 ? graph_find_genre(map, id, &at) : graph_find_band(map, id, &at)))
            die("a result that is not on the map", query);
        if (!json_equal(r, json_array_get(best, i)))
            die("a shorter limit gives other results than the start of a longer one", query);
    }
    json_decref(some);
    json_decref(all);
    free(query);
    return 0;
}
