/*
 * test_graph.c — unit tests of src/graph: building a snapshot, its indexes
 * and documents, name search, exploration (paths, related genres, similar
 * bands) and publishing with reference counts.
 *
 * The documents are parsed back with jansson and checked the way a client
 * would read them: families, children and bands in name order (accents
 * ignored), the gzip copy inflating to the identity bytes, ETags that follow
 * the content. Search is checked for its ranking (exact, prefix, word
 * prefix, substring), accent folding, limits and empty queries. Reference
 * counts are read from the snapshot's internals (graph/internal.h) so a leak
 * or an early free shows up as a wrong number, not only under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include "core/buf.h"
#include "domain/model.h"
#include "graph/internal.h"
#include "graph/positions.h"
#include "graph/snapshot.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* ---------------------------------------------------------------- helpers */

/*
 * rock ── hard-rock ── heavy-metal ── thrash-metal ── crossover-thrash
 *  │                   (also metal)
 *  ├── zydeco-rock, arger-rock ("Ärger rock"), grunge, hard-rock: children in
 *  │   an order that differs from their names' order
 * metal ── doom-metal
 */
static void small_dataset(dataset *d)
{
    memset(d, 0, sizeof *d);
    add_genre(d, "rock", "Rock", GENRE_ROOT, "");
    add_genre(d, "metal", "Metal", GENRE_ROOT, "");
    add_genre(d, "zydeco-rock", "Zydeco rock", GENRE_LEAF, "rock");
    add_genre(d, "hard-rock", "hard rock", GENRE_INTERMEDIATE, "rock");
    add_genre(d, "grunge", "Grunge", GENRE_LEAF, "rock");
    add_genre(d, "arger-rock", "\xc3\x84rger rock", GENRE_LEAF, "rock");
    add_genre(d, "heavy-metal", "Heavy metal", GENRE_INTERMEDIATE, "hard-rock,metal");
    add_genre(d, "thrash-metal", "Thrash metal", GENRE_INTERMEDIATE, "heavy-metal");
    add_genre(d, "crossover-thrash", "Crossover thrash", GENRE_LEAF, "thrash-metal");
    add_genre(d, "doom-metal", "Doom metal", GENRE_LEAF, "metal");
    add_band(d, "nirvana", "Nirvana", "grunge");
    add_band(d, "oelhead", "\xc3\x96lhead", "grunge");
    add_band(d, "alice-in-chains", "Alice in Chains", "grunge,doom-metal");
    add_band(d, "melvins", "melvins", "doom-metal,grunge"); /* lists grunge as a secondary genre */
    add_band(d, "dri", "D.R.I.", "crossover-thrash");
}

static graph_snapshot *build(dataset *d, int64_t version)
{
    char err[256] = "";
    graph_snapshot *s = graph_build(d, version, err, sizeof err);
    if (!s)
        fail_msg("graph_build: %s", err);
    return s;
}

static graph_snapshot *build_small(void)
{
    dataset d;
    small_dataset(&d);
    return build(&d, 7);
}

static json_t *parse_blob(const graph_blob *b)
{
    assert_non_null(b);
    assert_non_null(b->data);
    json_error_t jerr;
    json_t *v = json_loadb(b->data, b->len, 0, &jerr);
    if (!v)
        fail_msg("document does not parse: %s: %.*s", jerr.text, (int)(b->len > 200 ? 200 : b->len), b->data);
    return v;
}

static size_t genre_index(const graph_snapshot *s, const char *id)
{
    size_t i;
    if (!graph_find_genre(s, id, &i))
        fail_msg("genre %s not found", id);
    return i;
}

static json_t *genre_doc(const graph_snapshot *s, const char *id)
{
    return parse_blob(graph_doc_genre(s, genre_index(s, id)));
}

/* Asserts that arr (of {"id":…}) holds exactly the ids in csv, in order. */
static void assert_ids(const json_t *arr, const char *csv)
{
    size_t n;
    char **ids = split_ids(csv, &n);
    assert_true(json_is_array(arr));
    if (json_array_size(arr) != n)
        fail_msg("expected %zu entries (%s), got %zu", n, csv, json_array_size(arr));
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(arr, i);
        const char *id =
            json_is_string(item) ? json_string_value(item) : json_string_value(json_object_get(item, "id"));
        assert_non_null(id);
        if (strcmp(id, ids[i]) != 0)
            fail_msg("entry %zu: expected %s, got %s (want %s)", i, ids[i], id, csv);
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

static json_t *search(const graph_snapshot *s, const char *q, size_t limit)
{
    buf out = BUF_INIT;
    graph_search(s, q, limit, &out);
    assert_false(buf_failed(&out));
    json_error_t jerr;
    json_t *v = json_loadb(out.data, out.len, 0, &jerr);
    if (!v)
        fail_msg("search output does not parse: %s", jerr.text);
    buf_free(&out);
    assert_string_equal(json_string_value(json_object_get(v, "query")), q);
    return v;
}

/* Inflates a gzip stream expected to hold about `expect` bytes (room for more,
 * so a stream that inflates to too much is caught by the length check). */
static char *gunzip(const char *gz, size_t gzlen, size_t expect, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    size_t cap = expect + 1024;
    char *out = malloc(cap);
    z.next_in = (unsigned char *)gz;
    z.avail_in = (uInt)gzlen;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)cap;
    int rc = inflate(&z, Z_FINISH);
    *outlen = z.total_out;
    inflateEnd(&z);
    assert_int_equal(rc, Z_STREAM_END);
    return out;
}

/* ---------------------------------------------------------------- building */

static void test_build_takes_over_the_dataset_and_indexes_it(void **state)
{
    (void)state;
    dataset d;
    small_dataset(&d);
    graph_snapshot *s = build(&d, 42);
    assert_int_equal(d.ngenres, 0); /* taken over, left empty */
    assert_null(d.genres);
    assert_int_equal(graph_version(s), 42);
    const dataset *sd = graph_dataset(s);
    assert_int_equal(sd->ngenres, 10);
    assert_int_equal(sd->nbands, 5);
    size_t i;
    assert_true(graph_find_genre(s, "grunge", &i));
    assert_string_equal(sd->genres[i].name, "Grunge");
    assert_true(graph_find_band(s, "dri", &i));
    assert_string_equal(sd->bands[i].name, "D.R.I.");
    assert_false(graph_find_genre(s, "nirvana", &i)); /* a band, not a genre */
    assert_false(graph_find_band(s, "grunge", &i));
    assert_false(graph_find_genre(s, "", &i));
    assert_true(graph_bytes(s) > 0);
    graph_release(s);
}

/* Every node of the graph document has a finite position, distinct from the
 * others; laid_out says whether they all come from the layout. */
static json_t *positions_of(const graph_snapshot *s, int laid_out)
{
    json_t *doc = parse_blob(graph_doc_graph(s));
    assert_true(json_is_boolean(json_object_get(doc, "laid_out")));
    assert_int_equal(json_is_true(json_object_get(doc, "laid_out")), laid_out);
    for (int k = 0; k < 2; k++) {
        json_t *list = json_object_get(doc, k ? "bands" : "genres"), *a, *b;
        size_t i, j;
        json_array_foreach(list, i, a)
        {
            assert_true(json_is_number(json_object_get(a, "x")) && json_is_number(json_object_get(a, "y")));
            json_array_foreach(list, j, b) if (j > i &&
                                               json_number_value(json_object_get(a, "x")) ==
                                                   json_number_value(json_object_get(b, "x")) &&
                                               json_number_value(json_object_get(a, "y")) ==
                                                   json_number_value(json_object_get(b, "y")))
                fail_msg("two nodes share a point");
        }
    }
    return doc;
}

static double coordinate(json_t *doc, const char *list, const char *id, const char *axis)
{
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(doc, list), i,
                       item) if (strcmp(json_string_value(json_object_get(item, "id")), id) ==
                                 0) return json_number_value(json_object_get(item, axis));
    fail_msg("%s not in %s", id, list);
    return 0;
}

/* The explorer never has to place a node: a snapshot without a layout
 * places every node; a rebuild keeps the known positions and places the
 * new node next to its genre; the layout thread's result replaces the
 * provisional positions and then covers the map. */
static void test_every_node_is_placed_before_the_layout_runs(void **state)
{
    (void)state;
    char err[256];
    graph_snapshot *s = build_small();
    assert_false(graph_layout_covers(graph_layout_of(s), graph_dataset(s)));
    json_decref(positions_of(s, 0));

    graph_layout *computed = graph_layout_compute(s, graph_layout_of(s), NULL, err, sizeof err);
    assert_non_null(computed);
    assert_true(graph_layout_covers(computed, graph_dataset(s)));
    dataset d;
    assert_int_equal(dataset_copy(&d, graph_dataset(s)), 0);
    graph_snapshot *laid = graph_build_laid_out(&d, 8, graph_layout_copy(computed), err, sizeof err);
    assert_non_null(laid);
    json_t *before = positions_of(laid, 1);

    /* An edit adds a band to grunge. */
    assert_int_equal(dataset_copy(&d, graph_dataset(laid)), 0);
    add_band(&d, "mudhoney", "Mudhoney", "grunge");
    graph_snapshot *edited = graph_build_laid_out(&d, 9, graph_layout_copy(computed), err, sizeof err);
    assert_non_null(edited);
    json_t *after = positions_of(edited, 0);
    for (const char *const *id = (const char *const[]){"rock", "grunge", "doom-metal", NULL}; *id; id++) {
        assert_true(coordinate(before, "genres", *id, "x") == coordinate(after, "genres", *id, "x"));
        assert_true(coordinate(before, "genres", *id, "y") == coordinate(after, "genres", *id, "y"));
    }
    double dx = coordinate(after, "bands", "mudhoney", "x") - coordinate(after, "genres", "grunge", "x");
    double dy = coordinate(after, "bands", "mudhoney", "y") - coordinate(after, "genres", "grunge", "y");
    double ex = coordinate(after, "bands", "nirvana", "x") - coordinate(after, "genres", "grunge", "x");
    double ey = coordinate(after, "bands", "nirvana", "y") - coordinate(after, "genres", "grunge", "y");
    assert_true(dx * dx + dy * dy < 4 * (ex * ex + ey * ey)); /* about as near as its labelmate */

    graph_layout *refined = graph_layout_compute(edited, graph_layout_of(edited), NULL, err, sizeof err);
    assert_non_null(refined);
    assert_true(graph_layout_covers(refined, graph_dataset(edited)));
    graph_layout_free(refined);
    graph_layout_free(computed);
    json_decref(before);
    json_decref(after);
    graph_release(s);
    graph_release(laid);
    graph_release(edited);
}

/* The era view: x by year, never before a parent (a genre without a year
 * takes its parents'), each family its own horizontal band, no two genres
 * on one point, and an axis mark for each decade the map spans. */
static void test_eras_place_genres_by_year_in_family_bands(void **state)
{
    (void)state;
    dataset d;
    small_dataset(&d);
    const char *ids[] = {"rock",       "metal",  "hard-rock",  "heavy-metal", "thrash-metal", "crossover-thrash",
                         "doom-metal", "grunge", "zydeco-rock"};
    const int years[] = {1950, 1968, 1966, 1970, 1981, 1984, 1975, 1986, 0 /* unknown */};
    for (size_t k = 0; k < sizeof ids / sizeof *ids; k++)
        dataset_find_genre(&d, ids[k])->origin_year = years[k];
    dataset_find_genre(&d, "arger-rock")->origin_year = 1940; /* before its parent rock: moved after it */
    graph_snapshot *s = build(&d, 1);
    json_t *doc = parse_blob(graph_doc_graph(s));
#define EX(id) coordinate(doc, "genres", id, "ex")
#define EY(id) coordinate(doc, "genres", id, "ey")
    assert_true(EX("rock") < EX("hard-rock") && EX("hard-rock") < EX("heavy-metal") &&
                EX("heavy-metal") < EX("thrash-metal") && EX("thrash-metal") < EX("crossover-thrash"));
    assert_true(EX("crossover-thrash") - EX("thrash-metal") == 3.0); /* a year is a unit after 1900 */
    /* No year: its parent's decade, after the parent; never before a parent. */
    assert_true(EX("zydeco-rock") > EX("rock") && EX("zydeco-rock") < EX("rock") + 10);
    assert_true(EX("arger-rock") > EX("rock") && EX("arger-rock") < EX("rock") + 10);
    assert_true(EX("arger-rock") != EX("zydeco-rock")); /* one decade, spread over its width */
    /* heavy metal belongs to rock's family (primary parent hard rock), doom metal to metal's. */
    double rock_top = -INFINITY, rock_bottom = INFINITY, metal_top = -INFINITY, metal_bottom = INFINITY;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(doc, "genres"), i, g)
    {
        double y = json_number_value(json_object_get(g, "ey"));
        int is_rock = strcmp(json_string_value(json_object_get(g, "family")), "rock") == 0;
        if (is_rock)
            rock_top = fmax(rock_top, y), rock_bottom = fmin(rock_bottom, y);
        else
            metal_top = fmax(metal_top, y), metal_bottom = fmin(metal_bottom, y);
        size_t j;
        json_t *o;
        json_array_foreach(json_object_get(doc, "genres"), j, o) if (j > i &&
                                                                     json_number_value(json_object_get(o, "ex")) ==
                                                                         json_number_value(json_object_get(g, "ex")) &&
                                                                     json_number_value(json_object_get(o, "ey")) == y)
            fail_msg("two genres share a point in the era view");
    }
    assert_true(rock_bottom > metal_top || metal_bottom > rock_top); /* disjoint bands */
    json_t *eras = json_object_get(doc, "eras");
    assert_int_equal(json_integer_value(json_object_get(eras, "from")), 1950);
    assert_int_equal(json_integer_value(json_object_get(eras, "to")), 1986);
    json_t *ticks = json_object_get(eras, "ticks");
    assert_int_equal(json_array_size(ticks), 4); /* 1950s to 1980s */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ticks, 0), "year")), 1950);
    assert_true(json_number_value(json_object_get(json_array_get(ticks, 3), "x")) == 80.0);
#undef EX
#undef EY
    json_decref(doc);
    graph_release(s);
}

static void test_family_of_a_deep_genre_is_its_root_by_primary_parents(void **state)
{
    (void)state;
    graph_snapshot *s = build_small();
    assert_string_equal(graph_family(s, genre_index(s, "crossover-thrash")), "rock");
    assert_string_equal(graph_family(s, genre_index(s, "heavy-metal")), "rock"); /* primary is hard-rock */
    assert_string_equal(graph_family(s, genre_index(s, "doom-metal")), "metal");
    assert_string_equal(graph_family(s, genre_index(s, "rock")), "rock");
    assert_string_equal(graph_family(s, genre_index(s, "metal")), "metal");
    json_t *doc = genre_doc(s, "crossover-thrash");
    assert_string_equal(json_string_value(json_object_get(doc, "family")), "rock");
    json_decref(doc);
    graph_release(s);
}

static void test_genre_doc_has_fields_children_and_bands_sorted_by_name(void **state)
{
    (void)state;
    graph_snapshot *s = build_small();
    json_t *doc = genre_doc(s, "rock");
    assert_string_equal(json_string_value(json_object_get(doc, "id")), "rock");
    assert_string_equal(json_string_value(json_object_get(doc, "type")), "root");
    assert_true(json_is_null(json_object_get(doc, "parent")));
    assert_int_equal(json_array_size(json_object_get(doc, "parents")), 0);
    /* "Ärger rock" sorts as "arger rock", "hard rock" regardless of case. */
    assert_ids(json_object_get(doc, "children"), "arger-rock,grunge,hard-rock,zydeco-rock");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(doc, "children"), 0), "name")),
                        "\xc3\x84rger rock");
    assert_ids(json_object_get(doc, "bands"), "");
    json_decref(doc);

    doc = genre_doc(s, "grunge");
    assert_string_equal(json_string_value(json_object_get(doc, "parent")), "rock");
    assert_string_equal(json_string_value(json_object_get(doc, "family")), "rock");
    assert_ids(json_object_get(doc, "children"), "");
    /* Every band listing the genre, primary or not, by folded name. */
    assert_ids(json_object_get(doc, "bands"), "alice-in-chains,melvins,nirvana,oelhead");
    json_decref(doc);

    /* A genre with two parents is a child of both. */
    doc = genre_doc(s, "metal");
    assert_ids(json_object_get(doc, "children"), "doom-metal,heavy-metal");
    json_decref(doc);
    doc = genre_doc(s, "heavy-metal");
    assert_ids(json_object_get(doc, "parents"), "hard-rock,metal");
    assert_string_equal(json_string_value(json_object_get(doc, "parent")), "hard-rock");
    json_decref(doc);
    graph_release(s);
}

static void test_list_docs_are_sorted_by_name_and_counted(void **state)
{
    (void)state;
    graph_snapshot *s = build_small();
    json_t *doc = parse_blob(graph_doc_genres(s));
    assert_int_equal(json_integer_value(json_object_get(doc, "count")), 10);
    assert_ids(json_object_get(doc, "genres"), "arger-rock,crossover-thrash,doom-metal,grunge,hard-rock,heavy-metal,"
                                               "metal,rock,thrash-metal,zydeco-rock");
    json_decref(doc);

    const size_t *order = graph_genres_by_name(s);
    assert_string_equal(graph_dataset(s)->genres[order[0]].id, "arger-rock");
    assert_string_equal(graph_dataset(s)->genres[order[9]].id, "zydeco-rock");

    doc = parse_blob(graph_doc_bands(s));
    assert_int_equal(json_integer_value(json_object_get(doc, "count")), 5);
    assert_ids(json_object_get(doc, "bands"), "alice-in-chains,dri,melvins,nirvana,oelhead");
    json_t *alice = json_array_get(json_object_get(doc, "bands"), 0);
    assert_string_equal(json_string_value(json_object_get(alice, "primary_genre")), "grunge");
    assert_ids(json_object_get(alice, "genres"), "grunge,doom-metal");
    json_decref(doc);

    doc = parse_blob(graph_doc_graph(s));
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 7);
    assert_int_equal(json_array_size(json_object_get(doc, "genres")), 10);
    assert_int_equal(json_array_size(json_object_get(doc, "bands")), 5);
    json_decref(doc);

    size_t bi;
    assert_true(graph_find_band(s, "oelhead", &bi));
    doc = parse_blob(graph_doc_band(s, bi));
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "\xc3\x96lhead");
    json_decref(doc);
    graph_release(s);
}

static void test_names_with_html_are_escaped_in_documents(void **state)
{
    (void)state;
    dataset d;
    small_dataset(&d);
    set_str(&d.bands[0].name, "</script><img src=x onerror=alert(1)>");
    graph_snapshot *s = build(&d, 1);
    const graph_blob *b = graph_doc_graph(s);
    assert_null(memmem(b->data, b->len, "</script>", 9));
    assert_null(memmem(b->data, b->len, "<img", 4));
    json_t *doc = parse_blob(b);
    json_decref(doc);
    size_t bi;
    assert_true(graph_find_band(s, "nirvana", &bi));
    doc = parse_blob(graph_doc_band(s, bi));
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "</script><img src=x onerror=alert(1)>");
    json_decref(doc);
    graph_release(s);
}

static void test_empty_dataset_builds_empty_documents(void **state)
{
    (void)state;
    dataset d = {0};
    graph_snapshot *s = build(&d, 0);
    json_t *doc = parse_blob(graph_doc_genres(s));
    assert_int_equal(json_integer_value(json_object_get(doc, "count")), 0);
    json_decref(doc);
    doc = parse_blob(graph_doc_graph(s));
    assert_int_equal(json_array_size(json_object_get(doc, "genres")), 0);
    json_decref(doc);
    json_t *r = search(s, "rock", 10);
    assert_int_equal(json_array_size(json_object_get(r, "results")), 0);
    json_decref(r);
    graph_release(s);
}

static void test_cycle_that_slipped_past_the_rules_still_builds(void **state)
{
    (void)state;
    /* The build must terminate even on data the rules would refuse. */
    dataset d = {0};
    add_genre(&d, "a", "A", GENRE_INTERMEDIATE, "b");
    add_genre(&d, "b", "B", GENRE_INTERMEDIATE, "a");
    graph_snapshot *s = build(&d, 1);
    const char *f = graph_family(s, genre_index(s, "a"));
    assert_true(strcmp(f, "a") == 0 || strcmp(f, "b") == 0);
    graph_release(s);
}

/* ---------------------------------------------------------------- blobs */

/* A root and n leaves "leaf-0"... named "Leaf genre number 0" + suffix... */
static void leaves_dataset(dataset *d, int n, const char *suffix)
{
    memset(d, 0, sizeof *d);
    add_genre(d, "root", "Root", GENRE_ROOT, "");
    for (int i = 0; i < n; i++) {
        char id[32], name[64];
        snprintf(id, sizeof id, "leaf-%d", i);
        snprintf(name, sizeof name, "Leaf genre number %d%s", i, suffix);
        add_genre(d, id, name, GENRE_LEAF, "root");
    }
}

static void big_dataset(dataset *d, const char *suffix) { leaves_dataset(d, 200, suffix); }

static void test_large_docs_have_gzip_that_inflates_to_the_identity_bytes(void **state)
{
    (void)state;
    dataset d;
    big_dataset(&d, "");
    graph_snapshot *s = build(&d, 1);
    const graph_blob *b = graph_doc_graph(s);
    assert_true(b->len >= 1024);
    /* The graph document's gzip form is added after publishing. */
    assert_null(b->gz);
    assert_int_equal(graph_add_gzip(s, NULL, NULL), 0);
    assert_non_null(b->gz);
    assert_true(b->gzlen < b->len);
    assert_int_equal((unsigned char)b->gz[0], 0x1f); /* gzip magic: what Content-Encoding: gzip means */
    assert_int_equal((unsigned char)b->gz[1], 0x8b);
    size_t n;
    char *plain = gunzip(b->gz, b->gzlen, b->len, &n);
    assert_int_equal(n, b->len);
    assert_memory_equal(plain, b->data, n);
    free(plain);
    /* The graph document (the first frame's) also in brotli, smaller still,
     * added after building (after publishing, in the server) and only once it
     * is laid out: before, the explorer asks again. */
    assert_null(b->br);
    assert_int_equal(graph_add_brotli(s), 0);
    assert_null(b->br);
    char err[256];
    graph_layout *computed = graph_layout_compute(s, graph_layout_of(s), NULL, err, sizeof err);
    assert_non_null(computed);
    dataset copy;
    assert_int_equal(dataset_copy(&copy, graph_dataset(s)), 0);
    graph_snapshot *laid = graph_build_laid_out(&copy, 2, computed, err, sizeof err);
    assert_non_null(laid);
    const graph_blob *lb = graph_doc_graph(laid);
    assert_null(lb->br);
    assert_int_equal(graph_add_gzip(laid, s, NULL), 0);
    size_t before = graph_bytes(laid);
    assert_int_equal(graph_add_brotli(laid), 0);
    assert_non_null(lb->br);
    assert_int_equal(graph_bytes(laid), before + lb->brlen);
    assert_int_equal(graph_add_brotli(laid), 0); /* made once */
    assert_true(lb->brlen > 0 && lb->brlen < lb->gzlen);
    graph_release(laid);

    /* The large lists are compressed on first use, not at every rebuild. */
    const graph_blob *g = graph_doc_genres(s);
    assert_null(g->gz);
    graph_blob_gzip(g);
    assert_non_null(g->gz);
    plain = gunzip(g->gz, g->gzlen, g->len, &n);
    assert_int_equal(n, g->len);
    assert_memory_equal(plain, g->data, n);
    free(plain);

    /* A small document is not worth compressing. */
    const graph_blob *one = graph_doc_genre(s, genre_index(s, "leaf-3"));
    assert_true(one->len < 1024);
    graph_blob_gzip(one);
    assert_null(one->gz);
    assert_int_equal(one->gzlen, 0);
    graph_release(s);
}

/* Readers asking for every genre and band document at once (the documents
 * are written on their first request). */
typedef struct doc_reader {
    const graph_snapshot *s;
    const graph_blob **seen; /* genres, then bands */
} doc_reader;

static void *read_every_document(void *arg)
{
    doc_reader *r = arg;
    const dataset *d = graph_dataset(r->s);
    for (size_t i = 0; i < d->ngenres; i++)
        r->seen[i] = graph_doc_genre(r->s, i);
    for (size_t i = 0; i < d->nbands; i++)
        r->seen[d->ngenres + i] = graph_doc_band(r->s, d->nbands - 1 - i); /* the other way round */
    return NULL;
}

static void test_entity_documents_are_written_once_on_first_request(void **state)
{
    (void)state;
    dataset d;
    big_dataset(&d, "");
    graph_snapshot *s = build(&d, 1);
    const dataset *sd = graph_dataset(s);
    size_t n = sd->ngenres + sd->nbands, before = graph_bytes(s);
    enum { READERS = 4 };
    doc_reader readers[READERS];
    pthread_t threads[READERS];
    for (int k = 0; k < READERS; k++) {
        readers[k] = (doc_reader){s, calloc(n, sizeof(const graph_blob *))};
        assert_non_null(readers[k].seen);
        assert_int_equal(pthread_create(&threads[k], NULL, read_every_document, &readers[k]), 0);
    }
    for (int k = 0; k < READERS; k++)
        assert_int_equal(pthread_join(threads[k], NULL), 0);
    /* Every reader got the same document, written once. */
    for (size_t i = 0; i < n; i++) {
        assert_non_null(readers[0].seen[i]);
        for (int k = 1; k < READERS; k++)
            assert_ptr_equal(readers[k].seen[i], readers[0].seen[i]);
    }
    for (int k = 0; k < READERS; k++)
        free(readers[k].seen);
    assert_true(graph_bytes(s) > before);
    /* What they got is the genre's own document. */
    json_t *doc = genre_doc(s, "leaf-3");
    assert_string_equal(json_string_value(json_object_get(doc, "id")), "leaf-3");
    json_decref(doc);
    graph_release(s);
}

static void test_graph_document_gzip_reuses_the_previous_snapshots_pieces(void **state)
{
    (void)state;
    /* Some 4,000 genres: a document of several hundred KiB, many pieces. */
    dataset a, b;
    leaves_dataset(&a, 4000, "");
    assert_int_equal(dataset_copy(&b, &a), 0);
    set_str(&b.genres[2000].name, "Leaf genre number 1999, renamed to something longer");
    graph_snapshot *sa = build(&a, 1), *sb = build(&b, 2);
    size_t reused;
    assert_int_equal(graph_add_gzip(sa, NULL, &reused), 0);
    assert_int_equal(reused, 0);
    assert_int_equal(graph_add_gzip(sb, sa, &reused), 0);
    const graph_blob *gb = graph_doc_graph(sb);
    /* Cut between nodes, most of it unchanged: most pieces are reused. */
    assert_true(gb->npieces > 4);
    assert_true(reused > 0 && reused >= gb->npieces / 2);
    size_t n;
    char *plain = gunzip(gb->gz, gb->gzlen, gb->len, &n);
    assert_int_equal(n, gb->len);
    assert_memory_equal(plain, gb->data, n);
    free(plain);
    graph_release(sa);
    graph_release(sb);
}

static void test_etag_is_stable_for_same_data_and_changes_with_it(void **state)
{
    (void)state;
    dataset a, b, c;
    big_dataset(&a, "");
    big_dataset(&b, "");
    big_dataset(&c, "");
    set_str(&c.genres[150].name, "Leaf genre number 149 (renamed)");
    graph_snapshot *sa = build(&a, 1), *sb = build(&b, 1), *sc = build(&c, 1);

    const char *ea = graph_doc_genres(sa)->etag;
    assert_int_equal(strlen(ea), 18);
    assert_int_equal(ea[0], '"');
    assert_int_equal(ea[17], '"');
    assert_string_equal(ea, graph_doc_genres(sb)->etag);
    assert_string_equal(graph_doc_graph(sa)->etag, graph_doc_graph(sb)->etag);
    assert_string_not_equal(ea, graph_doc_genres(sc)->etag);
    assert_string_not_equal(graph_doc_graph(sa)->etag, graph_doc_graph(sc)->etag);
    /* Documents of untouched genres keep their ETag. */
    assert_string_equal(graph_doc_genre(sa, 3)->etag, graph_doc_genre(sc, 3)->etag);
    assert_string_not_equal(graph_doc_genre(sa, 150)->etag, graph_doc_genre(sc, 150)->etag);
    /* The graph document carries the version, so a new version is a new ETag. */
    dataset d;
    big_dataset(&d, "");
    graph_snapshot *sd = build(&d, 2);
    assert_string_not_equal(graph_doc_graph(sa)->etag, graph_doc_graph(sd)->etag);
    graph_release(sa);
    graph_release(sb);
    graph_release(sc);
    graph_release(sd);
}

static void test_blob_init_and_attached_extra_documents(void **state)
{
    (void)state;
    graph_blob b;
    assert_int_equal(graph_blob_init(&b, strdup("{}"), 2), 0);
    assert_int_equal(b.len, 2);
    assert_null(b.gz);
    assert_int_equal(strlen(b.etag), 18);
    graph_blob_free(&b);
    assert_null(b.data);

    graph_snapshot *s = build_small();
    assert_null(graph_extra(s, 0));
    assert_int_equal(graph_attach(s, 0, strdup("<html>page</html>"), 17), 0);
    const graph_blob *e = graph_extra(s, 0);
    assert_non_null(e);
    assert_memory_equal(e->data, "<html>page</html>", 17);
    /* Attaching again replaces (and frees) the old document. */
    assert_int_equal(graph_attach(s, 0, strdup("second"), 6), 0);
    assert_memory_equal(graph_extra(s, 0)->data, "second", 6);
    assert_int_equal(graph_attach(s, GRAPH_EXTRA_SLOTS, strdup("x"), 1), -1);
    assert_int_equal(graph_attach(s, -1, strdup("x"), 1), -1);
    assert_null(graph_extra(s, GRAPH_EXTRA_SLOTS));
    assert_null(graph_extra(s, -1));
    graph_release(s);
}

/* ---------------------------------------------------------------- search */

static void search_dataset(dataset *d)
{
    memset(d, 0, sizeof *d);
    add_genre(d, "heavy-metal", "Heavy metal", GENRE_ROOT, "");
    add_genre(d, "metalcore", "Metalcore", GENRE_ROOT, "");
    add_genre(d, "nu-metal", "Nu-metal", GENRE_ROOT, "");
    add_genre(d, "metal", "Metal", GENRE_ROOT, "");
    add_genre(d, "death-metal", "Death metal", GENRE_ROOT, "");
    add_genre(d, "rock", "Rock", GENRE_ROOT, "");
    add_band(d, "gunmetal-grey", "Gunmetal Grey", "rock");
    add_band(d, "metallica", "Metallica", "rock");
    add_band(d, "motorhead", "Mot\xc3\xb6rhead", "rock");
    add_band(d, "bjork", "Bj\xc3\xb6rk", "rock");
    add_band(d, "sigur-ros", "Sigur R\xc3\xb3s", "rock");
}

static void assert_result(const json_t *results, size_t i, const char *kind, const char *id)
{
    const json_t *r = json_array_get(results, i);
    if (!r)
        fail_msg("no result %zu (expected %s %s)", i, kind, id);
    const char *k = json_string_value(json_object_get(r, "kind"));
    const char *got = json_string_value(json_object_get(r, "id"));
    if (!k || !got || strcmp(k, kind) != 0 || strcmp(got, id) != 0)
        fail_msg("result %zu: expected %s %s, got %s %s", i, kind, id, k ? k : "?", got ? got : "?");
}

static void test_search_ranks_exact_prefix_word_prefix_then_substring(void **state)
{
    (void)state;
    dataset d;
    search_dataset(&d);
    graph_snapshot *s = build(&d, 1);
    json_t *v = search(s, "metal", 20);
    json_t *r = json_object_get(v, "results");
    assert_int_equal(json_array_size(r), 7);
    assert_result(r, 0, "genre", "metal");       /* exact */
    assert_result(r, 1, "genre", "metalcore");   /* prefix, genres before bands */
    assert_result(r, 2, "band", "metallica");    /* prefix */
    assert_result(r, 3, "genre", "nu-metal");    /* word prefix (after '-'), shortest first */
    assert_result(r, 4, "genre", "death-metal"); /* word prefix, then alphabetical */
    assert_result(r, 5, "genre", "heavy-metal");
    assert_result(r, 6, "band", "gunmetal-grey"); /* substring */
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "name")), "Metal");
    json_decref(v);
    graph_release(s);
}

/* A prefix shared by hundreds of names is answered from the ranking made at
 * build time: the answer must be the one a full ranking gives — the exact
 * match, then genres, then the shortest names, alphabetically. */
static void test_search_common_prefix_ranks_like_a_full_scan(void **state)
{
    (void)state;
    dataset d;
    memset(&d, 0, sizeof d);
    add_genre(&d, "root", "Root", GENRE_ROOT, "");
    add_genre(&d, "the-genre", "The Genre", GENRE_LEAF, "root");
    char id[32], name[48];
    for (int i = 0; i < 400; i++) {
        snprintf(id, sizeof id, "band-%d", i);
        /* Lengths vary with the number of digits and a suffix every 7th band. */
        snprintf(name, sizeof name, "The Band %d%s", (i * 37) % 1000, i % 7 ? "" : " Extra");
        add_band(&d, id, name, "the-genre");
    }
    add_band(&d, "the", "The", "the-genre");
    graph_snapshot *s = build(&d, 1);
    buf out = BUF_INIT;
    graph_search(s, "the", 50, &out);
    json_t *v = json_loads(buf_cstr(&out), 0, NULL);
    json_t *r = json_object_get(v, "results");
    assert_int_equal(json_array_size(r), 50);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "id")), "the");
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 1), "id")), "the-genre");
    /* The rest: bands by length, then alphabetically. */
    for (size_t i = 3; i < 50; i++) {
        const char *a = json_string_value(json_object_get(json_array_get(r, i - 1), "name"));
        const char *b = json_string_value(json_object_get(json_array_get(r, i), "name"));
        assert_true(strlen(a) < strlen(b) || (strlen(a) == strlen(b) && strcasecmp(a, b) < 0));
    }
    /* Nothing shorter was left out: the 48 bands shown are the shortest names. */
    const char *last = json_string_value(json_object_get(json_array_get(r, 49), "name"));
    size_t shorter = 0;
    for (size_t i = 0; i < graph_dataset(s)->nbands; i++) {
        const char *n = graph_dataset(s)->bands[i].name;
        if (strcmp(n, "The") != 0 && strlen(n) < strlen(last))
            shorter++;
    }
    assert_true(shorter <= 48);
    json_decref(v);
    buf_free(&out);
    graph_release(s);
}

static void test_search_ignores_accents_and_case(void **state)
{
    (void)state;
    dataset d;
    search_dataset(&d);
    graph_snapshot *s = build(&d, 1);
    const char *queries[] = {"motorhead", "MOTORHEAD", "Mot\xc3\xb6rhead", "mot\xc3\xb6r", "  motorhead  "};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        json_t *v = search(s, queries[i], 10);
        json_t *r = json_object_get(v, "results");
        if (json_array_size(r) != 1)
            fail_msg("'%s' gave %zu results", queries[i], json_array_size(r));
        assert_result(r, 0, "band", "motorhead");
        assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "name")), "Mot\xc3\xb6rhead");
        json_decref(v);
    }
    json_t *v = search(s, "bjork", 10);
    assert_result(json_object_get(v, "results"), 0, "band", "bjork");
    json_decref(v);
    v = search(s, "sigur ros", 10);
    assert_result(json_object_get(v, "results"), 0, "band", "sigur-ros");
    json_decref(v);
    graph_release(s);
}

static void test_search_respects_the_limit(void **state)
{
    (void)state;
    dataset d;
    search_dataset(&d);
    graph_snapshot *s = build(&d, 1);
    json_t *v = search(s, "metal", 2);
    json_t *r = json_object_get(v, "results");
    assert_int_equal(json_array_size(r), 2);
    assert_result(r, 0, "genre", "metal"); /* the best two, not the first two found */
    assert_result(r, 1, "genre", "metalcore");
    json_decref(v);
    v = search(s, "metal", 1);
    assert_int_equal(json_array_size(json_object_get(v, "results")), 1);
    assert_result(json_object_get(v, "results"), 0, "genre", "metal");
    json_decref(v);
    v = search(s, "metal", 0);
    assert_int_equal(json_array_size(json_object_get(v, "results")), 0);
    json_decref(v);
    graph_release(s);
}

/* Spacing and punctuation never matter, typos within one or two edits are
 * forgiven (after every real match), and equal matches go by importance:
 * the genre with bands before the one without. */
static void test_search_forgives_spacing_punctuation_and_typos(void **state)
{
    (void)state;
    dataset d;
    memset(&d, 0, sizeof d);
    add_genre(&d, "rock", "Rock", GENRE_ROOT, "");
    add_genre(&d, "metal", "Metal", GENRE_ROOT, "");
    add_genre(&d, "hip-hop", "Hip hop", GENRE_ROOT, "");
    add_genre(&d, "shoegaze", "Shoegaze", GENRE_LEAF, "rock");
    add_genre(&d, "kawaii-metal", "Kawaii metal", GENRE_LEAF, "metal");
    add_genre(&d, "thrash-metal", "Thrash metal", GENRE_LEAF, "metal");
    add_genre(&d, "k-pop", "K-pop", GENRE_ROOT, "");
    add_band(&d, "slayer", "Slayer", "thrash-metal");
    add_band(&d, "anthrax", "Anthrax", "thrash-metal");
    add_band(&d, "ac-dc", "AC/DC", "rock");
    add_band(&d, "motorhead", "Mot\xc3\xb6rhead", "rock");
    graph_snapshot *s = build(&d, 1);
    const char *exact[][2] = {{"hip-hop", "hip-hop"},    {"hiphop", "hip-hop"}, {"HIP  HOP", "hip-hop"},
                              {"shoe gaze", "shoegaze"}, {"kpop", "k-pop"},     {"acdc", "ac-dc"},
                              {"AC/DC", "ac-dc"},        {"metal!", "metal"}};
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++) {
        json_t *v = search(s, exact[i][0], 5);
        json_t *first = json_array_get(json_object_get(v, "results"), 0);
        if (!first || strcmp(json_string_value(json_object_get(first, "id")), exact[i][1]) != 0 ||
            strcmp(json_string_value(json_object_get(first, "match")), "exact") != 0)
            fail_msg("'%s' should find %s exactly first", exact[i][0], exact[i][1]);
        json_decref(v);
    }
    /* A typo: found, and marked so. Short queries are not forgiven. */
    json_t *v = search(s, "motorhed", 5);
    assert_result(json_object_get(v, "results"), 0, "band", "motorhead");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(v, "results"), 0), "match")),
                        "typo");
    assert_int_equal(json_integer_value(json_object_get(v, "total")), 0); /* typos are not counted */
    json_decref(v);
    v = search(s, "thrsh metl", 5);
    assert_result(json_object_get(v, "results"), 0, "genre", "thrash-metal");
    json_decref(v);
    v = search(s, "rok", 5);
    assert_int_equal(json_array_size(json_object_get(v, "results")), 0);
    json_decref(v);
    /* "metal": the genre itself, then the word matches, the one with bands first. */
    v = search(s, "metal", 5);
    json_t *r = json_object_get(v, "results");
    assert_result(r, 0, "genre", "metal");
    assert_result(r, 1, "genre", "thrash-metal");
    assert_result(r, 2, "genre", "kawaii-metal");
    assert_int_equal(json_integer_value(json_object_get(v, "total")), 3);
    json_decref(v);
    graph_release(s);
}

static void test_search_empty_or_unmatched_query_gives_no_results(void **state)
{
    (void)state;
    dataset d;
    search_dataset(&d);
    graph_snapshot *s = build(&d, 1);
    const char *queries[] = {"", "   ", "zzz", "!?!", "\xff\xfe"};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        buf out = BUF_INIT;
        graph_search(s, queries[i], 10, &out);
        json_error_t jerr;
        json_t *v = json_loadb(out.data, out.len, 0, &jerr);
        assert_non_null(v);
        if (json_array_size(json_object_get(v, "results")) != 0)
            fail_msg("query %zu found something", i);
        json_decref(v);
        buf_free(&out);
    }
    graph_release(s);
}

static void test_search_echoes_a_hostile_query_safely(void **state)
{
    (void)state;
    dataset d;
    search_dataset(&d);
    graph_snapshot *s = build(&d, 1);
    buf out = BUF_INIT;
    graph_search(s, "</script>\"\\", 5, &out);
    assert_null(strstr(buf_cstr(&out), "</script>"));
    json_error_t jerr;
    json_t *v = json_loads(buf_cstr(&out), 0, &jerr);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "query")), "</script>\"\\");
    json_decref(v);
    buf_free(&out);
    graph_release(s);
}

/* ---------------------------------------------------------------- exploration */

/* ---------------------------------------------------------------- aliases and former ids */

static void test_search_finds_aliases_once_per_entry(void **state)
{
    (void)state;
    dataset d;
    memset(&d, 0, sizeof d);
    genre *hh = add_genre(&d, "hip-hop", "Hip hop", GENRE_ROOT, "");
    set_list(&hh->aliases, &hh->naliases, "hip-hop,hiphop,rap");
    add_genre(&d, "rap-rock", "Rap rock", GENRE_ROOT, "");
    band *acdc = add_band(&d, "ac-dc", "AC/DC", "rap-rock");
    set_list(&acdc->aliases, &acdc->naliases, "acdc");
    add_band(&d, "rapture", "The Rapture", "rap-rock");
    graph_snapshot *s = build(&d, 1);

    /* An exact alias ranks like an exact name: before prefixes and words of
     * other names; the result says which alias matched. */
    json_t *v = search(s, "rap", 10);
    json_t *r = json_object_get(v, "results");
    assert_int_equal(json_array_size(r), 3);
    assert_result(r, 0, "genre", "hip-hop");
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "name")), "Hip hop");
    const char *alias = json_string_value(json_object_get(json_array_get(r, 0), "alias"));
    assert_non_null(alias);
    assert_string_equal(alias, "rap");
    assert_result(r, 1, "genre", "rap-rock");
    assert_result(r, 2, "band", "rapture");
    assert_int_equal(json_integer_value(json_object_get(v, "total")), 3);
    json_decref(v);

    /* "hiphop" equals the name once spacing is ignored, and two aliases: one
     * result, by its name (no "alias"), counted once. */
    v = search(s, "hiphop", 10);
    r = json_object_get(v, "results");
    assert_int_equal(json_array_size(r), 1);
    assert_result(r, 0, "genre", "hip-hop");
    assert_null(json_object_get(json_array_get(r, 0), "alias"));
    assert_int_equal(json_integer_value(json_object_get(v, "total")), 1);
    json_decref(v);

    v = search(s, "ACDC", 10);
    r = json_object_get(v, "results");
    assert_int_equal(json_array_size(r), 1);
    assert_result(r, 0, "band", "ac-dc");
    json_decref(v);
    graph_release(s);
}

/* A band found by an alias and by its name, equally well, ranks by its name
 * (the result shows the name): "The Isley Brothers" comes before "The
 * Chemical Brothers" for "roth", although the alias "Chemical Brothers" is
 * shorter than both — and so a limit of 2 gives the first results of a limit
 * of 50, whatever order the keys are scanned in. */
static void test_search_shorter_limits_give_the_first_results(void **state)
{
    (void)state;
    dataset d;
    memset(&d, 0, sizeof d);
    add_genre(&d, "big-beat", "Big beat", GENRE_ROOT, "");
    band *chem = add_band(&d, "the-chemical-brothers", "The Chemical Brothers", "big-beat");
    set_list(&chem->aliases, &chem->naliases, "Chemical Brothers,The Dust Brothers");
    add_band(&d, "the-isley-brothers", "The Isley Brothers", "big-beat");
    add_band(&d, "bro-safari", "Bro Safari", "big-beat");
    band *bros = add_band(&d, "bros", "Bros", "big-beat");
    set_list(&bros->aliases, &bros->naliases, "Brothers");
    graph_snapshot *s = build(&d, 1);

    /* Bros is found by its alias "Brothers" only (shortest, so first); The
     * Chemical Brothers by its name too, which it ranks by. */
    json_t *v = search(s, "roth", 2);
    json_t *r = json_object_get(v, "results");
    assert_int_equal(json_array_size(r), 2);
    assert_result(r, 0, "band", "bros");
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "alias")), "Brothers");
    assert_result(r, 1, "band", "the-isley-brothers");
    json_decref(v);

    const char *queries[] = {"roth", "brothers", "chem", "bro", "brothrs", "the", "dust"};
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        json_t *all = search(s, queries[i], 50);
        json_t *all_results = json_object_get(all, "results");
        for (size_t limit = 1; limit <= json_array_size(all_results); limit++) {
            json_t *some = search(s, queries[i], limit);
            json_t *some_results = json_object_get(some, "results");
            assert_int_equal(json_array_size(some_results), limit);
            for (size_t k = 0; k < limit; k++)
                if (!json_equal(json_array_get(some_results, k), json_array_get(all_results, k)))
                    fail_msg("\"%s\" with limit %zu: result %zu is not the limit-50 one", queries[i], limit, k);
            assert_int_equal(json_integer_value(json_object_get(some, "total")),
                             json_integer_value(json_object_get(all, "total")));
            json_decref(some);
        }
        json_decref(all);
    }
    graph_release(s);
}

static void test_former_ids_resolve_and_documents_carry_the_new_fields(void **state)
{
    (void)state;
    dataset d;
    memset(&d, 0, sizeof d);
    genre *r = add_genre(&d, "rock", "Rock", GENRE_ROOT, "");
    set_list(&r->former_ids, &r->nformer_ids, "rock-music,rocknroll");
    set_str(&r->region, "United States");
    set_list(&r->defining, &r->ndefining, "baris-manco");
    band *b = add_band(&d, "baris-manco", "Bar\xc4\xb1\xc5\x9f Man\xc3\xa7o", "rock");
    set_list(&b->former_ids, &b->nformer_ids, "bar-s-manco");
    b->country = strdup("TR");
    b->active_from = 1963;
    b->type = BAND_PERSON;
    graph_snapshot *s = build(&d, 1);
    size_t i;
    assert_true(graph_find_former_genre(s, "rocknroll", &i));
    assert_string_equal(graph_dataset(s)->genres[i].id, "rock");
    assert_true(graph_find_former_band(s, "bar-s-manco", &i));
    assert_string_equal(graph_dataset(s)->bands[i].id, "baris-manco");
    assert_false(graph_find_former_band(s, "rock-music", &i)); /* genres and bands apart */
    assert_false(graph_find_former_genre(s, "rock", &i));      /* a current id is not a former one */

    json_t *g = genre_doc(s, "rock");
    assert_string_equal(json_string_value(json_object_get(g, "region")), "United States");
    assert_int_equal(json_array_size(json_object_get(g, "former_ids")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(g, "defining"), 0)), "baris-manco");
    json_decref(g);
    json_t *bd = parse_blob(graph_doc_band(s, 0));
    assert_string_equal(json_string_value(json_object_get(bd, "country")), "TR");
    assert_int_equal(json_integer_value(json_object_get(bd, "active_from")), 1963);
    assert_string_equal(json_string_value(json_object_get(bd, "type")), "person");
    assert_string_equal(json_string_value(json_array_get(json_object_get(bd, "former_ids"), 0)), "bar-s-manco");
    json_decref(bd);
    /* The graph document has the cheap fields and leaves the aliases to the details. */
    json_t *graph = parse_blob(graph_doc_graph(s));
    json_t *gb = json_array_get(json_object_get(graph, "bands"), 0);
    assert_string_equal(json_string_value(json_object_get(gb, "country")), "TR");
    assert_string_equal(json_string_value(json_object_get(gb, "type")), "person");
    assert_null(json_object_get(gb, "former_ids"));
    json_t *gg = json_array_get(json_object_get(graph, "genres"), 0);
    assert_non_null(json_object_get(gg, "defining"));
    assert_null(json_object_get(gg, "aliases"));
    json_decref(graph);
    graph_release(s);
}

static json_t *explore_doc(int rc, buf *out)
{
    assert_int_equal(rc, 0);
    assert_false(buf_failed(out));
    json_error_t jerr;
    json_t *v = json_loadb(out->data, out->len, 0, &jerr);
    if (!v)
        fail_msg("exploration output does not parse: %s", jerr.text);
    buf_free(out);
    return v;
}

static void test_path_follows_parent_links_both_ways(void **state)
{
    (void)state;
    dataset d;
    small_dataset(&d);
    add_genre(&d, "jazz", "Jazz", GENRE_ROOT, "");
    graph_snapshot *s = build(&d, 1);
    buf out = BUF_INIT;
    json_t *v = explore_doc(graph_path(s, "crossover-thrash", "doom-metal", &out), &out);
    assert_true(json_is_true(json_object_get(v, "found")));
    json_t *steps = json_object_get(v, "steps");
    /* up to thrash, heavy, metal, then down to doom: the only shortest way */
    assert_int_equal(json_array_size(steps), 4);
    const char *want[][3] = {{"crossover-thrash", "thrash-metal", "parent"},
                             {"thrash-metal", "heavy-metal", "parent"},
                             {"heavy-metal", "metal", "parent"},
                             {"metal", "doom-metal", "child"}};
    for (size_t i = 0; i < 4; i++) {
        json_t *st = json_array_get(steps, i);
        assert_string_equal(json_string_value(json_object_get(json_object_get(st, "from"), "id")), want[i][0]);
        assert_string_equal(json_string_value(json_object_get(json_object_get(st, "to"), "id")), want[i][1]);
        assert_string_equal(json_string_value(json_object_get(st, "relation")), want[i][2]);
    }
    json_decref(v);

    v = explore_doc(graph_path(s, "rock", "jazz", &out), &out);
    assert_true(json_is_false(json_object_get(v, "found")));
    assert_int_equal(json_array_size(json_object_get(v, "steps")), 0);
    json_decref(v);

    v = explore_doc(graph_path(s, "grunge", "grunge", &out), &out);
    assert_true(json_is_true(json_object_get(v, "found")));
    assert_int_equal(json_array_size(json_object_get(v, "steps")), 0);
    json_decref(v);

    assert_int_equal(graph_path(s, "grunge", "nope", &out), -1);
    assert_int_equal(graph_path(s, "nope", "grunge", &out), -1);
    assert_int_equal(out.len, 0); /* nothing written */
    buf_free(&out);
    graph_release(s);
}

/* Influence links may form cycles (a influenced b influenced c influenced a):
 * the search terminates, takes the shortest way, and names each relation. */
static void test_path_through_influence_cycles(void **state)
{
    (void)state;
    dataset d;
    memset(&d, 0, sizeof d);
    add_genre(&d, "root-a", "Root A", GENRE_ROOT, "");
    add_genre(&d, "root-b", "Root B", GENRE_ROOT, "");
    add_genre(&d, "style-a", "Style A", GENRE_LEAF, "root-a");
    add_genre(&d, "style-b", "Style B", GENRE_LEAF, "root-a");
    add_genre(&d, "style-c", "Style C", GENRE_LEAF, "root-b");
    /* Looked up after the last add: adding may move the array. */
    add_link(dataset_find_genre(&d, "style-a"), "style-b", "influence");
    add_link(dataset_find_genre(&d, "style-b"), "style-c", "influence");
    add_link(dataset_find_genre(&d, "style-c"), "style-a", "influence");
    graph_snapshot *s = build(&d, 1);
    buf out = BUF_INIT;
    json_t *v = explore_doc(graph_path(s, "style-a", "style-c", &out), &out);
    json_t *steps = json_object_get(v, "steps");
    assert_int_equal(json_array_size(steps), 1); /* c influenced a: one step back */
    assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 0), "relation")), "influenced_by");
    json_decref(v);
    v = explore_doc(graph_path(s, "root-a", "root-b", &out), &out);
    steps = json_object_get(v, "steps");
    assert_true(json_is_true(json_object_get(v, "found")));
    assert_int_equal(json_array_size(steps), 3); /* root-a -> style-a|b -> style-c -> root-b */
    assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 0), "relation")), "child");
    assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 2), "relation")), "parent");
    json_decref(v);
    graph_release(s);
}

/* A shared rare genre counts more than a shared broad one. */
static void test_similar_weights_rare_genres_above_broad_ones(void **state)
{
    (void)state;
    dataset d;
    memset(&d, 0, sizeof d);
    add_genre(&d, "root", "Root", GENRE_ROOT, "");
    add_genre(&d, "broad", "Broad", GENRE_LEAF, "root");
    add_genre(&d, "rare", "Rare", GENRE_LEAF, "root");
    add_band(&d, "subject", "Subject", "rare,broad");
    add_band(&d, "rare-mate", "Rare Mate", "rare");
    add_band(&d, "broad-mate", "Broad Mate", "broad");
    char id[32], name[32];
    for (int i = 0; i < 30; i++) {
        snprintf(id, sizeof id, "filler-%d", i);
        snprintf(name, sizeof name, "Filler %d", i);
        add_band(&d, id, name, "broad");
    }
    graph_snapshot *s = build(&d, 1);
    buf out = BUF_INIT;
    json_t *v = explore_doc(graph_similar(s, "subject", 5, &out), &out);
    json_t *r = json_object_get(v, "similar");
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "id")), "rare-mate");
    assert_true(json_number_value(json_object_get(json_array_get(r, 0), "score")) >
                json_number_value(json_object_get(json_array_get(r, 1), "score")));
    assert_ids(json_object_get(json_array_get(r, 0), "shared"), "rare");
    json_decref(v);
    graph_release(s);
}

static void test_related_lists_neighbours_without_itself(void **state)
{
    (void)state;
    graph_snapshot *s = build_small();
    buf out = BUF_INIT;
    json_t *v = explore_doc(graph_related(s, "grunge", 10, &out), &out);
    json_t *r = json_object_get(v, "related");
    assert_true(json_array_size(r) >= 1);
    /* The primary parent ranks first. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "id")), "rock");
    int siblings = 0;
    for (size_t i = 0; i < json_array_size(r); i++) {
        const char *id = json_string_value(json_object_get(json_array_get(r, i), "id"));
        assert_string_not_equal(id, "grunge");
        if (strcmp(id, "zydeco-rock") == 0 || strcmp(id, "arger-rock") == 0 || strcmp(id, "hard-rock") == 0)
            siblings++;
        if (i > 0)
            assert_true(json_number_value(json_object_get(json_array_get(r, i - 1), "score")) >=
                        json_number_value(json_object_get(json_array_get(r, i), "score")));
    }
    assert_int_equal(siblings, 3);
    json_decref(v);

    v = explore_doc(graph_related(s, "grunge", 1, &out), &out);
    assert_int_equal(json_array_size(json_object_get(v, "related")), 1);
    json_decref(v);
    v = explore_doc(graph_related(s, "grunge", 0, &out), &out);
    assert_int_equal(json_array_size(json_object_get(v, "related")), 0);
    json_decref(v);
    assert_int_equal(graph_related(s, "nirvana", 5, &out), -1); /* a band id */
    buf_free(&out);
    graph_release(s);
}

static void test_similar_bands_share_genres(void **state)
{
    (void)state;
    graph_snapshot *s = build_small();
    buf out = BUF_INIT;
    json_t *v = explore_doc(graph_similar(s, "nirvana", 10, &out), &out);
    json_t *r = json_object_get(v, "similar");
    /* Everyone listing grunge, never nirvana itself, never D.R.I. */
    assert_int_equal(json_array_size(r), 3);
    for (size_t i = 0; i < json_array_size(r); i++) {
        json_t *e = json_array_get(r, i);
        const char *id = json_string_value(json_object_get(e, "id"));
        assert_string_not_equal(id, "nirvana");
        assert_string_not_equal(id, "dri");
        assert_ids(json_object_get(e, "shared"), "grunge");
    }
    json_decref(v);
    v = explore_doc(graph_similar(s, "dri", 10, &out), &out);
    assert_int_equal(json_array_size(json_object_get(v, "similar")), 0);
    json_decref(v);
    v = explore_doc(graph_similar(s, "nirvana", 2, &out), &out);
    assert_int_equal(json_array_size(json_object_get(v, "similar")), 2);
    json_decref(v);
    assert_int_equal(graph_similar(s, "grunge", 5, &out), -1); /* a genre id */
    buf_free(&out);
    graph_release(s);
}

/* ---------------------------------------------------------------- publishing */

static int refs(graph_snapshot *s) { return atomic_load(&s->refs); }

static void test_publish_acquire_release_reference_counts(void **state)
{
    (void)state;
    assert_null(graph_acquire()); /* nothing published yet */

    graph_snapshot *first = build_small();
    assert_int_equal(refs(first), 1);
    graph_publish(first); /* takes over the builder's reference */
    assert_int_equal(refs(first), 1);

    graph_snapshot *reader = graph_acquire();
    assert_ptr_equal(reader, first);
    assert_int_equal(refs(first), 2);

    dataset d;
    search_dataset(&d);
    graph_snapshot *second = build(&d, 8);
    graph_publish(second);
    /* The reader that acquired before the publish still holds the old one. */
    assert_int_equal(refs(first), 1);
    assert_int_equal(graph_version(reader), 7);
    json_t *doc = genre_doc(reader, "grunge");
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "Grunge");
    json_decref(doc);

    graph_snapshot *later = graph_acquire();
    assert_ptr_equal(later, second);
    assert_int_equal(graph_version(later), 8);
    assert_int_equal(refs(second), 2);

    graph_retain(later);
    assert_int_equal(refs(second), 3);
    graph_release(later);
    assert_int_equal(refs(second), 2);

    graph_release(reader); /* the last reference: frees the first snapshot */
    graph_release(later);
    assert_int_equal(refs(second), 1);

    graph_publish(NULL); /* drops the published reference: frees the second */
    assert_null(graph_acquire());
    graph_release(NULL); /* harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_acquire_release_reference_counts),
        cmocka_unit_test(test_build_takes_over_the_dataset_and_indexes_it),
        cmocka_unit_test(test_every_node_is_placed_before_the_layout_runs),
        cmocka_unit_test(test_eras_place_genres_by_year_in_family_bands),
        cmocka_unit_test(test_family_of_a_deep_genre_is_its_root_by_primary_parents),
        cmocka_unit_test(test_genre_doc_has_fields_children_and_bands_sorted_by_name),
        cmocka_unit_test(test_list_docs_are_sorted_by_name_and_counted),
        cmocka_unit_test(test_names_with_html_are_escaped_in_documents),
        cmocka_unit_test(test_empty_dataset_builds_empty_documents),
        cmocka_unit_test(test_cycle_that_slipped_past_the_rules_still_builds),
        cmocka_unit_test(test_large_docs_have_gzip_that_inflates_to_the_identity_bytes),
        cmocka_unit_test(test_entity_documents_are_written_once_on_first_request),
        cmocka_unit_test(test_graph_document_gzip_reuses_the_previous_snapshots_pieces),
        cmocka_unit_test(test_etag_is_stable_for_same_data_and_changes_with_it),
        cmocka_unit_test(test_blob_init_and_attached_extra_documents),
        cmocka_unit_test(test_search_ranks_exact_prefix_word_prefix_then_substring),
        cmocka_unit_test(test_search_common_prefix_ranks_like_a_full_scan),
        cmocka_unit_test(test_search_ignores_accents_and_case),
        cmocka_unit_test(test_search_respects_the_limit),
        cmocka_unit_test(test_search_forgives_spacing_punctuation_and_typos),
        cmocka_unit_test(test_search_empty_or_unmatched_query_gives_no_results),
        cmocka_unit_test(test_search_echoes_a_hostile_query_safely),
        cmocka_unit_test(test_search_finds_aliases_once_per_entry),
        cmocka_unit_test(test_search_shorter_limits_give_the_first_results),
        cmocka_unit_test(test_former_ids_resolve_and_documents_carry_the_new_fields),
        cmocka_unit_test(test_path_follows_parent_links_both_ways),
        cmocka_unit_test(test_path_through_influence_cycles),
        cmocka_unit_test(test_similar_weights_rare_genres_above_broad_ones),
        cmocka_unit_test(test_related_lists_neighbours_without_itself),
        cmocka_unit_test(test_similar_bands_share_genres),
    };
    return cmocka_run_group_tests_name("graph", tests, NULL, NULL) ? 1 : 0;
}
