/*
 * test_acme.c — the ACME client's pieces that need no CA (src/ops/acme*.c):
 * the ES256 signature verifies with the account's public key, the JWK is
 * in RFC 7638 order, the account key is kept 0600 and reloaded, the CSR
 * names every domain and is signed by the certificate key, and the parsers
 * refuse what a hostile CA could send (a token that is a path, a URL that
 * is not http(s), a chain with a key in it). The whole protocol runs
 * against a real CA in tests/e2e/acme.test.mjs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ops/acme.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mg-acme-unit-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static size_t unb64(const char *s, unsigned char *out, size_t cap)
{
    size_t len = 0;
    assert_int_equal(
        sodium_base642bin(out, cap, s, strlen(s), NULL, &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
    return len;
}

static EVP_PKEY *account(int *created)
{
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/account.key", dir);
    EVP_PKEY *key = acme_account_key(path, created, err, sizeof err);
    assert_non_null(key);
    return key;
}

static void test_account_key_is_private_and_kept(void **state)
{
    (void)state;
    int created;
    EVP_PKEY *first = account(&created);
    assert_int_equal(created, 1);
    char path[128];
    snprintf(path, sizeof path, "%s/account.key", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    EVP_PKEY *again = account(&created);
    assert_int_equal(created, 0);
    char jwk1[256], jwk2[256], t1[64], t2[64];
    assert_int_equal(acme_jwk(first, jwk1, sizeof jwk1, t1, sizeof t1), 0);
    assert_int_equal(acme_jwk(again, jwk2, sizeof jwk2, t2, sizeof t2), 0);
    assert_string_equal(jwk1, jwk2);
    assert_string_equal(t1, t2);
    /* RFC 7638: required members only, in lexicographic order, no spaces. */
    static const char prefix[] = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"";
    assert_true(strncmp(jwk1, prefix, sizeof prefix - 1) == 0);
    assert_null(strchr(jwk1, ' '));
    unsigned char digest[32];
    crypto_hash_sha256(digest, (const unsigned char *)jwk1, strlen(jwk1));
    char *expected = acme_b64url(digest, sizeof digest);
    assert_string_equal(t1, expected);
    free(expected);
    EVP_PKEY_free(first);
    EVP_PKEY_free(again);
}

static void test_a_key_of_another_kind_is_refused(void **state)
{
    (void)state;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/rsa.key", dir);
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    FILE *f = fopen(path, "w");
    PEM_write_PrivateKey(f, rsa, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    EVP_PKEY_free(rsa);
    int created;
    assert_null(acme_account_key(path, &created, err, sizeof err));
    assert_non_null(strstr(err, "not a P-256 private key"));
}

static void test_es256_signature_verifies(void **state)
{
    (void)state;
    int created;
    EVP_PKEY *key = account(&created);
    char err[256];
    const char input[] = "eyJhbGciOiJFUzI1NiJ9.eyJ0ZXJtc09mU2VydmljZUFncmVlZCI6dHJ1ZX0";
    char *sig = acme_es256(key, input, strlen(input), err, sizeof err);
    assert_non_null(sig);
    unsigned char raw[64];
    assert_int_equal(unb64(sig, raw, sizeof raw), 64);
    /* Back to DER, as OpenSSL verifies it. */
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
    unsigned char *der = NULL;
    int derlen = i2d_ECDSA_SIG(es, &der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestVerify(md, der, (size_t)derlen, (const unsigned char *)input, strlen(input)), 1);
    /* and not for anything else */
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_not_equal(EVP_DigestVerify(md, der, (size_t)derlen, (const unsigned char *)input, strlen(input) - 1), 1);
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    free(sig);
    EVP_PKEY_free(key);
}

static void test_csr_names_every_domain(void **state)
{
    (void)state;
    const char *names[] = {"musicgraph.example.org", "www.musicgraph.example.org"};
    char *key_pem, *csr, err[256];
    assert_int_equal(acme_make_csr(names, 2, &key_pem, &csr, err, sizeof err), 0);
    unsigned char der[2048];
    size_t len = unb64(csr, der, sizeof der);
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
    assert_non_null(req);
    BIO *b = BIO_new_mem_buf(key_pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(key);
    assert_int_equal(X509_REQ_verify(req, key), 1);
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    GENERAL_NAMES *sans = NULL;
    for (int i = 0; i < sk_X509_EXTENSION_num(exts) && !sans; i++)
        if (OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, i))) == NID_subject_alt_name)
            sans = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, i));
    assert_non_null(sans);
    assert_int_equal(sk_GENERAL_NAME_num(sans), 2);
    for (int i = 0; i < 2; i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        assert_int_equal(gn->type, GEN_DNS);
        assert_string_equal((const char *)ASN1_STRING_get0_data(gn->d.dNSName), names[i]);
    }
    GENERAL_NAMES_free(sans);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    EVP_PKEY_free(key);
    X509_REQ_free(req);
    free(key_pem);
    free(csr);
}

static void test_parsers_refuse_hostile_answers(void **state)
{
    (void)state;
    char err[512];
    acme_authz a;
    const char *traversal = "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
                            "\"challenges\":[{\"type\":\"http-01\",\"url\":\"https://ca/c\",\"status\":\"pending\","
                            "\"token\":\"../../secret_key\"}]}";
    assert_int_equal(acme_parse_authorization(traversal, strlen(traversal), "http-01", &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"token\""));
    const char *good = "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
                       "\"challenges\":[{\"type\":\"dns-01\",\"url\":\"https://ca/d\",\"status\":\"pending\","
                       "\"token\":\"x\"},{\"type\":\"http-01\",\"url\":\"https://ca/c\",\"status\":\"pending\","
                       "\"token\":\"DGyRejmCefe7v4NfDGDKfA\"}]}";
    assert_int_equal(acme_parse_authorization(good, strlen(good), "http-01", &a, err, sizeof err), 0);
    assert_string_equal(a.challenge_url, "https://ca/c");
    assert_string_equal(a.token, "DGyRejmCefe7v4NfDGDKfA");
    assert_string_equal(a.name, "a.test");

    acme_directory d;
    const char *dir_js = "{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\",\"newOrder\":\"file:///etc\"}";
    assert_int_equal(acme_parse_directory(dir_js, strlen(dir_js), &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "newOrder"));
    assert_int_equal(acme_parse_directory("[1]", 3, &d, err, sizeof err), -1);

    acme_order o;
    const char *order = "{\"status\":\"ready\",\"finalize\":\"https://ca/f\",\"authorizations\":[\"https://ca/1\",7]}";
    assert_int_equal(acme_parse_order(order, strlen(order), &o, err, sizeof err), -1);

    char text[128];
    const char *problem = "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"too\\nmany\"}";
    acme_problem_text(problem, strlen(problem), text, sizeof text);
    assert_string_equal(text, "rateLimited: too many");
    acme_problem_text("<html>", 6, text, sizeof text);
    assert_string_equal(text, "");
}

static void test_a_chain_with_a_key_or_for_another_name_is_refused(void **state)
{
    (void)state;
    char cmd[512], path[128], err[256];
    snprintf(path, sizeof path, "%s/chain.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s/k.pem -out %s -days 1 "
             "-subj /CN=a.test -addext subjectAltName=DNS:a.test 2>/dev/null",
             dir, path);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(path, "r");
    char pem[8192];
    size_t n = fread(pem, 1, sizeof pem - 1, f);
    fclose(f);
    pem[n] = '\0';
    acme_cert_info info;
    const char *mine[] = {"a.test"}, *other[] = {"b.test"};
    assert_int_equal(acme_chain_check(pem, n, mine, 1, &info, err, sizeof err), 0);
    assert_int_equal(info.certificates, 1);
    assert_true(info.not_after - info.not_before == 86400);
    assert_int_equal(acme_chain_check(pem, n, other, 1, &info, err, sizeof err), -1);
    assert_non_null(strstr(err, "not valid for b.test"));
    /* The CA must never send a private key along. */
    snprintf(path, sizeof path, "%s/k.pem", dir);
    f = fopen(path, "r");
    n += fread(pem + n, 1, sizeof pem - 1 - n, f);
    fclose(f);
    pem[n] = '\0';
    assert_int_equal(acme_chain_check(pem, n, mine, 1, &info, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a certificate"));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_key_is_private_and_kept),
        cmocka_unit_test(test_a_key_of_another_kind_is_refused),
        cmocka_unit_test(test_es256_signature_verifies),
        cmocka_unit_test(test_csr_names_every_domain),
        cmocka_unit_test(test_parsers_refuse_hostile_answers),
        cmocka_unit_test(test_a_chain_with_a_key_or_for_another_name_is_refused),
    };
    return cmocka_run_group_tests_name("acme", tests, setup, teardown) ? 1 : 0;
}
