/*
 * test_core.c — unit tests of src/core: buf, the JSON writer, text helpers,
 * the string map, the layered configuration loader, SHA-256, gzip, the
 * atomic file writes and listening addresses.
 *
 * What is checked is what a caller sees: the exact bytes the JSON writer and
 * the escapers produce (and that jansson parses the writer's output back to
 * the same strings), which byte sequences the UTF-8 checks accept, the search
 * keys text_fold produces, and the effective settings and error messages of
 * config_load for every layer (defaults, file, environment, flags).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/gzip.h"
#include "core/gzip_pieces.h"
#include "core/net.h"
#include "core/json.h"
#include "core/strmap.h"
#include "core/sha256.h"
#include "core/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

/* Escapes s with jw_escape and returns the result (caller frees). */
static char *escape(const char *s, size_t len)
{
    buf b = BUF_INIT;
    jw_escape(&b, s, len);
    return buf_steal(&b, NULL);
}

static void assert_escape(const char *in, size_t len, const char *expected)
{
    char *got = escape(in, len);
    assert_string_equal(got, expected);
    free(got);
}

static char *fold(const char *s)
{
    buf b = BUF_INIT;
    text_fold(s, &b);
    return buf_steal(&b, NULL);
}

static void assert_fold(const char *in, const char *expected)
{
    char *got = fold(in);
    assert_string_equal(got, expected);
    free(got);
}

/* Writes s as a JSON string, parses it with jansson, returns the decoded
 * value (caller frees) or NULL if jansson refused the writer's output. */
static char *json_round_trip(const char *s, size_t len, size_t *outlen)
{
    buf b = BUF_INIT;
    json_writer w;
    jw_init(&w, &b);
    jw_array_begin(&w);
    jw_string_len(&w, s, len);
    jw_array_end(&w);
    json_error_t jerr;
    json_t *v = json_loadb(b.data, b.len, 0, &jerr);
    buf_free(&b);
    if (!v)
        return NULL;
    json_t *str = json_array_get(v, 0);
    char *out = NULL;
    if (json_is_string(str)) {
        *outlen = json_string_length(str);
        out = malloc(*outlen + 1);
        memcpy(out, json_string_value(str), *outlen + 1);
    }
    json_decref(v);
    return out;
}

/* ---------------------------------------------------------------- buf */

static void test_buf_appends_build_one_nul_terminated_string(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    assert_string_equal(buf_cstr(&b), "");
    buf_puts(&b, "genre ");
    buf_putc(&b, '#');
    buf_printf(&b, "%d: %s", 42, "grindcore");
    buf_append(&b, "!?", 1);
    assert_int_equal(b.len, strlen("genre #42: grindcore!"));
    assert_string_equal(buf_cstr(&b), "genre #42: grindcore!");
    assert_false(buf_failed(&b));
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_buf_grows_past_many_reallocations(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    for (int i = 0; i < 10000; i++)
        buf_printf(&b, "%04d", i % 10000);
    assert_int_equal(b.len, 40000);
    assert_memory_equal(b.data, "0000000100020003", 16);
    assert_memory_equal(b.data + 39996, "9999", 4);
    assert_int_equal(b.data[b.len], '\0');
    buf_free(&b);
}

static void test_buf_steal_hands_over_bytes_and_resets(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    buf_puts(&b, "abc");
    size_t len = 0;
    char *s = buf_steal(&b, &len);
    assert_int_equal(len, 3);
    assert_string_equal(s, "abc");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);

    /* Stealing an empty buffer still gives a string the caller can free. */
    s = buf_steal(&b, &len);
    assert_non_null(s);
    assert_int_equal(len, 0);
    assert_string_equal(s, "");
    free(s);
}

static void test_buf_reset_keeps_capacity_and_empties(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    buf_puts(&b, "something long enough");
    size_t cap = b.cap;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap);
    assert_string_equal(buf_cstr(&b), "");
    buf_puts(&b, "x");
    assert_string_equal(buf_cstr(&b), "x");
    buf_free(&b);
}

/* ---------------------------------------------------------------- JSON writer */

static void test_json_escapes_quotes_backslashes_and_control_characters(void **state)
{
    (void)state;
    assert_escape("say \"hi\"", 8, "say \\\"hi\\\"");
    assert_escape("a\\b", 3, "a\\\\b");
    assert_escape("l1\nl2\r\tx", 8, "l1\\nl2\\r\\tx");
    assert_escape("\x01\x1f\x08\x0c", 4, "\\u0001\\u001f\\u0008\\u000c");
    /* An embedded NUL (only reachable with an explicit length) is escaped too. */
    assert_escape("a\0b", 3, "a\\u0000b");
    /* DEL is legal JSON and passes through. */
    assert_escape("\x7f", 1, "\x7f");
}

static void test_json_escapes_html_specials_so_documents_embed_anywhere(void **state)
{
    (void)state;
    assert_escape("</script><b>&amp;", 17, "\\u003c/script\\u003e\\u003cb\\u003e\\u0026amp;");
    assert_escape("'single'", 8, "'single'");
}

static void test_json_escapes_unicode_line_separators(void **state)
{
    (void)state;
    assert_escape("a\xe2\x80\xa8"
                  "b\xe2\x80\xa9"
                  "c",
                  9, "a\\u2028b\\u2029c");
    /* Neighbouring code points of the same lead bytes are not escaped. */
    assert_escape("\xe2\x80\xa7\xe2\x80\xaa", 6, "\xe2\x80\xa7\xe2\x80\xaa");
}

static void test_json_replaces_invalid_utf8_with_replacement_character(void **state)
{
    (void)state;
    assert_escape("\xff", 1, "\\ufffd");
    assert_escape("a\xc0\xafz", 4, "a\\ufffd\\ufffdz");                   /* overlong '/' */
    assert_escape("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd");            /* surrogate */
    assert_escape("\xe2\x82", 2, "\\ufffd\\ufffd");                       /* truncated € */
    assert_escape("\x80x", 2, "\\ufffdx");                                /* stray continuation */
    assert_escape("\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd"); /* > U+10FFFF */
}

static void test_json_keeps_valid_multibyte_text_unchanged(void **state)
{
    (void)state;
    const char *s = "Mot\xc3\xb6rhead \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
    assert_escape(s, strlen(s), s);
}

static void test_json_commas_in_nested_objects_and_arrays(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "a");
    jw_array_begin(&w);
    jw_int(&w, 1);
    jw_int(&w, -2);
    jw_object_begin(&w);
    jw_key(&w, "b");
    jw_null(&w);
    jw_key(&w, "c");
    jw_array_begin(&w);
    jw_bool(&w, 1);
    jw_bool(&w, 0);
    jw_array_end(&w);
    jw_object_end(&w);
    jw_array_end(&w);
    jw_key(&w, "d");
    jw_object_begin(&w);
    jw_object_end(&w);
    jw_key(&w, "e");
    jw_array_begin(&w);
    jw_array_end(&w);
    jw_key(&w, "f");
    jw_string_or_null(&w, NULL);
    jw_key(&w, "g");
    jw_string_or_null(&w, "x");
    jw_key(&w, "h");
    jw_raw(&w, "[1,2]", 5);
    jw_key(&w, "i");
    jw_array_begin(&w);
    jw_array_begin(&w);
    jw_array_end(&w);
    jw_array_begin(&w);
    jw_array_end(&w);
    jw_array_end(&w);
    jw_object_end(&w);
    assert_string_equal(buf_cstr(&b), "{\"a\":[1,-2,{\"b\":null,\"c\":[true,false]}],\"d\":{},\"e\":[],\"f\":null,"
                                      "\"g\":\"x\",\"h\":[1,2],\"i\":[[],[]]}");
    json_error_t jerr;
    json_t *v = json_loads(buf_cstr(&b), 0, &jerr);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(v, "a"), 1)), -2);
    json_decref(v);
    buf_free(&b);
}

static void test_json_numbers_extremes_and_non_finite_doubles(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    json_writer w;
    jw_init(&w, &b);
    jw_array_begin(&w);
    jw_int(&w, INT64_MIN);
    jw_int(&w, INT64_MAX);
    jw_double(&w, 0.5);
    jw_double(&w, NAN);
    jw_double(&w, INFINITY);
    jw_array_end(&w);
    assert_string_equal(buf_cstr(&b), "[-9223372036854775808,9223372036854775807,0.5,null,null]");
    buf_free(&b);
}

static void test_json_keys_are_escaped_like_values(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    json_writer w;
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "<k\"ey>");
    jw_int(&w, 1);
    jw_object_end(&w);
    assert_string_equal(buf_cstr(&b), "{\"\\u003ck\\\"ey\\u003e\":1}");
    buf_free(&b);
}

static void test_json_output_round_trips_through_jansson(void **state)
{
    (void)state;
    /* Every valid byte sequence must come back from jansson unchanged. */
    char all[160];
    size_t n = 0;
    for (int c = 1; c < 0x80; c++)
        all[n++] = (char)c;
    const char *extra = "\xc3\xb6\xe2\x80\xa8\xe2\x80\xa9\xf0\x9f\x8e\xb8\xef\xbf\xbd";
    memcpy(all + n, extra, strlen(extra));
    n += strlen(extra);
    size_t outlen = 0;
    char *back = json_round_trip(all, n, &outlen);
    assert_non_null(back);
    assert_int_equal(outlen, n);
    assert_memory_equal(back, all, n);
    free(back);

    /* Invalid input still yields a document jansson accepts, with U+FFFD. */
    back = json_round_trip("a\xff\xc0"
                           "b",
                           4, &outlen);
    assert_non_null(back);
    assert_string_equal(back, "a\xef\xbf\xbd\xef\xbf\xbd"
                              "b");
    free(back);
}

static void test_json_nesting_beyond_max_depth_marks_buffer_failed(void **state)
{
    (void)state;
    /* Deeper than the writer tracks: it must neither write out of bounds nor
     * emit a silently wrong document; the buffer reports failure instead. */
    buf b = BUF_INIT;
    json_writer w;
    jw_init(&w, &b);
    for (int i = 0; i < JSON_MAX_DEPTH + 8; i++) {
        jw_array_begin(&w);
        jw_int(&w, i);
    }
    for (int i = 0; i < JSON_MAX_DEPTH + 8; i++)
        jw_array_end(&w);
    assert_true(buf_failed(&b));
    buf_free(&b);

    /* Exactly at the limit everything is fine and parses. */
    jw_init(&w, &b);
    for (int i = 0; i < JSON_MAX_DEPTH; i++) {
        jw_array_begin(&w);
        jw_int(&w, i);
    }
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        jw_array_end(&w);
    assert_false(buf_failed(&b));
    json_error_t jerr;
    json_t *v = json_loads(buf_cstr(&b), 0, &jerr);
    assert_non_null(v);
    assert_int_equal(json_array_size(v), 2);
    json_decref(v);
    buf_free(&b);
}

/* ---------------------------------------------------------------- UTF-8 */

static int valid(const char *s) { return text_utf8_valid(s, strlen(s)); }

static void test_utf8_valid_accepts_well_formed_sequences(void **state)
{
    (void)state;
    assert_true(valid(""));
    assert_true(valid("plain ascii"));
    assert_true(valid("Bj\xc3\xb6rk"));     /* 2 bytes */
    assert_true(valid("\xe2\x82\xac"));     /* € */
    assert_true(valid("\xf0\x9f\x8e\xb8")); /* 🎸 */
    assert_true(valid("\xed\x9f\xbf"));     /* U+D7FF, just below surrogates */
    assert_true(valid("\xee\x80\x80"));     /* U+E000, just above */
    assert_true(valid("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
    assert_true(valid("\xc2\x80"));         /* U+0080, smallest 2-byte */
    assert_true(valid("\xe0\xa0\x80"));     /* U+0800, smallest 3-byte */
    assert_true(valid("\xf0\x90\x80\x80")); /* U+10000, smallest 4-byte */
}

static void test_utf8_valid_rejects_overlong_encodings(void **state)
{
    (void)state;
    assert_false(valid("\xc0\x80"));
    assert_false(valid("\xc0\xaf"));
    assert_false(valid("\xc1\xbf"));
    assert_false(valid("\xe0\x80\xaf"));
    assert_false(valid("\xe0\x9f\xbf"));
    assert_false(valid("\xf0\x80\x80\xaf"));
    assert_false(valid("\xf0\x8f\xbf\xbf"));
}

static void test_utf8_valid_rejects_surrogates_and_out_of_range(void **state)
{
    (void)state;
    assert_false(valid("\xed\xa0\x80"));     /* U+D800 */
    assert_false(valid("\xed\xbf\xbf"));     /* U+DFFF */
    assert_false(valid("\xf4\x90\x80\x80")); /* U+110000 */
    assert_false(valid("\xf5\x80\x80\x80"));
    assert_false(valid("\xf8\x88\x80\x80\x80"));
    assert_false(valid("\xfe"));
    assert_false(valid("\xff"));
}

static void test_utf8_valid_rejects_truncated_and_stray_bytes(void **state)
{
    (void)state;
    assert_false(valid("\xe2\x82"));
    assert_false(valid("ab\xc3"));
    assert_false(valid("\x80"));
    assert_false(valid("a\xbf"
                       "b"));
    assert_false(valid("\xc3\x28"));
    /* The length bounds the check: a cut in the middle of a sequence fails. */
    assert_false(text_utf8_valid("\xc3\xb6", 1));
    assert_true(text_utf8_valid("\xc3\xb6zz", 2));
}

static void test_has_control_finds_c0_c1_and_del(void **state)
{
    (void)state;
    assert_true(text_has_control("a\x01"
                                 "b"));
    assert_true(text_has_control("line\nbreak"));
    assert_true(text_has_control("tab\there"));
    assert_true(text_has_control("del\x7f"));
    assert_true(text_has_control("nel\xc2\x85")); /* U+0085 */
    assert_true(text_has_control("\xc2\x9f"));    /* U+009F */
    assert_false(text_has_control("Mot\xc3\xb6rhead"));
    assert_false(text_has_control("nbsp\xc2\xa0ok")); /* U+00A0 is not a control */
    assert_false(text_has_control(""));
    assert_true(text_has_control("line\xe2\x80\xa8sep"));   /* U+2028 */
    assert_true(text_has_control("para\xe2\x80\xa9sep"));   /* U+2029 */
    assert_true(text_has_control("evil\xe2\x80\xaegpj.exe")); /* U+202E, right-to-left override */
    assert_true(text_has_control("iso\xe2\x81\xa6late"));   /* U+2066 */
    assert_true(text_has_control("mark\xe2\x80\x8f"));      /* U+200F */
    assert_false(text_has_control("\xd9\x81\xd9\x8a\xd8\xb1\xd9\x88\xd8\xb2")); /* Arabic letters are not controls */
    assert_false(text_has_control_except_layout("two\nlines\tand a tab"));
    assert_true(text_has_control_except_layout("two\xe2\x80\xa8lines"));
    assert_true(text_has_control_except_layout("cr\rhere"));
    assert_false(text_has_control("AC/DC & <Friends>"));
}

static void test_utf8_length_counts_code_points_not_bytes(void **state)
{
    (void)state;
    assert_int_equal(text_utf8_length(""), 0);
    assert_int_equal(text_utf8_length("abc"), 3);
    assert_int_equal(text_utf8_length("Mot\xc3\xb6rhead"), 9);
    assert_int_equal(text_utf8_length("\xe6\x9d\xb1\xe4\xba\xac"), 2);
    assert_int_equal(text_utf8_length("\xf0\x9f\x8e\xb8!"), 2);
}

/* ---------------------------------------------------------------- folding */

static void test_fold_removes_latin_accents_and_lowercases(void **state)
{
    (void)state;
    assert_fold("Mot\xc3\xb6rhead", "motorhead");
    assert_fold("Bj\xc3\xb6rk", "bjork");
    assert_fold("Sigur R\xc3\xb3s", "sigur ros");
    assert_fold("\xc5\x92", "oe");         /* Œ */
    assert_fold("\xc5\x93uvre", "oeuvre"); /* œ */
    assert_fold("\xc3\x9f", "ss");         /* ß */
    assert_fold("\xc3\x86on", "aeon");     /* Æ */
    assert_fold("\xc3\x9e", "th");         /* Þ */
    assert_fold("\xc5\x81\xc3\xb3"
                "d\xc5\xba",
                "lodz"); /* Łódź */
    assert_fold("\xc3\x87\xc3\xa9line Dion", "celine dion");
    assert_fold("\xc3\xbf", "y"); /* ÿ, the last Latin-1 letter */
    assert_fold("\xc5\xbf", "s"); /* ſ, the last Latin Extended-A letter */
}

static void test_fold_spells_undecomposable_letters_in_ascii(void **state)
{
    (void)state;
    /* Turkish: dotless ı, dotted İ, ş, ğ, ç. */
    assert_fold("Bar\xc4\xb1\xc5\x9f Man\xc3\xa7o", "baris manco");
    assert_fold("\xc4\xb0\x62rahim Tatl\xc4\xb1ses", "ibrahim tatlises");
    assert_fold("Da\xc4\x9f", "dag");
    /* Nordic, Polish, South Slavic, Icelandic, Maltese, Azerbaijani. */
    assert_fold("\xc3\x98\xc3\xb8", "oo");
    assert_fold("\xc5\x82\xc5\x81", "ll");
    assert_fold("\xc4\x90\xc4\x91", "dd");
    assert_fold("\xc3\xb0\xc3\x90\xc3\xbe", "ddth");
    assert_fold("\xc4\xa6\xc4\xa7", "hh");
    assert_fold("\xc6\x8f\xc9\x99", "ee");
    /* Decomposed by Unicode: Vietnamese, Romanian comma below, Latin Extended Additional. */
    assert_fold("S\xc6\xa1n T\xc3\xb9ng", "son tung");
    assert_fold("\xc8\x98\xc8\x9b", "st");
    assert_fold("\xe1\xba\xa0\xe1\xbb\x87", "ae");
    /* Compatibility forms: ligatures, full-width letters; typographic punctuation. */
    assert_fold("\xef\xac\x81\xef\xbc\xa1", "fia");
    assert_fold("Guns N\xe2\x80\x99 Roses \xe2\x80\x94 \xe2\x80\x9cX\xe2\x80\x9d", "guns n' roses - \"x\"");
}

static void test_fold_case_folds_other_scripts(void **state)
{
    (void)state;
    assert_fold("\xd0\x9a\xd0\x98\xd0\x9d\xd0\x9e", "\xd0\xba\xd0\xb8\xd0\xbd\xd0\xbe"); /* КИНО -> кино */
    assert_fold("\xce\x91\xce\xac", "\xce\xb1\xce\xb1");                                 /* Αά -> αα */
}

static void test_fold_lowercases_ascii_and_keeps_punctuation(void **state)
{
    (void)state;
    assert_fold("AC/DC", "ac/dc");
    assert_fold("ABCXYZ abcxyz 0123 @[`{", "abcxyz abcxyz 0123 @[`{");
    assert_fold("", "");
}

static void test_fold_keeps_other_scripts_and_drops_invalid_bytes(void **state)
{
    (void)state;
    assert_fold("\xe6\x9d\xb1\xe4\xba\xac", "\xe6\x9d\xb1\xe4\xba\xac");
    assert_fold("\xc3\x97", "\xc3\x97"); /* × is not a letter: kept as is */
    assert_fold("a\xff"
                "b\xc0\xaf"
                "c",
                "abc");
    assert_fold("\xed\xa0\x80x", "x");
}

/* ---------------------------------------------------------------- HTML */

static void test_html_escape_escapes_the_five_specials(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    text_html_escape(&b, "<a href=\"x\" title='y'>Tom & Jerry</a>");
    assert_string_equal(buf_cstr(&b), "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;");
    buf_reset(&b);
    text_html_escape(&b, "Mot\xc3\xb6rhead");
    assert_string_equal(buf_cstr(&b), "Mot\xc3\xb6rhead");
    buf_reset(&b);
    text_html_escape(&b, "&amp;");
    assert_string_equal(buf_cstr(&b), "&amp;amp;");
    buf_free(&b);
}

/* ---------------------------------------------------------------- URL decoding */

static long url_decode(char *s, int plus) { return text_url_decode(s, strlen(s), plus); }

static void test_url_decode_decodes_escapes_and_plus(void **state)
{
    (void)state;
    char a[] = "a%20b%2Fc+d";
    assert_int_equal(url_decode(a, 1), 7);
    assert_string_equal(a, "a b/c d");

    char b[] = "a+b";
    assert_int_equal(url_decode(b, 0), 3);
    assert_string_equal(b, "a+b");

    char c[] = "%e2%82%AC";
    assert_int_equal(url_decode(c, 0), 3);
    assert_string_equal(c, "\xe2\x82\xac");

    char d[] = "%41";
    assert_int_equal(url_decode(d, 0), 1);
    assert_string_equal(d, "A");

    char e[] = "";
    assert_int_equal(url_decode(e, 1), 0);

    char f[] = "plain";
    assert_int_equal(url_decode(f, 1), 5);
    assert_string_equal(f, "plain");
}

static void test_url_decode_rejects_malformed_escapes(void **state)
{
    (void)state;
    const char *bad[] = {"%", "%4", "%zz", "%g1", "%1g", "a%", "a%4", "%%", "%%41", "ok%2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char tmp[16];
        snprintf(tmp, sizeof tmp, "%s", bad[i]);
        if (url_decode(tmp, 1) != -1)
            fail_msg("'%s' was accepted", bad[i]);
    }
}

static void test_url_decode_respects_length_not_nul(void **state)
{
    (void)state;
    /* Only len bytes are decoded: an escape cut by the length is malformed. */
    char s[] = "%41%42";
    assert_int_equal(text_url_decode(s, 3, 0), 1);
    assert_int_equal(s[0], 'A');
    char t[] = "%41%42";
    assert_int_equal(text_url_decode(t, 4, 0), -1);
}

/* ---------------------------------------------------------------- strmap */

static void test_strmap_put_get_and_replace(void **state)
{
    (void)state;
    strmap m;
    assert_int_equal(strmap_init(&m, 4), 0);
    size_t v = 99;
    assert_false(strmap_get(&m, "rock", &v));
    assert_int_equal(strmap_put(&m, "rock", 1), 0);
    assert_int_equal(strmap_put(&m, "metal", 2), 0);
    assert_true(strmap_get(&m, "rock", &v));
    assert_int_equal(v, 1);
    assert_true(strmap_get(&m, "metal", &v));
    assert_int_equal(v, 2);
    assert_int_equal(strmap_put(&m, "rock", 7), 0);
    assert_true(strmap_get(&m, "rock", &v));
    assert_int_equal(v, 7);
    assert_int_equal(m.count, 2);
    assert_false(strmap_get(&m, "roc", NULL));
    assert_false(strmap_get(&m, "", NULL));
    strmap_free(&m);
}

static void test_strmap_grows_and_keeps_every_key(void **state)
{
    (void)state;
    enum { N = 5000 };
    static char keys[N][16];
    strmap m;
    assert_int_equal(strmap_init(&m, 1), 0);
    for (size_t i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "genre-%zu", i);
        assert_int_equal(strmap_put(&m, keys[i], i * 3), 0);
    }
    assert_int_equal(m.count, N);
    assert_true(m.cap >= 2 * N);
    for (size_t i = 0; i < N; i++) {
        size_t v;
        char probe[16];
        snprintf(probe, sizeof probe, "genre-%zu", i); /* a different pointer, same text */
        assert_true(strmap_get(&m, probe, &v));
        assert_int_equal(v, i * 3);
    }
    assert_false(strmap_get(&m, "genre-5000", NULL));
    strmap_free(&m);
}

static void test_strmap_zeroed_map_finds_nothing(void **state)
{
    (void)state;
    strmap m = {0};
    assert_false(strmap_get(&m, "x", NULL));
    strmap_free(&m);
}

/* ---------------------------------------------------------------- config */

static char tmpdir[256];

static void clear_env(void)
{
    for (const config_setting *s = config_settings; s->field; s++) {
        char name[128];
        unsetenv(s->env);
        snprintf(name, sizeof name, "%s_FILE", s->env);
        unsetenv(name);
    }
    unsetenv("DATABASE_URL");
    unsetenv("MUSICGRAPH_CONFIG");
    unsetenv("STATE_DIRECTORY");
}

static int config_setup(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

static int config_teardown(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

/* Writes contents to a new file in tmpdir and returns its path (static). */
static const char *write_file(const char *name, const char *contents)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(contents, f);
    fclose(f);
    return path;
}

/* Loads with the given NULL-terminated argv; returns config_load's result. */
static int load(config *cfg, char **argv, int *argc, char *err, size_t errlen)
{
    int n = 0;
    while (argv[n])
        n++;
    *argc = n;
    err[0] = '\0';
    return config_load(cfg, argc, argv, err, errlen);
}

static void test_config_defaults_without_file_env_or_flags(void **state)
{
    (void)state;
    char *argv[] = {"musicgraph", NULL};
    int argc;
    char err[256];
    config cfg;
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:8080");
    assert_string_equal(cfg.env, "development");
    assert_string_equal(cfg.log_format, "text");
    assert_string_equal(cfg.log_level, "info");
    assert_string_equal(cfg.threads, "0");
    assert_string_equal(cfg.seed, "1");
    assert_string_equal(cfg.max_body, "1048576");
    assert_string_equal(cfg.shutdown_timeout, "10");
    assert_string_equal(cfg.state_dir, "./var");
    assert_string_equal(cfg.database_url, "sqlite://./var/musicgraph.db");
    assert_string_equal(config_sqlite_path(&cfg), "./var/musicgraph.db");
    assert_null(cfg.config_file);
    assert_int_equal(argc, 1);
    config_free(&cfg);
}

static void test_config_state_directory_from_systemd_is_used(void **state)
{
    (void)state;
    setenv("STATE_DIRECTORY", "/var/lib/musicgraph", 1);
    char *argv[] = {"musicgraph", NULL};
    int argc;
    char err[256];
    config cfg;
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), 0);
    assert_string_equal(cfg.state_dir, "/var/lib/musicgraph");
    assert_string_equal(cfg.database_url, "sqlite:///var/lib/musicgraph/musicgraph.db");
    assert_string_equal(config_sqlite_path(&cfg), "/var/lib/musicgraph/musicgraph.db");
    config_free(&cfg);
}

static void test_config_file_overrides_defaults(void **state)
{
    (void)state;
    const char *path = write_file("file.conf", "# comment\n"
                                               "\n"
                                               "  MUSICGRAPH_LISTEN = 0.0.0.0:9000  \n"
                                               "MUSICGRAPH_LOG_FORMAT=\"json\"\n"
                                               "MUSICGRAPH_STATE_DIR='/srv/mg'\n");
    char path_copy[512];
    snprintf(path_copy, sizeof path_copy, "%s", path);
    setenv("MUSICGRAPH_CONFIG", path_copy, 1);
    char *argv[] = {"musicgraph", NULL};
    int argc;
    char err[256];
    config cfg;
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), 0);
    assert_string_equal(cfg.listen, "0.0.0.0:9000");
    assert_string_equal(cfg.log_format, "json");
    assert_string_equal(cfg.state_dir, "/srv/mg");
    assert_string_equal(cfg.database_url, "sqlite:///srv/mg/musicgraph.db");
    assert_string_equal(cfg.env, "development"); /* untouched default */
    assert_string_equal(cfg.config_file, path_copy);
    config_free(&cfg);
}

static void test_config_environment_overrides_file(void **state)
{
    (void)state;
    const char *path = write_file("env.conf", "MUSICGRAPH_LISTEN=0.0.0.0:9000\nMUSICGRAPH_LOG_LEVEL=debug\n");
    char flag[600];
    snprintf(flag, sizeof flag, "--config=%s", path);
    setenv("MUSICGRAPH_LISTEN", "127.0.0.1:7000", 1);
    char *argv[] = {"musicgraph", flag, NULL};
    int argc;
    char err[256];
    config cfg;
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:7000");
    assert_string_equal(cfg.log_level, "debug");
    assert_int_equal(argc, 1); /* --config=… was consumed */
    config_free(&cfg);
}

static void test_config_flags_override_environment_and_file(void **state)
{
    (void)state;
    const char *path = write_file("flags.conf", "MUSICGRAPH_ENV=staging\nMUSICGRAPH_THREADS=2\n");
    char path_copy[512];
    snprintf(path_copy, sizeof path_copy, "%s", path);
    setenv("MUSICGRAPH_ENV", "development", 1);
    setenv("MUSICGRAPH_THREADS", "3", 1);
    char *argv[] = {"musicgraph", "--config", path_copy, "--env", "production", "--threads=4", NULL};
    int argc;
    char err[256];
    config cfg;
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), 0);
    assert_string_equal(cfg.env, "production");
    assert_string_equal(cfg.threads, "4");
    assert_int_equal(config_threads(&cfg), 4);
    assert_int_equal(argc, 1);
    config_free(&cfg);
}

static void test_config_removes_recognised_flags_and_keeps_the_rest(void **state)
{
    (void)state;
    char *argv[] = {"musicgraph",          "user",  "create",    "--listen", "1.2.3.4:5", "--admin",
                    "--state-dir=/tmp/sd", "alice", "--no-seed", "--",       "--env",     NULL};
    int argc;
    char err[256];
    config cfg;
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), 0);
    assert_string_equal(cfg.listen, "1.2.3.4:5");
    assert_string_equal(cfg.state_dir, "/tmp/sd");
    assert_string_equal(cfg.seed, "0");
    assert_string_equal(cfg.env, "development"); /* "--env" after "--" is not a flag */
    assert_int_equal(argc, 7);
    assert_string_equal(argv[0], "musicgraph");
    assert_string_equal(argv[1], "user");
    assert_string_equal(argv[2], "create");
    assert_string_equal(argv[3], "--admin");
    assert_string_equal(argv[4], "alice");
    assert_string_equal(argv[5], "--");
    assert_string_equal(argv[6], "--env");
    assert_null(argv[7]);
    config_free(&cfg);
}

static void test_config_flag_without_value_is_rejected(void **state)
{
    (void)state;
    char *argv[] = {"musicgraph", "serve", "--listen", NULL};
    int argc;
    char err[256];
    config cfg;
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), -1);
    assert_non_null(strstr(err, "--listen needs a value"));
    config_free(&cfg);
}

/* Expects config_load to fail with env var name=value set, and the message
 * to name both the setting and the offending value. */
static void expect_bad_env(const char *name, const char *value, const char *mentions)
{
    clear_env();
    setenv(name, value, 1);
    char *argv[] = {"musicgraph", NULL};
    int argc;
    char err[256];
    config cfg;
    if (load(&cfg, argv, &argc, err, sizeof err) != -1)
        fail_msg("%s=%s was accepted", name, value);
    if (!strstr(err, mentions))
        fail_msg("error for %s=%s does not mention '%s': %s", name, value, mentions, err);
    config_free(&cfg);
}

static void test_config_rejects_bad_values_with_clear_messages(void **state)
{
    (void)state;
    expect_bad_env("MUSICGRAPH_ENV", "prod", "MUSICGRAPH_ENV must be development, staging or production, not 'prod'");
    expect_bad_env("MUSICGRAPH_LOG_FORMAT", "xml", "MUSICGRAPH_LOG_FORMAT must be text or json, not 'xml'");
    expect_bad_env("MUSICGRAPH_THREADS", "abc", "MUSICGRAPH_THREADS");
    expect_bad_env("MUSICGRAPH_THREADS", "257", "'257'");
    expect_bad_env("MUSICGRAPH_THREADS", "-1", "'-1'");
    expect_bad_env("MUSICGRAPH_THREADS", "4x", "'4x'");
    expect_bad_env("MUSICGRAPH_MAX_BODY_BYTES", "100", "MUSICGRAPH_MAX_BODY_BYTES must be a number of at least 1024");
    expect_bad_env("MUSICGRAPH_MAX_BODY_BYTES", "", "MUSICGRAPH_MAX_BODY_BYTES");
    expect_bad_env("MUSICGRAPH_SHUTDOWN_TIMEOUT", "-5", "MUSICGRAPH_SHUTDOWN_TIMEOUT");
    expect_bad_env("MUSICGRAPH_DATABASE_URL", "mysql://x", "database URL must start with sqlite: or postgresql:");
}

static void test_config_bad_flag_value_is_rejected(void **state)
{
    (void)state;
    char *argv[] = {"musicgraph", "--log-format=yaml", NULL};
    int argc;
    char err[256];
    config cfg;
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), -1);
    assert_non_null(strstr(err, "not 'yaml'"));
    config_free(&cfg);
}

static void test_config_file_errors_name_file_and_line(void **state)
{
    (void)state;
    char *argv[] = {"musicgraph", NULL};
    int argc;
    char err[512];
    config cfg;

    const char *path = write_file("unknown.conf", "MUSICGRAPH_LISTEN=1:2\nMUSICGRAPH_LISTN=3:4\n");
    setenv("MUSICGRAPH_CONFIG", path, 1);
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown.conf:2: unknown setting MUSICGRAPH_LISTN"));
    config_free(&cfg);

    path = write_file("noeq.conf", "# ok\nMUSICGRAPH_LISTEN\n");
    setenv("MUSICGRAPH_CONFIG", path, 1);
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), -1);
    assert_non_null(strstr(err, "noeq.conf:2: expected KEY=VALUE"));
    config_free(&cfg);

    setenv("MUSICGRAPH_CONFIG", "/nonexistent/musicgraph.conf", 1);
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read config file /nonexistent/musicgraph.conf"));
    config_free(&cfg);
}

static void test_config_database_url_file_form(void **state)
{
    (void)state;
    const char *path = write_file("dburl", "sqlite:///tmp/from-file.db\nsecond line ignored\n");
    setenv("MUSICGRAPH_DATABASE_URL_FILE", path, 1);
    char *argv[] = {"musicgraph", NULL};
    int argc;
    char err[256];
    config cfg;
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), 0);
    assert_string_equal(cfg.database_url, "sqlite:///tmp/from-file.db");
    assert_string_equal(config_sqlite_path(&cfg), "/tmp/from-file.db");
    config_free(&cfg);

    /* The direct variable wins over the _FILE form. */
    setenv("MUSICGRAPH_DATABASE_URL", "sqlite:///tmp/direct.db", 1);
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), 0);
    assert_string_equal(cfg.database_url, "sqlite:///tmp/direct.db");
    config_free(&cfg);

    unsetenv("MUSICGRAPH_DATABASE_URL");
    setenv("MUSICGRAPH_DATABASE_URL_FILE", "/nonexistent/secret", 1);
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read /nonexistent/secret"));
    config_free(&cfg);
}

static void test_config_plain_database_url_is_accepted_but_prefixed_wins(void **state)
{
    (void)state;
    setenv("DATABASE_URL", "postgresql://db/musicgraph", 1);
    char *argv[] = {"musicgraph", NULL};
    int argc;
    char err[256];
    config cfg;
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), 0);
    assert_string_equal(cfg.database_url, "postgresql://db/musicgraph");
    assert_null(config_sqlite_path(&cfg));
    config_free(&cfg);

    setenv("MUSICGRAPH_DATABASE_URL", "sqlite:///tmp/prefixed.db", 1);
    assert_int_equal(load(&cfg, argv, &argc, err, sizeof err), 0);
    assert_string_equal(cfg.database_url, "sqlite:///tmp/prefixed.db");
    config_free(&cfg);

    char *argv2[] = {"musicgraph", "--database-url", "sqlite:///tmp/flag.db", NULL};
    assert_int_equal(load(&cfg, argv2, &argc, err, sizeof err), 0);
    assert_string_equal(cfg.database_url, "sqlite:///tmp/flag.db");
    config_free(&cfg);
}

static void test_config_long_parses_whole_numbers_only(void **state)
{
    (void)state;
    assert_int_equal(config_long("42", -1), 42);
    assert_int_equal(config_long("-7", 0), -7);
    assert_int_equal(config_long("", 5), 5);
    assert_int_equal(config_long(NULL, 5), 5);
    assert_int_equal(config_long("12abc", 5), 5);
    assert_int_equal(config_long("99999999999999999999999", 5), 5);
}

/* ------------------------------------------------------- sha256, gzip, fs */

static void test_sha256_hex_matches_the_standard_vectors(void **state)
{
    (void)state;
    char out[SHA256_HEX_SIZE];
    sha256_hex("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* Compresses text with gzip_compress; the caller frees *gz. */
static size_t compressed(const char *text, char **gz)
{
    size_t len;
    assert_int_equal(gzip_compress(text, strlen(text), 6, gz, &len), 0);
    assert_true(gzip_is(*gz, len));
    return len;
}

static void test_gzip_round_trips_and_refuses_damage(void **state)
{
    (void)state;
    const char *text = "genres and bands, genres and bands, genres and bands";
    char *gz, *out, err[256];
    size_t gzlen = compressed(text, &gz), outlen;
    assert_int_equal(gzip_inflate("x.gz", gz, gzlen, 1 << 20, 0, &out, &outlen, err, sizeof err), 0);
    assert_int_equal(outlen, strlen(text));
    assert_string_equal(out, text);
    free(out);
    /* Cut short: refused whole, accepted as a head with partial. */
    assert_int_equal(gzip_inflate("x.gz", gz, gzlen - 6, 1 << 20, 0, &out, &outlen, err, sizeof err), -1);
    assert_non_null(strstr(err, "x.gz is truncated"));
    assert_int_equal(gzip_inflate("x.gz", gz, gzlen - 6, 1 << 20, 1, &out, &outlen, err, sizeof err), 0);
    free(out);
    /* Bytes after the end of the stream. */
    char *longer = malloc(gzlen + 3);
    memcpy(longer, gz, gzlen);
    memcpy(longer + gzlen, "xyz", 3);
    assert_int_equal(gzip_inflate("x.gz", longer, gzlen + 3, 1 << 20, 0, &out, &outlen, err, sizeof err), -1);
    assert_non_null(strstr(err, "unexpected data after the end"));
    free(longer);
    /* A damaged byte in the middle. */
    gz[gzlen / 2] ^= 0x55;
    assert_int_equal(gzip_inflate("x.gz", gz, gzlen, 1 << 20, 0, &out, &outlen, err, sizeof err), -1);
    assert_true(strstr(err, "x.gz is corrupt") || strstr(err, "x.gz is truncated"));
    free(gz);
    assert_false(gzip_is("{}", 2));
}

/* A JSON-like document of n records, record k carrying label[k]; *cuts
 * (malloc'd) after every 40th record, as a writer cuts between nodes. */
static char *records(size_t n, const char *const *label, size_t **cuts, size_t *ncuts, size_t *len)
{
    buf b = BUF_INIT;
    *cuts = calloc(n / 40 + 1, sizeof **cuts);
    *ncuts = 0;
    buf_puts(&b, "{\"nodes\":[");
    for (size_t k = 0; k < n; k++) {
        buf_printf(&b, "%s{\"id\":\"node-%zu\",\"name\":\"%s\",\"x\":%zu.%02zu,\"y\":-%zu.5}", k ? "," : "", k,
                   label[k], (k * 7919) % 1000, k % 97, (k * 104729) % 5000);
        if (k % 40 == 39 && k + 1 < n)
            (*cuts)[(*ncuts)++] = b.len;
    }
    buf_puts(&b, "]}");
    assert_false(buf_failed(&b));
    return buf_steal(&b, len);
}

/* Inflates a gzip member and asserts it is exactly data. */
static void assert_inflates_to(const char *gz, size_t gzlen, const char *data, size_t len)
{
    char *out, err[256];
    size_t outlen;
    assert_int_equal(gzip_inflate("pieces.gz", gz, gzlen, 64u << 20, 0, &out, &outlen, err, sizeof err), 0);
    assert_int_equal(outlen, len);
    assert_memory_equal(out, data, len);
    free(out);
}

static void test_gzip_pieces_reuse_what_did_not_change(void **state)
{
    (void)state;
    enum { N = 4000 };
    static const char *label[N], *renamed[N];
    for (size_t k = 0; k < N; k++)
        label[k] = renamed[k] = k % 3 ? "Heavy metal" : "Dream pop";
    size_t *cuts, ncuts, len;
    char *doc = records(N, label, &cuts, &ncuts, &len);
    assert_true(ncuts > 50 && len > 200000);

    /* One version alone: one valid gzip member, about as small as a single
     * stream (each piece is primed with the bytes before it). */
    char *gz;
    size_t gzlen, np, reused = 99;
    gzip_piece *ps;
    assert_int_equal(gzip_compress_pieces(doc, len, cuts, ncuts, 4, NULL, &gz, &gzlen, &ps, &np, &reused), 0);
    assert_int_equal(np, ncuts + 1);
    assert_int_equal(reused, 0);
    assert_true(gzip_is(gz, gzlen));
    assert_inflates_to(gz, gzlen, doc, len);
    char *whole;
    size_t wholelen;
    assert_int_equal(gzip_compress(doc, len, 4, &whole, &wholelen), 0);
    assert_true(gzlen < wholelen + wholelen / 20);
    free(whole);

    /* The next version renames one record in the middle, to a longer name:
     * the pieces after it moved but kept their bytes. Only the piece that
     * changed, those whose 32 KiB window sees the change, and the last piece
     * (it ends the stream) are compressed again. */
    renamed[N / 2] = "Dream pop (with a much longer name than before)";
    size_t *cuts2, ncuts2, len2;
    char *doc2 = records(N, renamed, &cuts2, &ncuts2, &len2);
    assert_int_equal(ncuts2, ncuts);
    gzip_pieced base = {doc, len, gz, gzlen, ps, np};
    char *gz2;
    size_t gzlen2, np2, reused2;
    gzip_piece *ps2;
    assert_int_equal(gzip_compress_pieces(doc2, len2, cuts2, ncuts2, 4, &base, &gz2, &gzlen2, &ps2, &np2, &reused2), 0);
    assert_inflates_to(gz2, gzlen2, doc2, len2);
    size_t piece_len = len / np, window_pieces = 32768 / piece_len + 1;
    assert_true(reused2 >= np2 - (window_pieces + 3));
    assert_true(reused2 < np2 - 1);

    /* The same version again reuses every piece but the last. */
    gzip_pieced base2 = {doc2, len2, gz2, gzlen2, ps2, np2};
    char *gz3;
    size_t gzlen3, np3, reused3;
    gzip_piece *ps3;
    assert_int_equal(gzip_compress_pieces(doc2, len2, cuts2, ncuts2, 4, &base2, &gz3, &gzlen3, &ps3, &np3, &reused3), 0);
    assert_int_equal(reused3, np3 - 1);
    assert_int_equal(gzlen3, gzlen2);
    assert_memory_equal(gz3, gz2, gzlen2);

    /* A document cut nowhere is one piece; cuts out of order or out of
     * range are refused. */
    char *gz4;
    size_t gzlen4, np4;
    gzip_piece *ps4;
    assert_int_equal(gzip_compress_pieces(doc, len, NULL, 0, 4, &base2, &gz4, &gzlen4, &ps4, &np4, NULL), 0);
    assert_int_equal(np4, 1);
    assert_inflates_to(gz4, gzlen4, doc, len);
    free(gz4), free(ps4);
    size_t bad[][2] = {{10, 10}, {20, 10}, {0, 10}, {10, len}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        assert_int_equal(gzip_compress_pieces(doc, len, bad[k], 2, 4, NULL, &gz4, &gzlen4, &ps4, &np4, NULL), -1);

    free(gz3), free(ps3), free(gz2), free(ps2), free(gz), free(ps);
    free(doc2), free(cuts2), free(doc), free(cuts);
}

static void test_gzip_inflate_stops_at_its_limit(void **state)
{
    (void)state;
    size_t n = 4u << 20; /* 4 MiB of one letter compress to a few KiB */
    char *zeros = calloc(1, n + 1), *gz, *out, err[256];
    size_t gzlen, outlen;
    memset(zeros, 'a', n);
    assert_int_equal(gzip_compress(zeros, n, 6, &gz, &gzlen), 0);
    assert_true(gzlen < 64 * 1024);
    assert_int_equal(gzip_inflate("bomb.gz", gz, gzlen, 1u << 20, 0, &out, &outlen, err, sizeof err), -1);
    assert_string_equal(err, "bomb.gz decompresses to more than 1 MiB: refusing it");
    /* partial: the first bytes, up to the limit, are enough (a manifest). */
    assert_int_equal(gzip_inflate("bomb.gz", gz, gzlen, 1000, 1, &out, &outlen, err, sizeof err), 0);
    assert_true(outlen >= 1000 && outlen <= 1001 && out[0] == 'a');
    free(out);
    free(gz);
    free(zeros);
}

static int write_two_pieces(int fd, void *ctx)
{
    (void)ctx;
    return fs_write_all(fd, "one,", 4) || fs_write_all(fd, "two", 3) ? -1 : 0;
}

static int fail_writing(int fd, void *ctx)
{
    (void)fd;
    (void)ctx;
    errno = ENOSPC;
    return -1;
}

/* Names of the files in dir, sorted, comma-separated. */
static void list_dir(const char *dir, char *out, size_t len)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | tr '\\n' ,", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    pclose(p);
}

static void test_fs_atomic_writes_replace_whole_files_and_leave_nothing_on_failure(void **state)
{
    (void)state;
    char dir[300], path[400], err[512], names[256];
    snprintf(dir, sizeof dir, "%s/atomic", tmpdir);
    assert_int_equal(fs_make_dirs(dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/key", dir);
    assert_int_equal(fs_write_atomic(path, "first", 5, 0600, err, sizeof err), 0);
    assert_int_equal(fs_write_atomic(path, "second", 6, 0600, err, sizeof err), 0);
    unsigned char *data;
    size_t len, size;
    assert_int_equal(fs_read_file(path, 100, &data, &len, &size, err, sizeof err), 0);
    assert_string_equal((char *)data, "second");
    free(data);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A writer that fails: the old file stays, no temporary file is left. */
    assert_int_equal(fs_write_atomic_with(path, 0600, fail_writing, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "nothing was written"));
    list_dir(dir, names, sizeof names);
    assert_string_equal(names, "key,");
    /* Publishing without replacing: a taken name is reported, not overwritten. */
    char tmp[500], final[500];
    assert_int_equal(fs_write_temp(dir, 0640, write_two_pieces, NULL, tmp, sizeof tmp, err, sizeof err), 0);
    assert_int_equal(fs_publish(tmp, dir, "key", 0, final, sizeof final, err, sizeof err), MG_ERR_EXISTS);
    assert_int_equal(fs_publish(tmp, dir, "other", 0, final, sizeof final, err, sizeof err), 0);
    assert_string_equal(final + strlen(dir), "/other");
    assert_int_equal(fs_read_file(final, 2, &data, &len, &size, err, sizeof err), 0);
    assert_int_equal(len, 2); /* only the first max bytes */
    assert_int_equal(size, 7);
    assert_memory_equal(data, "on", 2);
    free(data);
    list_dir(dir, names, sizeof names);
    assert_string_equal(names, "key,other,");
    /* A path that names a directory is refused. */
    snprintf(path, sizeof path, "%s/", dir);
    assert_int_equal(fs_write_atomic(path, "x", 1, 0600, err, sizeof err), -1);
    assert_non_null(strstr(err, "names a directory"));
}

static void test_net_parse_listen_accepts_the_documented_forms(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len;
    char err[256];
    assert_int_equal(net_parse_listen("127.0.0.1:8080", &ss, &len, err, sizeof err), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8080);
    assert_int_equal(net_parse_listen(":80", &ss, &len, err, sizeof err), 0);
    assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(INADDR_ANY));
    assert_int_equal(net_parse_listen("localhost:1", &ss, &len, err, sizeof err), 0);
    assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    assert_int_equal(net_parse_listen("[::1]:8443", &ss, &len, err, sizeof err), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    assert_int_equal(net_parse_listen("8080", &ss, &len, err, sizeof err), -1);
    assert_string_equal(err, "listen address '8080' must be HOST:PORT");
    assert_int_equal(net_parse_listen("host:99999", &ss, &len, err, sizeof err), -1);
    assert_string_equal(err, "listen port in 'host:99999' must be a number from 0 to 65535");
    assert_int_equal(net_parse_listen("example.org:80", &ss, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not an IPv4 address"));
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/mg-test-core-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_appends_build_one_nul_terminated_string),
        cmocka_unit_test(test_buf_grows_past_many_reallocations),
        cmocka_unit_test(test_buf_steal_hands_over_bytes_and_resets),
        cmocka_unit_test(test_buf_reset_keeps_capacity_and_empties),
        cmocka_unit_test(test_json_escapes_quotes_backslashes_and_control_characters),
        cmocka_unit_test(test_json_escapes_html_specials_so_documents_embed_anywhere),
        cmocka_unit_test(test_json_escapes_unicode_line_separators),
        cmocka_unit_test(test_json_replaces_invalid_utf8_with_replacement_character),
        cmocka_unit_test(test_json_keeps_valid_multibyte_text_unchanged),
        cmocka_unit_test(test_json_commas_in_nested_objects_and_arrays),
        cmocka_unit_test(test_json_numbers_extremes_and_non_finite_doubles),
        cmocka_unit_test(test_json_keys_are_escaped_like_values),
        cmocka_unit_test(test_json_output_round_trips_through_jansson),
        cmocka_unit_test(test_json_nesting_beyond_max_depth_marks_buffer_failed),
        cmocka_unit_test(test_utf8_valid_accepts_well_formed_sequences),
        cmocka_unit_test(test_utf8_valid_rejects_overlong_encodings),
        cmocka_unit_test(test_utf8_valid_rejects_surrogates_and_out_of_range),
        cmocka_unit_test(test_utf8_valid_rejects_truncated_and_stray_bytes),
        cmocka_unit_test(test_has_control_finds_c0_c1_and_del),
        cmocka_unit_test(test_utf8_length_counts_code_points_not_bytes),
        cmocka_unit_test(test_fold_removes_latin_accents_and_lowercases),
        cmocka_unit_test(test_fold_lowercases_ascii_and_keeps_punctuation),
        cmocka_unit_test(test_fold_spells_undecomposable_letters_in_ascii),
        cmocka_unit_test(test_fold_case_folds_other_scripts),
        cmocka_unit_test(test_fold_keeps_other_scripts_and_drops_invalid_bytes),
        cmocka_unit_test(test_html_escape_escapes_the_five_specials),
        cmocka_unit_test(test_url_decode_decodes_escapes_and_plus),
        cmocka_unit_test(test_url_decode_rejects_malformed_escapes),
        cmocka_unit_test(test_url_decode_respects_length_not_nul),
        cmocka_unit_test(test_strmap_put_get_and_replace),
        cmocka_unit_test(test_strmap_grows_and_keeps_every_key),
        cmocka_unit_test(test_strmap_zeroed_map_finds_nothing),
        cmocka_unit_test_setup_teardown(test_config_defaults_without_file_env_or_flags, config_setup, config_teardown),
        cmocka_unit_test_setup_teardown(test_config_state_directory_from_systemd_is_used, config_setup,
                                        config_teardown),
        cmocka_unit_test_setup_teardown(test_config_file_overrides_defaults, config_setup, config_teardown),
        cmocka_unit_test_setup_teardown(test_config_environment_overrides_file, config_setup, config_teardown),
        cmocka_unit_test_setup_teardown(test_config_flags_override_environment_and_file, config_setup, config_teardown),
        cmocka_unit_test_setup_teardown(test_config_removes_recognised_flags_and_keeps_the_rest, config_setup,
                                        config_teardown),
        cmocka_unit_test_setup_teardown(test_config_flag_without_value_is_rejected, config_setup, config_teardown),
        cmocka_unit_test_setup_teardown(test_config_rejects_bad_values_with_clear_messages, config_setup,
                                        config_teardown),
        cmocka_unit_test_setup_teardown(test_config_bad_flag_value_is_rejected, config_setup, config_teardown),
        cmocka_unit_test_setup_teardown(test_config_file_errors_name_file_and_line, config_setup, config_teardown),
        cmocka_unit_test_setup_teardown(test_config_database_url_file_form, config_setup, config_teardown),
        cmocka_unit_test_setup_teardown(test_config_plain_database_url_is_accepted_but_prefixed_wins, config_setup,
                                        config_teardown),
        cmocka_unit_test(test_config_long_parses_whole_numbers_only),
        cmocka_unit_test(test_sha256_hex_matches_the_standard_vectors),
        cmocka_unit_test(test_gzip_round_trips_and_refuses_damage),
        cmocka_unit_test(test_gzip_inflate_stops_at_its_limit),
        cmocka_unit_test(test_gzip_pieces_reuse_what_did_not_change),
        cmocka_unit_test(test_fs_atomic_writes_replace_whole_files_and_leave_nothing_on_failure),
        cmocka_unit_test(test_net_parse_listen_accepts_the_documented_forms),
    };
    int failed = cmocka_run_group_tests_name("core", tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return failed ? 1 : 0;
}
