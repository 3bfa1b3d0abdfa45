/*
 * test_domain.c — unit tests of src/domain: the data model, every data rule
 * of DESIGN §5 (rules.h) and the dataset's JSON codec (codec.h).
 *
 * Each rule test starts from a small dataset that passes every rule, breaks
 * exactly one thing and checks that the error names the right entry and
 * field. The codec tests feed documents a curator or an attacker could send
 * (wrong format, wrong JSON types, unknown and duplicate keys, NUL escapes)
 * and check that a written dataset parses back to the same values — the
 * bundled dataset included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include "core/buf.h"
#include "core/embedded.h"
#include "domain/codec.h"
#include "domain/model.h"
#include "domain/rules.h"
#include "ops/seed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

/* A small map that passes every rule. */
static void base_dataset(dataset *d)
{
    memset(d, 0, sizeof *d);
    add_genre(d, "rock", "Rock", GENRE_ROOT, "");
    add_genre(d, "metal", "Metal", GENRE_ROOT, "");
    add_genre(d, "hard-rock", "Hard rock", GENRE_INTERMEDIATE, "rock");
    add_genre(d, "heavy-metal", "Heavy metal", GENRE_INTERMEDIATE, "metal,hard-rock");
    genre *thrash = add_genre(d, "thrash-metal", "Thrash metal", GENRE_LEAF, "heavy-metal");
    add_genre(d, "grunge", "Grunge", GENRE_LEAF, "rock");
    add_genre(d, "nwobhm", "New wave of British heavy metal", GENRE_LEAF, "heavy-metal,hard-rock");
    add_link(thrash, "grunge", "influence");
    thrash->origin_year = 1981;
    set_str(&thrash->description, "Fast.\nAggressive.\tLoud.");
    set_list(&thrash->aliases, &thrash->naliases, "thrash,speed/thrash");
    set_list(&thrash->former_ids, &thrash->nformer_ids, "thrash");
    set_str(&thrash->region, "United States");
    set_list(&thrash->defining, &thrash->ndefining, "metallica,motorhead");
    /* A band of a sub-genre defines its parent too. */
    set_list(&dataset_find_genre(d, "heavy-metal")->defining, &dataset_find_genre(d, "heavy-metal")->ndefining,
             "motorhead");
    band *metallica = add_band(d, "metallica", "Metallica", "thrash-metal");
    metallica->country = strdup("US");
    metallica->active_from = 1981;
    add_band(d, "nirvana", "Nirvana", "grunge");
    band *motorhead = add_band(d, "motorhead", "Mot\xc3\xb6rhead", "nwobhm,thrash-metal");
    set_list(&motorhead->aliases, &motorhead->naliases, "Bastard");
    set_list(&motorhead->former_ids, &motorhead->nformer_ids, "motoerhead");
    motorhead->country = strdup("GB");
    motorhead->active_from = 1975;
}

static int has_error(const domain_errors *e, const char *entry, const char *field, const char *needle)
{
    for (size_t i = 0; i < e->count; i++)
        if ((!entry || strcmp(e->items[i].entry, entry) == 0) && (!field || strcmp(e->items[i].field, field) == 0) &&
            (!needle || strstr(e->items[i].message, needle)))
            return 1;
    return 0;
}

static void print_errors(const domain_errors *e)
{
    for (size_t i = 0; i < e->count; i++)
        print_message("  %s: %s: %s\n", e->items[i].entry, e->items[i].field, e->items[i].message);
}

/* Checks d and expects an error on (entry, field) whose message contains needle. */
static void expect_error(const dataset *d, const char *entry, const char *field, const char *needle)
{
    domain_errors errs = {0};
    size_t n = domain_check_dataset(d, &errs);
    if (n == 0 || !has_error(&errs, entry, field, needle)) {
        print_errors(&errs);
        domain_errors_free(&errs);
        fail_msg("expected an error %s: %s: ...%s...", entry, field, needle ? needle : "");
    }
    assert_int_equal(n, errs.count);
    domain_errors_free(&errs);
}

static void expect_no_errors(const dataset *d)
{
    domain_errors errs = {0};
    size_t n = domain_check_dataset(d, &errs);
    if (n != 0) {
        print_errors(&errs);
        domain_errors_free(&errs);
        fail_msg("expected no errors, got %zu", n);
    }
    domain_errors_free(&errs);
}

static genre *G(dataset *d, const char *id)
{
    genre *g = dataset_find_genre(d, id);
    assert_non_null(g);
    return g;
}

static band *B(dataset *d, const char *id)
{
    band *b = dataset_find_band(d, id);
    assert_non_null(b);
    return b;
}

static void assert_strings_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_string_equal(a[i], b[i]);
}

static void assert_opt_string_equal(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_datasets_equal(const dataset *a, const dataset *b)
{
    assert_int_equal(a->ngenres, b->ngenres);
    assert_int_equal(a->nbands, b->nbands);
    for (size_t i = 0; i < a->ngenres; i++) {
        const genre *x = &a->genres[i], *y = &b->genres[i];
        assert_string_equal(x->id, y->id);
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->type, y->type);
        assert_opt_string_equal(x->parent, y->parent);
        assert_strings_equal(x->parents, x->nparents, y->parents, y->nparents);
        assert_opt_string_equal(x->description, y->description);
        assert_int_equal(x->origin_year, y->origin_year);
        assert_int_equal(x->nlinks, y->nlinks);
        for (size_t j = 0; j < x->nlinks; j++) {
            assert_string_equal(x->links[j].to, y->links[j].to);
            assert_string_equal(x->links[j].kind, y->links[j].kind);
        }
        assert_strings_equal(x->aliases, x->naliases, y->aliases, y->naliases);
        assert_strings_equal(x->former_ids, x->nformer_ids, y->former_ids, y->nformer_ids);
        assert_opt_string_equal(x->region, y->region);
        assert_strings_equal(x->defining, x->ndefining, y->defining, y->ndefining);
    }
    for (size_t i = 0; i < a->nbands; i++) {
        const band *x = &a->bands[i], *y = &b->bands[i];
        assert_string_equal(x->id, y->id);
        assert_string_equal(x->name, y->name);
        assert_string_equal(x->primary_genre, y->primary_genre);
        assert_strings_equal(x->genres, x->ngenres, y->genres, y->ngenres);
        assert_strings_equal(x->aliases, x->naliases, y->aliases, y->naliases);
        assert_strings_equal(x->former_ids, x->nformer_ids, y->former_ids, y->nformer_ids);
        assert_opt_string_equal(x->country, y->country);
        assert_int_equal(x->active_from, y->active_from);
        assert_int_equal(x->type, y->type);
    }
}

static char *slug(const char *name)
{
    static char out[DOMAIN_ID_MAX + 1];
    domain_slugify(name, out, sizeof out);
    return out;
}

static char *repeat(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * n] = '\0';
    return s;
}

/* ---------------------------------------------------------------- model */

static void test_genre_type_names_parse_both_ways(void **state)
{
    (void)state;
    assert_int_equal(genre_type_parse("root"), GENRE_ROOT);
    assert_int_equal(genre_type_parse("intermediate"), GENRE_INTERMEDIATE);
    assert_int_equal(genre_type_parse("leaf"), GENRE_LEAF);
    assert_int_equal(genre_type_parse("Leaf"), GENRE_TYPE_INVALID);
    assert_int_equal(genre_type_parse(""), GENRE_TYPE_INVALID);
    assert_int_equal(genre_type_parse(NULL), GENRE_TYPE_INVALID);
    assert_string_equal(genre_type_name(GENRE_ROOT), "root");
    assert_string_equal(genre_type_name(GENRE_LEAF), "leaf");
    assert_string_equal(genre_type_name(GENRE_TYPE_INVALID), "invalid");
}

static void test_dataset_copy_is_deep_and_equal(void **state)
{
    (void)state;
    dataset d, c;
    base_dataset(&d);
    assert_int_equal(dataset_copy(&c, &d), 0);
    assert_datasets_equal(&d, &c);
    /* Deep: changing the copy leaves the original alone. */
    assert_ptr_not_equal(c.genres[0].id, d.genres[0].id);
    c.genres[0].id[0] = 'X';
    assert_string_equal(d.genres[0].id, "rock");
    assert_non_null(dataset_find_genre(&d, "nwobhm"));
    assert_null(dataset_find_genre(&d, "nope"));
    assert_string_equal(dataset_find_band(&d, "nirvana")->name, "Nirvana");
    assert_null(dataset_find_band(&d, "rock"));
    dataset_free(&c);
    dataset_free(&d);
    assert_int_equal(d.ngenres, 0);
    assert_null(d.genres);
}

static void test_dataset_add_grows_past_many_entries(void **state)
{
    (void)state;
    dataset d = {0};
    for (int i = 0; i < 1000; i++) {
        char id[16];
        snprintf(id, sizeof id, "g%d", i);
        add_genre(&d, id, id, GENRE_ROOT, "");
    }
    assert_int_equal(d.ngenres, 1000);
    assert_string_equal(d.genres[999].id, "g999");
    assert_string_equal(dataset_find_genre(&d, "g512")->name, "g512");
    dataset_free(&d);
}

/* ---------------------------------------------------------------- ids and slugs */

static void test_id_valid_accepts_lowercase_digits_and_dashes(void **state)
{
    (void)state;
    assert_true(domain_id_valid("a"));
    assert_true(domain_id_valid("drum-and-bass"));
    assert_true(domain_id_valid("80s-synth-pop"));
    assert_true(domain_id_valid("-"));
    char *fifty = repeat("a", 50);
    assert_true(domain_id_valid(fifty));
    free(fifty);
}

static void test_id_valid_rejects_other_characters_and_lengths(void **state)
{
    (void)state;
    assert_false(domain_id_valid(NULL));
    assert_false(domain_id_valid(""));
    assert_false(domain_id_valid("Rock"));
    assert_false(domain_id_valid("drum_and_bass"));
    assert_false(domain_id_valid("drum and bass"));
    assert_false(domain_id_valid("ac/dc"));
    assert_false(domain_id_valid("mot\xc3\xb6rhead"));
    assert_false(domain_id_valid("a\n"));
    assert_false(domain_id_valid("../etc"));
    char *long_id = repeat("a", 51);
    assert_false(domain_id_valid(long_id));
    free(long_id);
}

static void test_slugify_derives_ids_from_names(void **state)
{
    (void)state;
    assert_string_equal(slug("Drum and Bass"), "drum-and-bass");
    assert_string_equal(slug("Mot\xc3\xb6rhead"), "motorhead");
    assert_string_equal(slug("  --AC/DC--  "), "ac-dc");
    assert_string_equal(slug("Sigur R\xc3\xb3s"), "sigur-ros");
    assert_string_equal(slug("Hip hop"), "hip-hop");
    assert_string_equal(slug("R&B / Soul"), "r-b-soul");
    assert_string_equal(slug("Blink-182"), "blink-182");
    assert_string_equal(slug("\xc3\x86on Flux \xc3\x9f"), "aeon-flux-ss");
    assert_string_equal(slug("!!!"), "");
    assert_string_equal(slug(""), "");
    assert_string_equal(slug(NULL), "");
    assert_string_equal(slug("\xe6\x9d\xb1\xe4\xba\xac"), ""); /* nothing Latin left */
    assert_true(domain_id_valid(slug("Buzzov\xe2\x80\xa2"
                                     "en")));
}

static void test_slugify_cuts_long_names_at_50_without_trailing_dash(void **state)
{
    (void)state;
    char *name = repeat("a", 49);
    char longer[80];
    snprintf(longer, sizeof longer, "%s bcd", name);
    /* 49 letters, then a dash and a letter would make 51: cut before the dash. */
    assert_string_equal(slug(longer), name);
    free(name);

    char *many = repeat("word ", 30);
    const char *s = slug(many);
    assert_true(strlen(s) <= DOMAIN_ID_MAX);
    assert_true(strlen(s) > 40);
    assert_int_not_equal(s[strlen(s) - 1], '-');
    assert_true(domain_id_valid(s));
    free(many);

    char *sixty = repeat("x", 60);
    assert_int_equal(strlen(slug(sixty)), DOMAIN_ID_MAX);
    free(sixty);

    /* A small output buffer is respected. */
    char small[8];
    domain_slugify("Drum and Bass", small, sizeof small);
    assert_string_equal(small, "drum-an");
    char tiny[6]; /* room for 5: "drum-" would end in a dash, so "drum" */
    domain_slugify("Drum and Bass", tiny, sizeof tiny);
    assert_string_equal(tiny, "drum");
}

/* ---------------------------------------------------------------- dataset rules */

static void test_valid_dataset_has_no_errors(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    expect_no_errors(&d);
    dataset_free(&d);
}

static void test_bundled_dataset_passes_every_rule(void **state)
{
    (void)state;
    size_t files = 0;
    for (const struct embedded_file *f = embedded_dataset; f->name; f++)
        files++;
    assert_true(files >= 21); /* one per root family */
    dataset d;
    char err[4096] = "";
    int rc = seed_load(NULL, &d, err, sizeof err);
    if (rc != 0)
        print_message("%s\n", err);
    assert_int_equal(rc, 0);
    assert_true(d.ngenres > 100);
    assert_true(d.nbands > 100);
    expect_no_errors(&d);
    /* The families were merged: a genre of the first file and one of the last. */
    assert_non_null(dataset_find_genre(&d, "african"));
    assert_non_null(dataset_find_genre(&d, "rock"));
    dataset_free(&d);
}

static void test_genre_id_must_match_pattern_and_length(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    set_str(&G(&d, "grunge")->id, "Grunge");
    expect_error(&d, "genre Grunge", "id", "lowercase");
    set_str(&d.genres[5].id, "");
    expect_error(&d, "genre (no id)", "id", "required");
    set_str(&d.genres[5].id, NULL);
    expect_error(&d, "genre (no id)", "id", "required");
    char *long_id = repeat("g", 51);
    set_str(&d.genres[5].id, long_id);
    expect_error(&d, NULL, "id", "at most 50");
    free(long_id);
    dataset_free(&d);
}

static void test_genre_name_rules(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    genre *g = G(&d, "grunge");

    set_str(&g->name, "");
    expect_error(&d, "genre grunge", "name", "required");
    set_str(&g->name, NULL);
    expect_error(&d, "genre grunge", "name", "required");

    char *s = repeat("n", 100);
    set_str(&g->name, s);
    expect_no_errors(&d);
    free(s);
    s = repeat("n", 101);
    set_str(&g->name, s);
    expect_error(&d, "genre grunge", "name", "at most 100");
    free(s);
    /* The limit counts characters, not bytes: 100 × "ö" is 200 bytes and fine. */
    s = repeat("\xc3\xb6", 100);
    set_str(&g->name, s);
    expect_no_errors(&d);
    free(s);

    set_str(&g->name, "Gr\xffnge");
    expect_error(&d, "genre grunge", "name", "UTF-8");
    set_str(&g->name, "Gr\xc0\xafnge");
    expect_error(&d, "genre grunge", "name", "UTF-8");
    set_str(&g->name, "Grun\x01ge");
    expect_error(&d, "genre grunge", "name", "control");
    set_str(&g->name, "Grun\nge");
    expect_error(&d, "genre grunge", "name", "control");
    set_str(&g->name, "Grunge\x7f");
    expect_error(&d, "genre grunge", "name", "control");
    set_str(&g->name, "Grunge\xc2\x85");
    expect_error(&d, "genre grunge", "name", "control");
    set_str(&g->name, "<script>alert(1)</script> & \"quotes\"");
    expect_no_errors(&d); /* odd but legal: escaping is the writers' job */
    dataset_free(&d);
}

static void test_genre_description_and_origin_year_rules(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    genre *g = G(&d, "grunge");
    set_str(&g->description, "Line one.\nLine two.\tTabbed.");
    expect_no_errors(&d);
    set_str(&g->description, "Bell\x07");
    expect_error(&d, "genre grunge", "description", "control");
    set_str(&g->description, "Bad \xed\xa0\x80 surrogate");
    expect_error(&d, "genre grunge", "description", "UTF-8");
    char *s = repeat("d", 2001);
    set_str(&g->description, s);
    expect_error(&d, "genre grunge", "description", "at most 2000");
    free(s);
    set_str(&g->description, NULL);

    char between[64];
    snprintf(between, sizeof between, "between %d and %d", DOMAIN_YEAR_MIN, DOMAIN_YEAR_MAX);
    g->origin_year = DOMAIN_YEAR_MIN - 1;
    if (g->origin_year != 0) /* 0 means unknown, so a minimum of 1 has no year below it */
        expect_error(&d, "genre grunge", "origin_year", between);
    g->origin_year = -5;
    expect_error(&d, "genre grunge", "origin_year", between);
    g->origin_year = DOMAIN_YEAR_MAX + 1;
    expect_error(&d, "genre grunge", "origin_year", between);
    g->origin_year = DOMAIN_YEAR_MIN;
    expect_no_errors(&d);
    g->origin_year = DOMAIN_YEAR_MAX;
    expect_no_errors(&d);
    g->origin_year = 0; /* unknown */
    expect_no_errors(&d);
    dataset_free(&d);
}

static void test_genre_type_must_be_known(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    G(&d, "grunge")->type = GENRE_TYPE_INVALID;
    expect_error(&d, "genre grunge", "type", "root, intermediate or leaf");
    dataset_free(&d);
}

static void test_root_genre_has_no_parents(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    genre *g = G(&d, "grunge");
    g->type = GENRE_ROOT; /* still has parent "rock" */
    expect_error(&d, "genre grunge", "parents", "root genre has no parents");
    /* A primary parent alone (without parents) is just as wrong. */
    genre *m = G(&d, "metal");
    set_str(&m->parent, "rock");
    expect_error(&d, "genre metal", "parents", "root genre has no parents");
    dataset_free(&d);
}

static void test_non_root_genre_needs_a_parent(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    add_genre(&d, "orphan", "Orphan", GENRE_LEAF, "");
    expect_error(&d, "genre orphan", "parents", "at least one parent");
    expect_error(&d, "genre orphan", "parent", "primary parent is required");
    dataset_free(&d);
}

static void test_primary_parent_must_be_among_parents(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    genre *g = G(&d, "nwobhm");
    set_str(&g->parent, "rock"); /* parents are heavy-metal, hard-rock */
    expect_error(&d, "genre nwobhm", "parent", "must be one of the parents");
    set_str(&g->parent, "hard-rock"); /* the second one is fine */
    expect_no_errors(&d);
    set_str(&g->parent, NULL);
    expect_error(&d, "genre nwobhm", "parent", "required");
    dataset_free(&d);
}

static void test_parents_must_exist_and_be_valid_ids(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    genre *g = G(&d, "grunge");
    set_str(&g->parents[0], "alt-rock");
    set_str(&g->parent, "alt-rock");
    expect_error(&d, "genre grunge", "parents", "the parent 'alt-rock' does not exist");
    set_str(&g->parents[0], "Alt Rock");
    set_str(&g->parent, "Alt Rock");
    expect_error(&d, "genre grunge", "parents", "not a valid genre id");
    dataset_free(&d);
}

static void test_parent_listed_twice_is_rejected(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    genre *g = G(&d, "grunge");
    g->parents = realloc(g->parents, 2 * sizeof *g->parents);
    g->parents[1] = strdup("rock");
    g->nparents = 2;
    expect_error(&d, "genre grunge", "parents", "'rock' is listed twice");
    dataset_free(&d);
}

static void test_self_parent_is_rejected(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    add_genre(&d, "loop", "Loop", GENRE_INTERMEDIATE, "loop");
    expect_error(&d, "genre loop", "parents", "cannot be its own parent");
    dataset_free(&d);
}

static void test_two_cycle_through_secondary_parent_is_rejected(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    /* x's primary parent is a root, but its second parent closes a loop. */
    add_genre(&d, "x", "X", GENRE_INTERMEDIATE, "rock,y");
    add_genre(&d, "y", "Y", GENRE_INTERMEDIATE, "x");
    expect_error(&d, NULL, "parents", "cycle");
    dataset_free(&d);
}

static void test_three_cycle_is_rejected_and_named(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    add_genre(&d, "a", "A", GENRE_INTERMEDIATE, "c");
    add_genre(&d, "b", "B", GENRE_INTERMEDIATE, "a");
    add_genre(&d, "c", "C", GENRE_INTERMEDIATE, "b");
    domain_errors errs = {0};
    assert_int_equal(domain_check_dataset(&d, &errs), 1);
    assert_string_equal(errs.items[0].field, "parents");
    const char *m = errs.items[0].message;
    assert_non_null(strstr(m, "cycle"));
    /* The message walks the loop so a curator sees which link to remove. */
    assert_true(strstr(m, "a -> c -> b -> a") || strstr(m, "b -> a -> c -> b") || strstr(m, "c -> b -> a -> c"));
    char first[300];
    domain_errors_first(&errs, first, sizeof first);
    assert_non_null(strstr(first, ": parents: the parent links form a cycle"));
    domain_errors_free(&errs);
    dataset_free(&d);
}

static void add_chain(dataset *d, size_t n)
{
    char id[32], parent[32];
    add_genre(d, "chain-0", "Chain 0", GENRE_ROOT, "");
    for (size_t i = 1; i < n; i++) {
        snprintf(id, sizeof id, "chain-%zu", i);
        snprintf(parent, sizeof parent, "chain-%zu", i - 1);
        add_genre(d, id, id, GENRE_INTERMEDIATE, parent);
    }
}

static void test_long_chain_without_cycle_is_accepted(void **state)
{
    (void)state;
    /* Deep enough to overflow a recursive search's stack. */
    dataset d = {0};
    add_chain(&d, 200000);
    expect_no_errors(&d);
    dataset_free(&d);
}

static void test_long_chain_closed_into_a_cycle_is_rejected(void **state)
{
    (void)state;
    dataset d = {0};
    add_chain(&d, 50000);
    /* chain-1 also gets the last link as a parent: a cycle 49998 long. */
    genre *g = &d.genres[1];
    g->parents = realloc(g->parents, 2 * sizeof *g->parents);
    g->parents[1] = strdup("chain-49999");
    g->nparents = 2;
    domain_errors errs = {0};
    assert_int_equal(domain_check_dataset(&d, &errs), 1);
    assert_non_null(strstr(errs.items[0].message, "cycle"));
    domain_errors_free(&errs);
    dataset_free(&d);
}

static void test_duplicate_ids_are_rejected(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    add_genre(&d, "grunge", "Grunge again", GENRE_LEAF, "rock");
    expect_error(&d, "genre grunge", "id", "used by another genre");
    dataset_free(&d);

    base_dataset(&d);
    add_band(&d, "nirvana", "Nirvana again", "grunge");
    expect_error(&d, "band nirvana", "id", "used by another band");
    dataset_free(&d);

    /* A genre and a band may share an id: they live in different namespaces. */
    base_dataset(&d);
    add_band(&d, "grunge", "Grunge (the band)", "grunge");
    expect_no_errors(&d);
    dataset_free(&d);
}

static void test_links_must_be_influences_to_existing_other_genres(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    genre *g = G(&d, "grunge");
    add_link(g, "nowhere", "influence");
    expect_error(&d, "genre grunge", "links", "'nowhere' does not exist");
    dataset_free(&d);

    base_dataset(&d);
    add_link(G(&d, "grunge"), "grunge", "influence");
    expect_error(&d, "genre grunge", "links", "cannot influence itself");
    dataset_free(&d);

    base_dataset(&d);
    add_link(G(&d, "grunge"), "rock", "sampled");
    expect_error(&d, "genre grunge", "links", "must be 'influence'");
    dataset_free(&d);

    base_dataset(&d);
    add_link(G(&d, "grunge"), "rock", "influence");
    add_link(G(&d, "grunge"), "rock", "influence");
    expect_error(&d, "genre grunge", "links", "listed twice");
    dataset_free(&d);

    base_dataset(&d);
    add_link(G(&d, "grunge"), NULL, "influence");
    expect_error(&d, "genre grunge", "links", "not a valid genre id");
    dataset_free(&d);
}

static void test_band_needs_at_least_one_genre(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    add_band(&d, "nobody", "Nobody", "");
    expect_error(&d, "band nobody", "genres", "at least one genre");
    expect_error(&d, "band nobody", "primary_genre", "required");
    dataset_free(&d);
}

static void test_band_primary_genre_must_exist(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    add_band(&d, "ghost", "Ghost", "ghost-rock");
    expect_error(&d, "band ghost", "genres", "the genre 'ghost-rock' does not exist");
    dataset_free(&d);
}

static void test_band_primary_genre_must_be_a_leaf(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    add_band(&d, "ac-dc", "AC/DC", "hard-rock");
    expect_error(&d, "band ac-dc", "primary_genre", "must be a leaf genre, not intermediate");
    dataset_free(&d);

    base_dataset(&d);
    add_band(&d, "ac-dc", "AC/DC", "rock");
    expect_error(&d, "band ac-dc", "primary_genre", "not root");
    dataset_free(&d);

    /* Non-primary genres may be of any type. */
    base_dataset(&d);
    add_band(&d, "ac-dc", "AC/DC", "grunge,hard-rock,rock");
    expect_no_errors(&d);
    dataset_free(&d);
}

static void test_band_primary_genre_must_be_among_its_genres(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    set_str(&B(&d, "nirvana")->primary_genre, "thrash-metal");
    expect_error(&d, "band nirvana", "primary_genre", "must be one of the band's genres");
    dataset_free(&d);
}

static void test_band_field_rules(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    band *b = B(&d, "nirvana");
    set_str(&b->name, "");
    expect_error(&d, "band nirvana", "name", "required");
    set_str(&b->name, "Nir\tvana");
    expect_error(&d, "band nirvana", "name", "control");
    set_str(&b->name, "Nirvana");
    set_str(&b->id, "Nirvana!");
    expect_error(&d, "band Nirvana!", "id", "lowercase");
    dataset_free(&d);

    base_dataset(&d);
    b = B(&d, "motorhead");
    set_str(&b->genres[1], "nwobhm");
    expect_error(&d, "band motorhead", "genres", "'nwobhm' is listed twice");
    set_str(&b->genres[1], "Thrash");
    expect_error(&d, "band motorhead", "genres", "not a valid genre id");
    dataset_free(&d);
}

static void test_single_entity_checks_report_field_errors(void **state)
{
    (void)state;
    genre g = {0};
    domain_errors errs = {0};
    domain_check_genre(&g, &errs);
    assert_true(has_error(&errs, "genre (no id)", "id", "required"));
    assert_true(has_error(&errs, "genre (no id)", "name", "required"));
    domain_errors_free(&errs);

    band b = {0};
    domain_check_band(&b, &errs);
    assert_true(has_error(&errs, "band (no id)", "genres", "at least one genre"));
    domain_errors_free(&errs);
}

static void test_delete_blockers_name_primary_children_and_bands(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    const char **genres, **bands;
    size_t ng, nb;

    assert_int_equal(domain_genre_delete_blockers(&d, "heavy-metal", &genres, &ng, &bands, &nb), 0);
    assert_int_equal(ng, 2);
    assert_string_equal(genres[0], "thrash-metal");
    assert_string_equal(genres[1], "nwobhm");
    assert_int_equal(nb, 0);
    free(genres), free(bands);

    /* Being a secondary parent does not block: hard-rock is only that for two genres. */
    assert_int_equal(domain_genre_delete_blockers(&d, "hard-rock", &genres, &ng, &bands, &nb), 0);
    assert_int_equal(ng, 0);
    assert_int_equal(nb, 0);
    free(genres), free(bands);

    assert_int_equal(domain_genre_delete_blockers(&d, "thrash-metal", &genres, &ng, &bands, &nb), 0);
    assert_int_equal(ng, 0);
    assert_int_equal(nb, 1); /* motorhead lists it, but only metallica has it as primary */
    assert_string_equal(bands[0], "metallica");
    free(genres), free(bands);

    assert_int_equal(domain_genre_delete_blockers(&d, "grunge", &genres, &ng, &bands, &nb), 0);
    assert_int_equal(nb, 1);
    assert_string_equal(bands[0], "nirvana");
    free(genres), free(bands);
    dataset_free(&d);
}

static void test_errors_first_formats_entry_field_message(void **state)
{
    (void)state;
    domain_errors errs = {0};
    char out[64];
    domain_errors_first(&errs, out, sizeof out);
    assert_string_equal(out, "");
    domain_errors_add(&errs, "band x", "name", "is %s", "required");
    domain_errors_add(&errs, "band y", "id", "second");
    domain_errors_first(&errs, out, sizeof out);
    assert_string_equal(out, "band x: name: is required");
    assert_int_equal(errs.count, 2);
    /* Many errors grow the list, up to its bound; the rest are counted. */
    for (int i = 0; i < 100; i++)
        domain_errors_add(&errs, NULL, NULL, "%d", i);
    assert_int_equal(errs.count, DOMAIN_ERRORS_MAX);
    assert_int_equal(errs.dropped, 102 - DOMAIN_ERRORS_MAX);
    assert_true(domain_errors_full(&errs));
    assert_string_equal(errs.items[DOMAIN_ERRORS_MAX - 1].message, "97");
    assert_string_equal(errs.items[DOMAIN_ERRORS_MAX - 1].entry, "");
    domain_errors_free(&errs);
}

/* 100,000 ids in one list: one error saying so, not one per id (nor a check
 * of every pair of them), and the map check does not list them either. */
static void test_a_huge_id_list_is_one_error(void **state)
{
    (void)state;
    dataset d;
    memset(&d, 0, sizeof d);
    add_genre(&d, "metal", "Metal", GENRE_ROOT, "");
    genre *g = add_genre(&d, "huge", "Huge", GENRE_LEAF, "metal");
    band *b = add_band(&d, "many", "Many", "huge");
    const size_t n = 100000;
    g->parents = realloc(g->parents, n * sizeof *g->parents);
    b->genres = realloc(b->genres, n * sizeof *b->genres);
    for (size_t i = 1; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "missing-%zu", i);
        g->parents[i] = strdup(id);
        b->genres[i] = strdup(i % 2 ? id : "huge"); /* duplicates too */
    }
    g->nparents = b->ngenres = n;
    domain_errors errs = {0};
    domain_check_dataset(&d, &errs);
    int parents = 0, genres = 0;
    for (size_t i = 0; i < errs.count; i++) {
        if (strcmp(errs.items[i].field, "parents") == 0) {
            parents++;
            assert_string_equal(errs.items[i].message, "lists 100000 ids; at most 100 are allowed");
        }
        genres += strcmp(errs.items[i].field, "genres") == 0;
    }
    assert_int_equal(parents, 1);
    assert_int_equal(genres, 1);
    assert_int_equal(errs.dropped, 0);
    domain_errors_free(&errs);
    dataset_free(&d);
}

/* ---------------------------------------------------------------- codec: reading */

static const char *const valid_doc =
    "{\"format\":\"musicgraph-dataset\",\"format_version\":1,"
    "\"genres\":["
    "{\"id\":\"rock\",\"name\":\"Rock\",\"type\":\"root\",\"parent\":null,\"parents\":[],\"description\":null,"
    "\"origin_year\":1950,\"links\":[]},"
    "{\"id\":\"metal\",\"name\":\"Metal\",\"type\":\"root\"},"
    "{\"id\":\"grunge\",\"name\":\"Grunge \\u00e9 \\\"q\\\" <b>\",\"type\":\"leaf\",\"parents\":[\"rock\"],"
    "\"description\":\"Seattle.\\nLoud.\",\"origin_year\":null,"
    "\"links\":[{\"to\":\"metal\"},{\"to\":\"rock\",\"kind\":\"influence\"}]},"
    "{\"id\":\"nu-metal\",\"name\":\"Nu "
    "metal\",\"type\":\"leaf\",\"parent\":\"metal\",\"parents\":[\"rock\",\"metal\"]}"
    "],"
    "\"bands\":["
    "{\"id\":\"nirvana\",\"name\":\"Nirvana\",\"primary_genre\":\"grunge\",\"genres\":[\"grunge\",\"rock\"]}"
    "]}";

static int parse(const char *json, dataset *d, domain_errors *errs)
{
    return codec_parse_dataset(json, strlen(json), d, errs);
}

/* Expects json to be refused with an error on (entry, field) mentioning needle. */
static void expect_parse_error(const char *json, const char *entry, const char *field, const char *needle)
{
    dataset d;
    domain_errors errs = {0};
    int rc = parse(json, &d, &errs);
    if (rc != -1 || !has_error(&errs, entry, field, needle)) {
        print_errors(&errs);
        domain_errors_free(&errs);
        dataset_free(&d);
        fail_msg("expected parse error %s: %s: ...%s... for %s", entry ? entry : "*", field ? field : "*",
                 needle ? needle : "", json);
    }
    /* Nothing is handed out on failure. */
    assert_int_equal(d.ngenres, 0);
    assert_int_equal(d.nbands, 0);
    assert_null(d.genres);
    domain_errors_free(&errs);
}

/* A document with one genre object (text inserted) after a valid root. */
static void expect_genre_error(const char *genre_json, const char *field, const char *needle)
{
    char doc[2048];
    snprintf(doc, sizeof doc,
             "{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":["
             "{\"id\":\"rock\",\"name\":\"Rock\",\"type\":\"root\"},%s],\"bands\":[]}",
             genre_json);
    expect_parse_error(doc, NULL, field, needle);
}

static void expect_band_error(const char *band_json, const char *field, const char *needle)
{
    char doc[2048];
    snprintf(doc, sizeof doc,
             "{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":["
             "{\"id\":\"rock\",\"name\":\"Rock\",\"type\":\"root\"}],\"bands\":[%s]}",
             band_json);
    expect_parse_error(doc, NULL, field, needle);
}

static void test_codec_parses_a_valid_document(void **state)
{
    (void)state;
    dataset d;
    domain_errors errs = {0};
    assert_int_equal(parse(valid_doc, &d, &errs), 0);
    assert_int_equal(errs.count, 0);
    assert_int_equal(d.ngenres, 4);
    assert_int_equal(d.nbands, 1);

    genre *rock = &d.genres[0];
    assert_string_equal(rock->id, "rock");
    assert_int_equal(rock->type, GENRE_ROOT);
    assert_null(rock->parent);
    assert_int_equal(rock->nparents, 0);
    assert_null(rock->description);
    assert_int_equal(rock->origin_year, 1950);

    genre *grunge = &d.genres[2];
    assert_string_equal(grunge->name, "Grunge \xc3\xa9 \"q\" <b>");
    assert_int_equal(grunge->type, GENRE_LEAF);
    assert_string_equal(grunge->parent, "rock"); /* inferred from the only parent */
    assert_string_equal(grunge->description, "Seattle.\nLoud.");
    assert_int_equal(grunge->origin_year, 0);
    assert_int_equal(grunge->nlinks, 2);
    assert_string_equal(grunge->links[0].to, "metal");
    assert_string_equal(grunge->links[0].kind, "influence"); /* default kind */
    assert_string_equal(grunge->links[1].to, "rock");

    genre *nu = &d.genres[3];
    assert_string_equal(nu->parent, "metal"); /* explicit primary kept */
    assert_int_equal(nu->nparents, 2);
    assert_string_equal(nu->parents[0], "rock");
    assert_string_equal(nu->parents[1], "metal");

    band *b = &d.bands[0];
    assert_string_equal(b->id, "nirvana");
    assert_string_equal(b->primary_genre, "grunge");
    assert_int_equal(b->ngenres, 2);
    assert_string_equal(b->genres[1], "rock");

    expect_no_errors(&d);
    dataset_free(&d);
}

static void test_codec_bands_may_be_omitted(void **state)
{
    (void)state;
    dataset d;
    domain_errors errs = {0};
    assert_int_equal(parse("{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":[]}", &d, &errs), 0);
    assert_int_equal(d.ngenres, 0);
    assert_int_equal(d.nbands, 0);
    dataset_free(&d);
    domain_errors_free(&errs);
}

static void test_codec_rejects_invalid_json_with_position(void **state)
{
    (void)state;
    expect_parse_error("{\"format\":", "dataset", "", "invalid JSON at line 1");
    expect_parse_error("", "dataset", "", "invalid JSON");
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":[]} trailing", "dataset", "",
                       "invalid JSON");
    expect_parse_error("{\"a\":\"\xff\"}", "dataset", "", "invalid JSON"); /* invalid UTF-8 */
}

static void test_codec_rejects_wrong_format_and_version(void **state)
{
    (void)state;
    expect_parse_error("[]", "dataset", "", "must be a JSON object");
    expect_parse_error("\"musicgraph-dataset\"", "dataset", "", NULL);
    expect_parse_error("{\"format\":\"other\",\"format_version\":1,\"genres\":[]}", "dataset", "format",
                       "musicgraph-dataset");
    expect_parse_error("{\"format_version\":1,\"genres\":[]}", "dataset", "format", NULL);
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":4,\"genres\":[]}", "dataset",
                       "format_version", "must be 1 to 3");
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":0,\"genres\":[]}", "dataset",
                       "format_version", "must be 1 to 3");
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":2,\"family\":3,\"genres\":[]}", "dataset",
                       "family", "root genre");
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":\"1\",\"genres\":[]}", "dataset",
                       "format_version", NULL);
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":1.0,\"genres\":[]}", "dataset",
                       "format_version", NULL);
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"genres\":[]}", "dataset", "format_version", NULL);
}

static void test_codec_rejects_wrong_top_level_types(void **state)
{
    (void)state;
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":1}", "dataset", "genres", "arrays");
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":{}}", "dataset", "genres",
                       "arrays");
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":[],\"bands\":{}}", "dataset",
                       "genres", "arrays");
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":[1]}", "genre #1", "",
                       "must be a JSON object");
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":[],\"bands\":[null]}",
                       "band #1", "", "must be a JSON object");
}

static void test_codec_rejects_unknown_top_level_keys(void **state)
{
    (void)state;
    /* A typo must not silently drop every band of an import. */
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":[],\"Bands\":[]}", "dataset",
                       "Bands", "not a known field");
}

static void test_codec_rejects_wrong_field_types(void **state)
{
    (void)state;
    expect_genre_error("{\"id\":\"g\",\"name\":5,\"type\":\"leaf\",\"parents\":[\"rock\"]}", "name",
                       "must be a string");
    expect_genre_error("{\"id\":7,\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"]}", "id", "must be a string");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":\"rock\"}", "parents",
                       "array of ids");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\",1]}", "parents",
                       "array of ids");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[[\"rock\"]]}", "parents",
                       "array of ids");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":true,\"parents\":[\"rock\"]}", "type",
                       "must be a string");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"parents\":[\"rock\"]}", "type", "is required");
    expect_genre_error(
        "{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"],\"origin_year\":\"1990\"}",
        "origin_year", "whole number");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"],\"origin_year\":1990.5}",
                       "origin_year", "whole number");
    expect_genre_error(
        "{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"],\"origin_year\":99999999999}",
        "origin_year", "whole number");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"],\"origin_year\":0}",
                       "origin_year", "between");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"],\"description\":[]}",
                       "description", "must be a string");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"],\"links\":{}}", "links",
                       "array");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"],\"links\":[\"rock\"]}",
                       "links", "array");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"],\"links\":[{\"to\":1}]}",
                       "to", "must be a string");
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"],"
                       "\"links\":[{\"to\":\"rock\",\"kind\":\"influence\"},{\"to\":\"rock\",\"weight\":3}]}",
                       "weight", "not a known field");
    expect_band_error("{\"id\":\"b\",\"name\":\"B\",\"primary_genre\":[\"rock\"],\"genres\":[\"rock\"]}",
                      "primary_genre", "must be a string");
    expect_band_error("{\"id\":\"b\",\"name\":\"B\",\"primary_genre\":\"rock\",\"genres\":\"rock\"}", "genres",
                      "array of ids");
}

static void test_codec_rejects_unknown_keys_naming_the_entry(void **state)
{
    (void)state;
    expect_genre_error("{\"id\":\"grunge\",\"nmae\":\"Grunge\",\"type\":\"leaf\",\"parents\":[\"rock\"]}", "nmae",
                       "not a known field");
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":["
                       "{\"id\":\"rock\",\"name\":\"Rock\",\"type\":\"root\",\"colour\":\"red\"}]}",
                       "genre rock", "colour", "not a known field");
    expect_band_error("{\"id\":\"b\",\"name\":\"B\",\"primary_genre\":\"rock\",\"genres\":[\"rock\"],\"genre\":\"x\"}",
                      "genre", "not a known field");
    /* Unnamed entries are labelled by position. */
    expect_parse_error(
        "{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":["
        "{\"id\":\"rock\",\"name\":\"Rock\",\"type\":\"root\"},{\"name\":\"X\",\"type\":\"root\",\"z\":1}]}",
        "genre #2", "z", "not a known field");
}

static void test_codec_rejects_duplicate_keys(void **state)
{
    (void)state;
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format\":\"musicgraph-dataset\",\"format_version\":1,"
                       "\"genres\":[]}",
                       "dataset", "", "duplicate");
    expect_parse_error("{\"format\":\"musicgraph-dataset\",\"format_version\":1,\"genres\":["
                       "{\"id\":\"rock\",\"name\":\"Rock\",\"name\":\"Other\",\"type\":\"root\"}]}",
                       "dataset", "", "duplicate");
}

static void test_codec_rejects_nul_characters_in_strings(void **state)
{
    (void)state;
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\\u0000hidden\",\"type\":\"leaf\",\"parents\":[\"rock\"]}", NULL,
                       NULL);
    expect_genre_error("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"ro\\u0000ck\"]}", NULL, NULL);
    expect_band_error("{\"id\":\"b\\u0000\",\"name\":\"B\",\"primary_genre\":\"rock\",\"genres\":[\"rock\"]}", NULL,
                      NULL);
}

static void test_codec_reads_request_shaped_objects(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *obj = json_loads("{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"a\",\"b\"],"
                             "\"children\":[],\"bands\":[],\"family\":\"a\",\"x\":1.5,\"y\":2}",
                             0, &jerr);
    assert_non_null(obj);
    genre g;
    domain_errors errs = {0};
    assert_int_equal(codec_genre_from_json(obj, &g, "genre g", &errs), 0);
    assert_int_equal(g.nparents, 2);
    assert_null(g.parent); /* two parents: the primary is not guessed */
    genre_clear(&g);
    json_decref(obj);

    obj = json_loads("[1]", 0, &jerr);
    assert_int_equal(codec_band_from_json(obj, &(band){0}, "band x", &errs), -1);
    assert_true(has_error(&errs, "band x", "", "must be a JSON object"));
    json_decref(obj);
    domain_errors_free(&errs);
}

static void test_codec_objects_built_with_nul_strings_are_refused(void **state)
{
    (void)state;
    /* A caller that parsed with JSON_ALLOW_NUL (or built the object) can hand
     * over strings with NUL inside; C strings would silently cut them. */
    json_t *obj = json_object();
    json_object_set_new(obj, "id", json_string("g"));
    json_object_set_new(obj, "name", json_stringn("vis\0ible", 8));
    json_object_set_new(obj, "type", json_string("root"));
    genre g;
    domain_errors errs = {0};
    assert_int_equal(codec_genre_from_json(obj, &g, "genre g", &errs), -1);
    assert_true(has_error(&errs, "genre g", "name", "NUL"));
    genre_clear(&g);
    domain_errors_free(&errs);

    json_object_set_new(obj, "name", json_string("ok"));
    json_t *parents = json_array();
    json_array_append_new(parents, json_stringn("ro\0ck", 5));
    json_object_set_new(obj, "parents", parents);
    assert_int_equal(codec_genre_from_json(obj, &g, "genre g", &errs), -1);
    assert_true(has_error(&errs, "genre g", "parents", "array of ids"));
    genre_clear(&g);
    domain_errors_free(&errs);
    json_decref(obj);
}

/* ---------------------------------------------------------------- codec: writing */

static char *write_dataset(const dataset *d, size_t *len)
{
    buf out = BUF_INIT;
    codec_write_dataset(d, &out);
    assert_false(buf_failed(&out));
    return buf_steal(&out, len);
}

/* Parses json (taken) and asserts it gives d again. */
static void assert_reads_back(const dataset *d, char *json)
{
    dataset back;
    domain_errors errs = {0};
    assert_int_equal(parse(json, &back, &errs), 0);
    assert_datasets_equal(d, &back);
    free(json);
    dataset_free(&back);
    domain_errors_free(&errs);
}

static void test_codec_write_then_parse_gives_the_same_dataset(void **state)
{
    (void)state;
    dataset d, back;
    base_dataset(&d);
    set_str(&G(&d, "grunge")->description, "Quotes \" backslash \\ <script> \xe2\x80\xa8 \xf0\x9f\x8e\xb8");
    set_str(&G(&d, "grunge")->name, "Gr\xc3\xbcnge & <b>co</b>");
    size_t len;
    char *json = write_dataset(&d, &len);
    assert_null(strstr(json, "<script>")); /* the writer escapes '<' */
    domain_errors errs = {0};
    int rc = codec_parse_dataset(json, len, &back, &errs);
    print_errors(&errs);
    assert_int_equal(rc, 0);
    assert_datasets_equal(&d, &back);

    /* Writing again gives the same bytes. */
    size_t len2;
    char *json2 = write_dataset(&back, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(json, json2, len);
    free(json), free(json2);
    dataset_free(&d);
    dataset_free(&back);
}

static void test_codec_round_trips_the_bundled_dataset(void **state)
{
    (void)state;
    dataset d, back;
    domain_errors errs = {0};
    char err[4096];
    assert_int_equal(seed_load(NULL, &d, err, sizeof err), 0);
    size_t len;
    char *json = write_dataset(&d, &len);
    assert_int_equal(codec_parse_dataset(json, len, &back, &errs), 0);
    assert_datasets_equal(&d, &back);
    free(json);
    dataset_free(&d);
    dataset_free(&back);
    domain_errors_free(&errs);
}

static void test_codec_writes_empty_dataset_and_missing_strings(void **state)
{
    (void)state;
    dataset d = {0};
    size_t len;
    char *json = write_dataset(&d, &len);
    json_error_t jerr;
    json_t *v = json_loads(json, 0, &jerr);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "format")), "musicgraph-dataset");
    assert_int_equal(json_integer_value(json_object_get(v, "format_version")), DATASET_FORMAT_VERSION);
    assert_int_equal(json_array_size(json_object_get(v, "genres")), 0);
    assert_int_equal(json_array_size(json_object_get(v, "bands")), 0);
    json_decref(v);
    free(json);

    /* Entries that a parse accepted but the rules would refuse (no id, no
     * name) must still be written as valid JSON, not crash the writer. */
    genre *g = dataset_add_genre(&d);
    g->type = GENRE_LEAF;
    add_link(g, NULL, NULL);
    dataset_add_band(&d);
    json = write_dataset(&d, &len);
    v = json_loads(json, 0, &jerr);
    assert_non_null(v);
    assert_true(json_is_null(json_object_get(json_array_get(json_object_get(v, "genres"), 0), "id")));
    json_decref(v);
    free(json);
    dataset_free(&d);
}

/* ---------------------------------------------------------------- aliases, former ids, origins, defining bands */

static void test_slugify_transliterates_letters_of_every_latin_alphabet(void **state)
{
    (void)state;
    /* The three Turkish names the first slug function got wrong (dotless ı). */
    assert_string_equal(slug("Bar\xc4\xb1\xc5\x9f Man\xc3\xa7o"), "baris-manco");
    assert_string_equal(slug("A\xc5\x9f\xc4\xb1k Veysel"), "asik-veysel");
    assert_string_equal(slug("\xc4\xb0\x62rahim Tatl\xc4\xb1ses"), "ibrahim-tatlises");
    assert_string_equal(slug("Erkin Ko\xc3\xa7\x61y \xc4\x9f"), "erkin-kocay-g");                      /* ç, ğ */
    assert_string_equal(slug("M\xc3\xb8 \xc3\x98ystein"), "mo-oystein");                               /* ø, Ø */
    assert_string_equal(slug("\xc3\x86gir \xc3\xa6"), "aegir-ae");                                     /* Æ, æ */
    assert_string_equal(slug("\xc5\x92uvre \xc5\x93il"), "oeuvre-oeil");                               /* Œ, œ */
    assert_string_equal(slug("Stra\xc3\x9f\x65 \xe1\xba\x9e"), "strasse-ss");                          /* ß, ẞ */
    assert_string_equal(slug("\xc5\x81\xc3\xb3\x64\xc5\xba"), "lodz");                                 /* Łódź */
    assert_string_equal(slug("\xc4\x90or\xc4\x91\x65 Bala\xc5\xa1\x65vi\xc4\x87"), "dorde-balasevic"); /* Đ, đ, š, ć */
    assert_string_equal(slug("\xc3\x9eursaflokkurinn"), "thursaflokkurinn");                           /* Þ */
    assert_string_equal(slug("Sigur\xc3\xb0ur \xc3\x90"), "sigurdur-d");                               /* ð, Ð */
    assert_string_equal(slug("S\xc6\xa1n T\xc3\xb9ng M-TP"), "son-tung-m-tp");               /* Vietnamese ơ */
    assert_string_equal(slug("\xc8\x98tefan B\xc4\x83ni\xc8\x9b\xc4\x83"), "stefan-banita"); /* Romanian ș, ă, ț */
    assert_string_equal(slug("\xc6\x8f\x6c\x69 \xc9\x99"), "eli-e");                         /* Azerbaijani Ə, ə */
    assert_string_equal(slug("\xc4\xa6\x61\xc5\xbc-\xc5\xbb"
                             "ebbu\xc4\xa1"),
                        "haz-zebbug");                                     /* Maltese Ħ, ż, ġ */
    assert_string_equal(slug("\xef\xac\x81nal \xef\xbc\xa1"), "final-a");  /* ﬁ ligature, fullwidth Ａ */
    assert_string_equal(slug("Guns N\xe2\x80\x99 Roses"), "guns-n-roses"); /* curly apostrophe */
    assert_string_equal(slug("Paral\xc2\xb7l\xc3\xa8lia"), "parallelia");  /* Catalan l·l */
}

static void test_alias_rules(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    genre *g = dataset_find_genre(&d, "thrash-metal");
    set_list(&g->aliases, &g->naliases, "thrash,THRASH");
    expect_error(&d, "genre thrash-metal", "aliases", "'THRASH' is listed twice");
    set_list(&g->aliases, &g->naliases, "thrash,Thrash Metal");
    expect_error(&d, "genre thrash-metal", "aliases", "'Thrash Metal' is the name itself");
    set_list(&g->aliases, &g->naliases, "thrash");
    set_str(&g->aliases[0], "tab\there");
    expect_error(&d, "genre thrash-metal", "aliases", "control characters");
    set_str(&g->aliases[0], "");
    expect_error(&d, "genre thrash-metal", "aliases", "required");
    char *long_name = repeat("x", DOMAIN_NAME_MAX + 1);
    set_str(&g->aliases[0], long_name);
    free(long_name);
    expect_error(&d, "genre thrash-metal", "aliases", "at most 100 characters");
    set_list(&g->aliases, &g->naliases, "a1,a2,a3,a4,a5,a6,a7,a8,a9,a10,a11,a12,a13,a14,a15,a16,a17,a18,a19,a20,a21");
    expect_error(&d, "genre thrash-metal", "aliases", "at most 20 aliases");
    dataset_free(&d);

    /* Bands follow the same rules; "AC/DC" and "acdc" are different search keys. */
    base_dataset(&d);
    band *b = add_band(&d, "ac-dc", "AC/DC", "nwobhm");
    set_list(&b->aliases, &b->naliases, "acdc,AC-DC");
    expect_no_errors(&d);
    set_list(&b->aliases, &b->naliases, "acdc,ac/dc");
    expect_error(&d, "band ac-dc", "aliases", "'ac/dc' is the name itself");
    dataset_free(&d);
}

static void test_former_id_rules(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    genre *g = dataset_find_genre(&d, "grunge");
    set_list(&g->former_ids, &g->nformer_ids, "Seattle Sound");
    expect_error(&d, "genre grunge", "former_ids", "not a valid id");
    set_list(&g->former_ids, &g->nformer_ids, "grunge");
    expect_error(&d, "genre grunge", "former_ids", "'grunge' is the current id");
    set_list(&g->former_ids, &g->nformer_ids, "seattle,seattle");
    expect_error(&d, "genre grunge", "former_ids", "'seattle' is listed twice");
    /* A former id must not be a current id of another genre... */
    set_list(&g->former_ids, &g->nformer_ids, "nwobhm");
    expect_error(&d, "genre grunge", "former_ids", "'nwobhm' is the id of another genre");
    /* ...nor another genre's former id (thrash-metal has "thrash"). */
    set_list(&g->former_ids, &g->nformer_ids, "thrash");
    expect_error(&d, "genre grunge", "former_ids", "already a former id of genre thrash-metal");
    /* Genres and bands are separate namespaces: a band's id may be a genre's former id. */
    set_list(&g->former_ids, &g->nformer_ids, "nirvana");
    expect_no_errors(&d);
    dataset_free(&d);

    base_dataset(&d);
    band *b = B(&d, "nirvana");
    set_list(&b->former_ids, &b->nformer_ids, "metallica");
    expect_error(&d, "band nirvana", "former_ids", "'metallica' is the id of another band");
    set_list(&b->former_ids, &b->nformer_ids, "motoerhead");
    expect_error(&d, "band motorhead", "former_ids", "already a former id of band nirvana");
    set_list(&b->former_ids, &b->nformer_ids, "a,b,c,d,e,f,g,h,i,j,k");
    expect_error(&d, "band nirvana", "former_ids", "at most 10");
    dataset_free(&d);
}

static void test_region_country_and_year_rules(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    genre *g = dataset_find_genre(&d, "grunge");
    set_str(&g->region, "Seattle\nWashington");
    expect_error(&d, "genre grunge", "region", "control characters");
    char *long_region = repeat("y", DOMAIN_NAME_MAX + 1);
    set_str(&g->region, long_region);
    free(long_region);
    expect_error(&d, "genre grunge", "region", "at most 100 characters");
    set_str(&g->region, "Seattle, United States");
    expect_no_errors(&d);
    dataset_free(&d);

    base_dataset(&d);
    band *b = B(&d, "nirvana");
    const char *bad[] = {"us", "USA", "U", "ZZ", "UK", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        set_str(&b->country, bad[i]);
        expect_error(&d, "band nirvana", "country", "not an ISO 3166-1 country code");
    }
    const char *good[] = {"US", "GB", "XK", "TR", "ZW", "AD"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        set_str(&b->country, good[i]);
        expect_no_errors(&d);
    }
    b->active_from = 999;
    expect_error(&d, "band nirvana", "active_from", "between 1000 and 2100");
    b->active_from = 2101;
    expect_error(&d, "band nirvana", "active_from", "between 1000 and 2100");
    b->active_from = 1987;
    expect_no_errors(&d);
    dataset_free(&d);
    assert_false(domain_country_valid(NULL));
}

static void test_defining_band_rules(void **state)
{
    (void)state;
    dataset d;
    base_dataset(&d);
    genre *g = dataset_find_genre(&d, "thrash-metal");
    set_list(&g->defining, &g->ndefining, "metallica,nobody");
    expect_error(&d, "genre thrash-metal", "defining", "the band 'nobody' does not exist");
    set_list(&g->defining, &g->ndefining, "metallica,nirvana");
    expect_error(&d, "genre thrash-metal", "defining",
                 "the band 'nirvana' does not list this genre or one of its sub-genres");
    set_list(&g->defining, &g->ndefining, "metallica,metallica");
    expect_error(&d, "genre thrash-metal", "defining", "'metallica' is listed twice");
    set_list(&g->defining, &g->ndefining, "Metallica");
    expect_error(&d, "genre thrash-metal", "defining", "not a valid band id");
    for (int i = 0; i < 6; i++) {
        char id[16];
        snprintf(id, sizeof id, "band-%d", i);
        add_band(&d, id, id, "thrash-metal");
    }
    set_list(&g->defining, &g->ndefining, "band-0,band-1,band-2,band-3,band-4,band-5");
    expect_error(&d, "genre thrash-metal", "defining", "at most 5");
    /* Up to five, in any order; a sub-genre's band may define its ancestors. */
    set_list(&g->defining, &g->ndefining, "band-4,band-0,metallica,motorhead,band-1");
    genre *metal = dataset_find_genre(&d, "metal");
    set_list(&metal->defining, &metal->ndefining, "metallica,motorhead");
    expect_no_errors(&d);
    dataset_free(&d);

    /* A parent cycle (reported on its own) does not make the walk loop. */
    base_dataset(&d);
    genre *hr = dataset_find_genre(&d, "hard-rock");
    set_list(&hr->parents, &hr->nparents, "rock,heavy-metal");
    set_list(&dataset_find_genre(&d, "rock")->defining, &dataset_find_genre(&d, "rock")->ndefining, "nirvana");
    set_list(&dataset_find_genre(&d, "grunge")->defining, &dataset_find_genre(&d, "grunge")->ndefining, "metallica");
    expect_error(&d, "genre grunge", "defining", "'metallica' does not list");
    dataset_free(&d);
}

static void test_dataset_append_moves_every_entry(void **state)
{
    (void)state;
    dataset a, b;
    base_dataset(&a);
    memset(&b, 0, sizeof b);
    add_genre(&b, "jazz", "Jazz", GENRE_ROOT, "");
    add_genre(&b, "bebop", "Bebop", GENRE_LEAF, "jazz");
    add_band(&b, "charlie-parker", "Charlie Parker", "bebop");
    size_t genres = a.ngenres, bands = a.nbands;
    assert_int_equal(dataset_append(&a, &b), 0);
    assert_int_equal(b.ngenres + b.nbands, 0);
    assert_null(b.genres);
    assert_int_equal(a.ngenres, genres + 2);
    assert_int_equal(a.nbands, bands + 1);
    assert_string_equal(a.genres[genres + 1].id, "bebop");
    assert_string_equal(a.bands[bands].primary_genre, "bebop");
    expect_no_errors(&a);
    dataset_free(&a);
}

static void test_codec_reads_and_writes_format_2_fields(void **state)
{
    (void)state;
    const char *doc =
        "{\"format\":\"musicgraph-dataset\",\"format_version\":2,\"family\":\"rock\",\"genres\":["
        "{\"id\":\"rock\",\"name\":\"Rock\",\"type\":\"root\",\"aliases\":[\"rock music\"],"
        "\"former_ids\":[\"rock-music\"],\"region\":\"United States\",\"defining\":[\"x\"]},"
        "{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"],\"region\":\"\"}],"
        "\"bands\":[{\"id\":\"x\",\"name\":\"X\",\"primary_genre\":\"g\",\"genres\":[\"g\"],"
        "\"aliases\":[\"Ex\",\"Why\"],\"former_ids\":[\"old-x\"],\"country\":\"GB\",\"active_from\":1977},"
        "{\"id\":\"y\",\"name\":\"Y\",\"primary_genre\":\"g\",\"genres\":[\"g\"],\"country\":\"\","
        "\"active_from\":null}]}";
    dataset d;
    domain_errors errs = {0};
    assert_int_equal(parse(doc, &d, &errs), 0);
    genre *rock = &d.genres[0];
    assert_int_equal(rock->naliases, 1);
    assert_string_equal(rock->aliases[0], "rock music");
    assert_string_equal(rock->former_ids[0], "rock-music");
    assert_string_equal(rock->region, "United States");
    assert_string_equal(rock->defining[0], "x");
    assert_null(d.genres[1].region); /* "" reads as unknown */
    assert_int_equal(d.genres[1].naliases + d.genres[1].nformer_ids + d.genres[1].ndefining, 0);
    band *x = &d.bands[0];
    assert_int_equal(x->naliases, 2);
    assert_string_equal(x->aliases[1], "Why");
    assert_string_equal(x->former_ids[0], "old-x");
    assert_string_equal(x->country, "GB");
    assert_int_equal(x->active_from, 1977);
    assert_null(d.bands[1].country);
    assert_int_equal(d.bands[1].active_from, 0);
    expect_no_errors(&d);

    /* Written as the current format with every field, and read back the same. */
    size_t len;
    char *json = write_dataset(&d, &len);
    assert_non_null(strstr(json, "\"format_version\":3"));
    assert_non_null(strstr(json, "\"aliases\":[\"Ex\",\"Why\"],\"former_ids\":[\"old-x\"],\"country\":\"GB\","
                                 "\"active_from\":1977"));
    assert_non_null(strstr(json, "\"country\":null,\"active_from\":null"));
    assert_non_null(strstr(json, "\"region\":null,\"defining\":[]"));
    assert_reads_back(&d, json);
    dataset_free(&d);
    domain_errors_free(&errs);
}

static void test_codec_reads_and_writes_band_types(void **state)
{
    (void)state;
    const char *doc = "{\"format\":\"musicgraph-dataset\",\"format_version\":3,\"genres\":["
                      "{\"id\":\"rock\",\"name\":\"Rock\",\"type\":\"root\"},"
                      "{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"]}],\"bands\":["
                      "{\"id\":\"p\",\"name\":\"P\",\"type\":\"person\",\"primary_genre\":\"g\",\"genres\":[\"g\"]},"
                      "{\"id\":\"q\",\"name\":\"Q\",\"type\":\"group\",\"primary_genre\":\"g\",\"genres\":[\"g\"]},"
                      "{\"id\":\"r\",\"name\":\"R\",\"type\":null,\"primary_genre\":\"g\",\"genres\":[\"g\"]},"
                      "{\"id\":\"s\",\"name\":\"S\",\"type\":\"\",\"primary_genre\":\"g\",\"genres\":[\"g\"]},"
                      "{\"id\":\"t\",\"name\":\"T\",\"primary_genre\":\"g\",\"genres\":[\"g\"]}]}";
    dataset d;
    domain_errors errs = {0};
    assert_int_equal(parse(doc, &d, &errs), 0);
    assert_int_equal(d.bands[0].type, BAND_PERSON);
    assert_int_equal(d.bands[1].type, BAND_GROUP);
    for (size_t i = 2; i < 5; i++) /* null, "" and absent: not known */
        assert_int_equal(d.bands[i].type, BAND_TYPE_UNKNOWN);
    assert_string_equal(band_type_name(BAND_PERSON), "person");
    assert_null(band_type_name(BAND_TYPE_UNKNOWN));

    /* Written after the name, null when not known, and read back the same. */
    size_t len;
    char *json = write_dataset(&d, &len);
    assert_non_null(strstr(json, "\"name\":\"P\",\"type\":\"person\",\"primary_genre\""));
    assert_non_null(strstr(json, "\"name\":\"Q\",\"type\":\"group\","));
    assert_non_null(strstr(json, "\"name\":\"T\",\"type\":null,"));
    assert_reads_back(&d, json);
    dataset_free(&d);
    domain_errors_free(&errs);

    /* Anything else is a clear error naming the field. */
    expect_band_error(
        "{\"id\":\"b\",\"name\":\"B\",\"type\":\"band\",\"primary_genre\":\"rock\",\"genres\":[\"rock\"]}", "type",
        "must be \"person\", \"group\" or null");
    expect_band_error(
        "{\"id\":\"b\",\"name\":\"B\",\"type\":\"Person\",\"primary_genre\":\"rock\",\"genres\":[\"rock\"]}", "type",
        "must be \"person\", \"group\" or null");
    expect_band_error("{\"id\":\"b\",\"name\":\"B\",\"type\":1,\"primary_genre\":\"rock\",\"genres\":[\"rock\"]}",
                      "type", "must be \"person\", \"group\" or null");
}

static void test_codec_rejects_wrong_types_of_format_2_fields(void **state)
{
    (void)state;
    const char *g = "{\"id\":\"g\",\"name\":\"G\",\"type\":\"leaf\",\"parents\":[\"rock\"],";
    char json[512];
    snprintf(json, sizeof json, "%s\"aliases\":\"hip-hop\"}", g);
    expect_genre_error(json, "aliases", "must be an array of names");
    snprintf(json, sizeof json, "%s\"aliases\":[1]}", g);
    expect_genre_error(json, "aliases", "must be an array of names");
    snprintf(json, sizeof json, "%s\"former_ids\":{}}", g);
    expect_genre_error(json, "former_ids", "must be an array of ids");
    snprintf(json, sizeof json, "%s\"region\":[\"x\"]}", g);
    expect_genre_error(json, "region", "must be a string");
    snprintf(json, sizeof json, "%s\"defining\":\"metallica\"}", g);
    expect_genre_error(json, "defining", "must be an array of band ids");
    expect_band_error("{\"id\":\"b\",\"name\":\"B\",\"primary_genre\":\"rock\",\"genres\":[\"rock\"],\"country\":1}",
                      "country", "must be a string");
    expect_band_error(
        "{\"id\":\"b\",\"name\":\"B\",\"primary_genre\":\"rock\",\"genres\":[\"rock\"],\"active_from\":\"1990\"}",
        "active_from", "must be a year");
    expect_band_error(
        "{\"id\":\"b\",\"name\":\"B\",\"primary_genre\":\"rock\",\"genres\":[\"rock\"],\"active_from\":0}",
        "active_from", "between 1000 and 2100");
    expect_band_error("{\"id\":\"b\",\"name\":\"B\",\"primary_genre\":\"rock\",\"genres\":[\"rock\"],\"alias\":[]}",
                      "alias", "not a known field");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genre_type_names_parse_both_ways),
        cmocka_unit_test(test_dataset_copy_is_deep_and_equal),
        cmocka_unit_test(test_dataset_add_grows_past_many_entries),
        cmocka_unit_test(test_id_valid_accepts_lowercase_digits_and_dashes),
        cmocka_unit_test(test_id_valid_rejects_other_characters_and_lengths),
        cmocka_unit_test(test_slugify_derives_ids_from_names),
        cmocka_unit_test(test_slugify_cuts_long_names_at_50_without_trailing_dash),
        cmocka_unit_test(test_valid_dataset_has_no_errors),
        cmocka_unit_test(test_bundled_dataset_passes_every_rule),
        cmocka_unit_test(test_genre_id_must_match_pattern_and_length),
        cmocka_unit_test(test_genre_name_rules),
        cmocka_unit_test(test_genre_description_and_origin_year_rules),
        cmocka_unit_test(test_genre_type_must_be_known),
        cmocka_unit_test(test_root_genre_has_no_parents),
        cmocka_unit_test(test_non_root_genre_needs_a_parent),
        cmocka_unit_test(test_primary_parent_must_be_among_parents),
        cmocka_unit_test(test_parents_must_exist_and_be_valid_ids),
        cmocka_unit_test(test_parent_listed_twice_is_rejected),
        cmocka_unit_test(test_self_parent_is_rejected),
        cmocka_unit_test(test_two_cycle_through_secondary_parent_is_rejected),
        cmocka_unit_test(test_three_cycle_is_rejected_and_named),
        cmocka_unit_test(test_long_chain_without_cycle_is_accepted),
        cmocka_unit_test(test_long_chain_closed_into_a_cycle_is_rejected),
        cmocka_unit_test(test_duplicate_ids_are_rejected),
        cmocka_unit_test(test_links_must_be_influences_to_existing_other_genres),
        cmocka_unit_test(test_band_needs_at_least_one_genre),
        cmocka_unit_test(test_band_primary_genre_must_exist),
        cmocka_unit_test(test_band_primary_genre_must_be_a_leaf),
        cmocka_unit_test(test_band_primary_genre_must_be_among_its_genres),
        cmocka_unit_test(test_band_field_rules),
        cmocka_unit_test(test_single_entity_checks_report_field_errors),
        cmocka_unit_test(test_delete_blockers_name_primary_children_and_bands),
        cmocka_unit_test(test_errors_first_formats_entry_field_message),
        cmocka_unit_test(test_a_huge_id_list_is_one_error),
        cmocka_unit_test(test_codec_parses_a_valid_document),
        cmocka_unit_test(test_codec_bands_may_be_omitted),
        cmocka_unit_test(test_codec_rejects_invalid_json_with_position),
        cmocka_unit_test(test_codec_rejects_wrong_format_and_version),
        cmocka_unit_test(test_codec_rejects_wrong_top_level_types),
        cmocka_unit_test(test_codec_rejects_unknown_top_level_keys),
        cmocka_unit_test(test_codec_rejects_wrong_field_types),
        cmocka_unit_test(test_codec_rejects_unknown_keys_naming_the_entry),
        cmocka_unit_test(test_codec_rejects_duplicate_keys),
        cmocka_unit_test(test_codec_rejects_nul_characters_in_strings),
        cmocka_unit_test(test_codec_reads_request_shaped_objects),
        cmocka_unit_test(test_codec_objects_built_with_nul_strings_are_refused),
        cmocka_unit_test(test_codec_write_then_parse_gives_the_same_dataset),
        cmocka_unit_test(test_codec_round_trips_the_bundled_dataset),
        cmocka_unit_test(test_codec_writes_empty_dataset_and_missing_strings),
        cmocka_unit_test(test_slugify_transliterates_letters_of_every_latin_alphabet),
        cmocka_unit_test(test_alias_rules),
        cmocka_unit_test(test_former_id_rules),
        cmocka_unit_test(test_region_country_and_year_rules),
        cmocka_unit_test(test_defining_band_rules),
        cmocka_unit_test(test_dataset_append_moves_every_entry),
        cmocka_unit_test(test_codec_reads_and_writes_format_2_fields),
        cmocka_unit_test(test_codec_rejects_wrong_types_of_format_2_fields),
        cmocka_unit_test(test_codec_reads_and_writes_band_types),
    };
    return cmocka_run_group_tests_name("domain", tests, NULL, NULL) ? 1 : 0;
}
