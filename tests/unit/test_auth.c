/*
 * test_auth.c — passwords, session tokens, CSRF comparison and the account
 * rules (src/core/password.h, src/api/auth.h, src/domain/user.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/auth.h"
#include "core/password.h"
#include "domain/user.h"

#include <sodium.h>
#include <string.h>

static void test_password_hash_is_argon2id_and_verifies(void **state)
{
    (void)state;
    char hash[256];
    assert_int_equal(password_hash("correct horse battery", hash, sizeof hash), 0);
    assert_memory_equal(hash, "$argon2id$", 10);
    assert_true(password_verify(hash, "correct horse battery"));
    assert_false(password_verify(hash, "correct horse batterY"));
    assert_false(password_verify(hash, ""));
    assert_false(password_verify("not a hash", "correct horse battery"));
    /* What import asks of a hash from a file nobody vouches for. */
    assert_true(password_usable(hash));
    assert_true(password_usable("$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"));
    assert_false(password_usable("!anonymized"));
    assert_false(password_usable(""));
    assert_false(password_usable("$argon2"));
    assert_false(password_verify("!anonymized", ""));
}

static void test_password_hashes_are_salted(void **state)
{
    (void)state;
    char a[256], b[256];
    assert_int_equal(password_hash("same password 1", a, sizeof a), 0);
    assert_int_equal(password_hash("same password 1", b, sizeof b), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(password_hash("x", a, 10), -1); /* buffer too small */
}

static void test_generated_passwords_are_long_random_and_plain(void **state)
{
    (void)state;
    char a[21], b[21];
    password_generate(a, sizeof a);
    password_generate(b, sizeof b);
    assert_int_equal(strlen(a), 20);
    assert_string_not_equal(a, b);
    for (const char *p = a; *p; p++)
        assert_non_null(strchr("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", *p));
    domain_errors errs = {0};
    user_check_password(a, &errs);
    assert_int_equal(errs.count, 0);
}

static void test_session_tokens_are_random_and_url_safe(void **state)
{
    (void)state;
    char a[AUTH_TOKEN_CHARS], b[AUTH_TOKEN_CHARS];
    auth_random_token(a, sizeof a);
    auth_random_token(b, sizeof b);
    assert_int_equal(strlen(a), AUTH_TOKEN_CHARS - 1);
    assert_string_not_equal(a, b);
    for (const char *p = a; *p; p++)
        assert_true((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                    *p == '_');
}

static void test_token_hash_depends_on_the_secret(void **state)
{
    (void)state;
    unsigned char k1[32] = {1}, k2[32] = {2};
    char h1[AUTH_HASH_CHARS], h1b[AUTH_HASH_CHARS], h2[AUTH_HASH_CHARS], other[AUTH_HASH_CHARS];
    auth_token_hash(k1, "token-value", h1);
    auth_token_hash(k1, "token-value", h1b);
    auth_token_hash(k2, "token-value", h2);
    auth_token_hash(k1, "token-valuf", other);
    assert_string_equal(h1, h1b);
    assert_string_not_equal(h1, h2);
    assert_string_not_equal(h1, other);
    assert_int_equal(strlen(h1), 64);
    assert_null(strstr(h1, "token"));
}

static void test_csrf_comparison(void **state)
{
    (void)state;
    assert_true(auth_csrf_matches("abcDEF123", "abcDEF123"));
    assert_false(auth_csrf_matches("abcDEF123", "abcDEF124"));
    assert_false(auth_csrf_matches("abcDEF123", "abcDEF12"));
    assert_false(auth_csrf_matches("abcDEF123", "abcDEF1234"));
    assert_false(auth_csrf_matches("abcDEF123", NULL));
    assert_false(auth_csrf_matches("abcDEF123", ""));
    assert_false(auth_csrf_matches("", "")); /* an empty token never matches */
}

static size_t errors_for(void (*check)(const char *, domain_errors *), const char *value)
{
    domain_errors errs = {0};
    check(value, &errs);
    size_t n = errs.count;
    domain_errors_free(&errs);
    return n;
}

static void test_account_rules(void **state)
{
    (void)state;
    assert_int_equal(errors_for(user_check_username, "alice"), 0);
    assert_int_equal(errors_for(user_check_username, "a.b-c_d"), 0);
    assert_int_equal(errors_for(user_check_username, "ab"), 1);
    assert_int_equal(errors_for(user_check_username, "has space"), 1);
    assert_int_equal(errors_for(user_check_username, "émile"), 1);
    assert_int_equal(errors_for(user_check_username, NULL), 1);
    char long_name[82];
    memset(long_name, 'a', 81);
    long_name[81] = '\0';
    assert_int_equal(errors_for(user_check_username, long_name), 1);
    assert_int_equal(errors_for(user_check_email, "a@b.example"), 0);
    assert_int_equal(errors_for(user_check_email, "no-at-sign"), 1);
    assert_int_equal(errors_for(user_check_email, "@host"), 1);
    assert_int_equal(errors_for(user_check_email, "a@b@c"), 1);
    assert_int_equal(errors_for(user_check_email, "a <b>@c"), 1);
    assert_int_equal(errors_for(user_check_password, "ten chars!"), 0);
    assert_int_equal(errors_for(user_check_password, "nine char"), 1);
    assert_int_equal(errors_for(user_check_password, "\xff\xfe invalid utf8"), 1);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_hash_is_argon2id_and_verifies),
        cmocka_unit_test(test_password_hashes_are_salted),
        cmocka_unit_test(test_generated_passwords_are_long_random_and_plain),
        cmocka_unit_test(test_session_tokens_are_random_and_url_safe),
        cmocka_unit_test(test_token_hash_depends_on_the_secret),
        cmocka_unit_test(test_csrf_comparison),
        cmocka_unit_test(test_account_rules),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL) ? 1 : 0;
}
