/* test_content.c - delivery packages encrypted as a stream under their own key, the key sealed
 * to each eligible test taker. */
#include "testutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/content.h"

static const char *DELIVERY = "5d1c0e9a-7b7e-4b1e-9a55-0c2f7d3e8a11";

static FILE *file_of(const unsigned char *data, size_t len)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    rewind(f);
    return f;
}

/* The whole content of `f` (malloc'ed; caller frees). */
static unsigned char *contents(FILE *f, size_t *len)
{
    fflush(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *p = malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    return p;
}

static unsigned char *encrypt_bytes(const unsigned char *plain, size_t len,
                                    const unsigned char key[32], size_t *outlen)
{
    FILE *in = file_of(plain, len), *out = tmpfile();
    struct op_err e = {0};
    if (content_encrypt(in, out, key, DELIVERY, &e) != 0)
        fail_msg("encrypt: %s", e.msg);
    unsigned char *c = contents(out, outlen);
    fclose(in);
    fclose(out);
    return c;
}

/* Decrypts; returns the status and, on success, the plaintext in *plain. */
static int decrypt_bytes(const unsigned char *c, size_t clen, const unsigned char key[32],
                         const char *delivery, unsigned char **plain, size_t *plen,
                         struct op_err *e)
{
    FILE *in = file_of(c, clen), *out = tmpfile();
    int rc = content_decrypt(in, out, key, delivery, e);
    *plain = contents(out, plen);
    fclose(in);
    fclose(out);
    return rc;
}

static void test_packages_of_every_size_round_trip(void **state)
{
    (void)state;
    const size_t sizes[] = {0,
                            1,
                            CONTENT_CHUNK_BYTES - 1,
                            CONTENT_CHUNK_BYTES,
                            CONTENT_CHUNK_BYTES + 1,
                            3 * CONTENT_CHUNK_BYTES + 5};
    unsigned char key[32];
    content_key_generate(key);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *plain = malloc(sizes[i] + 1);
        randombytes_buf(plain, sizes[i]);
        size_t clen, plen;
        unsigned char *c = encrypt_bytes(plain, sizes[i], key, &clen);
        size_t chunks = sizes[i] ? (sizes[i] + CONTENT_CHUNK_BYTES - 1) / CONTENT_CHUNK_BYTES : 1;
        assert_int_equal(clen, CONTENT_HEADER_BYTES + sizes[i] + chunks * CONTENT_CHUNK_OVERHEAD);
        assert_memory_equal(c, CONTENT_MAGIC, CONTENT_MAGIC_BYTES);
        unsigned char *back;
        struct op_err e = {0};
        assert_int_equal(decrypt_bytes(c, clen, key, DELIVERY, &back, &plen, &e), 0);
        assert_int_equal(plen, sizes[i]);
        if (sizes[i])
            assert_memory_equal(back, plain, sizes[i]);
        free(plain);
        free(c);
        free(back);
    }
}

static void test_wrong_key_or_other_delivery_does_not_decrypt(void **state)
{
    (void)state;
    unsigned char key[32], other[32], plain[1000];
    content_key_generate(key);
    content_key_generate(other);
    randombytes_buf(plain, sizeof plain);
    size_t clen, plen;
    unsigned char *c = encrypt_bytes(plain, sizeof plain, key, &clen), *back;
    struct op_err e = {0};
    assert_int_equal(decrypt_bytes(c, clen, other, DELIVERY, &back, &plen, &e), OP_ECRYPTO);
    assert_int_equal(plen, 0); /* nothing unauthenticated was written */
    free(back);
    assert_int_equal(decrypt_bytes(c, clen, key, "another-delivery", &back, &plen, &e), OP_ECRYPTO);
    assert_non_null(strstr(e.msg, "does not verify"));
    free(back);
    free(c);
}

static void test_truncated_altered_or_extended_package_is_refused(void **state)
{
    (void)state;
    unsigned char key[32];
    content_key_generate(key);
    size_t len = 2 * CONTENT_CHUNK_BYTES + 100, clen, plen;
    unsigned char *plain = malloc(len);
    randombytes_buf(plain, len);
    unsigned char *c = encrypt_bytes(plain, len, key, &clen), *back;
    struct op_err e = {0};
    /* cut at the header, inside a chunk, and exactly at each chunk boundary */
    const size_t cuts[] = {0,
                           10,
                           CONTENT_HEADER_BYTES,
                           CONTENT_HEADER_BYTES + 100,
                           CONTENT_HEADER_BYTES + CONTENT_CHUNK_BYTES + CONTENT_CHUNK_OVERHEAD,
                           CONTENT_HEADER_BYTES +
                               2 * (CONTENT_CHUNK_BYTES + CONTENT_CHUNK_OVERHEAD),
                           clen - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        int rc = decrypt_bytes(c, cuts[i], key, DELIVERY, &back, &plen, &e);
        assert_true(rc == OP_ECRYPTO || rc == OP_EINPUT);
        free(back);
    }
    /* one flipped bit in the header, in a middle chunk and in the last chunk */
    const size_t flips[] = {3, 20, CONTENT_HEADER_BYTES + CONTENT_CHUNK_BYTES + 40, clen - 2};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        c[flips[i]] ^= 0x10;
        assert_int_not_equal(decrypt_bytes(c, clen, key, DELIVERY, &back, &plen, &e), 0);
        free(back);
        c[flips[i]] ^= 0x10;
    }
    unsigned char *longer = malloc(clen + 1);
    memcpy(longer, c, clen);
    longer[clen] = 0;
    assert_int_equal(decrypt_bytes(longer, clen + 1, key, DELIVERY, &back, &plen, &e), OP_ECRYPTO);
    free(back);
    /* a package whose last chunk is full: the extra byte is seen after the FINAL tag */
    size_t flen;
    unsigned char *full = encrypt_bytes(plain, CONTENT_CHUNK_BYTES, key, &flen);
    unsigned char *fl = malloc(flen + 1);
    memcpy(fl, full, flen);
    fl[flen] = 'x';
    assert_int_equal(decrypt_bytes(fl, flen + 1, key, DELIVERY, &back, &plen, &e), OP_ECRYPTO);
    assert_non_null(strstr(e.msg, "after the final chunk"));
    free(back);
    free(fl);
    free(full);
    assert_int_equal(decrypt_bytes(c, clen, key, DELIVERY, &back, &plen, &e), 0);
    free(back);
    free(longer);
    free(plain);
    free(c);
}

/* Whole chunks moved around: swapped within a package, dropped from its middle, or taken from
 * another package encrypted under the same key for the same delivery (the worst case: keys
 * are never reused). Each is refused. */
static void test_reordered_dropped_or_foreign_chunks_are_refused(void **state)
{
    (void)state;
    unsigned char key[32];
    content_key_generate(key);
    const size_t CH = CONTENT_CHUNK_BYTES + CONTENT_CHUNK_OVERHEAD;
    size_t len = 3 * CONTENT_CHUNK_BYTES + 10, c1len, c2len, plen;
    unsigned char *plain = malloc(len);
    randombytes_buf(plain, len);
    unsigned char *c1 = encrypt_bytes(plain, len, key, &c1len);
    unsigned char *c2 = encrypt_bytes(plain, len, key, &c2len);
    assert_int_equal(c1len, c2len);
    unsigned char *work = malloc(c1len), *back;
    struct op_err e = {0};
    unsigned char *first = c1 + CONTENT_HEADER_BYTES, *second = first + CH;
    /* chunks 1 and 2 swapped */
    memcpy(work, c1, c1len);
    memcpy(work + CONTENT_HEADER_BYTES, second, CH);
    memcpy(work + CONTENT_HEADER_BYTES + CH, first, CH);
    assert_int_equal(decrypt_bytes(work, c1len, key, DELIVERY, &back, &plen, &e), OP_ECRYPTO);
    free(back);
    /* chunk 2 dropped */
    memcpy(work, c1, CONTENT_HEADER_BYTES + CH);
    memcpy(work + CONTENT_HEADER_BYTES + CH, c1 + CONTENT_HEADER_BYTES + 2 * CH,
           c1len - CONTENT_HEADER_BYTES - 2 * CH);
    assert_int_equal(decrypt_bytes(work, c1len - CH, key, DELIVERY, &back, &plen, &e), OP_ECRYPTO);
    free(back);
    /* chunk 2 taken from the other package */
    memcpy(work, c1, c1len);
    memcpy(work + CONTENT_HEADER_BYTES + CH, c2 + CONTENT_HEADER_BYTES + CH, CH);
    assert_int_equal(decrypt_bytes(work, c1len, key, DELIVERY, &back, &plen, &e), OP_ECRYPTO);
    free(back);
    /* the other package's header on this one's chunks */
    memcpy(work, c1, c1len);
    memcpy(work, c2, CONTENT_HEADER_BYTES);
    assert_int_equal(decrypt_bytes(work, c1len, key, DELIVERY, &back, &plen, &e), OP_ECRYPTO);
    free(back);
    free(work);
    free(c1);
    free(c2);
    free(plain);
}

static void test_content_key_opens_only_for_the_test_taker_it_was_sealed_to(void **state)
{
    (void)state;
    unsigned char key[32], got[32];
    content_key_generate(key);
    unsigned char pk_a[32], sk_a[32], pk_b[32], sk_b[32];
    vault_keypair(pk_a, sk_a);
    vault_keypair(pk_b, sk_b);
    unsigned char sealed[CONTENT_SEALED_KEY_BYTES];
    struct op_err e = {0};
    assert_int_equal(content_key_seal(key, pk_a, sealed, &e), 0);
    assert_null(memmem(sealed, sizeof sealed, key, sizeof key)); /* never in clear */
    assert_int_equal(content_key_open(sealed, sizeof sealed, pk_b, sk_b, got, &e), OP_ECRYPTO);
    assert_int_equal(content_key_open(sealed, sizeof sealed, pk_a, sk_a, got, &e), 0);
    assert_memory_equal(got, key, 32);
    assert_int_equal(content_key_open(sealed, 10, pk_a, sk_a, got, &e), OP_EINPUT);
}

static void test_a_delivery_id_too_long_to_bind_is_refused_not_cut(void **state)
{
    (void)state;
    unsigned char key[32];
    content_key_generate(key);
    char id[1001], other[1001];
    memset(id, 'd', 1000);
    id[1000] = '\0';
    memcpy(other, id, sizeof id);
    other[999] = 'e'; /* differs only past the limit */
    FILE *in = file_of((const unsigned char *)"package", 7), *out = tmpfile();
    struct op_err e = {0};
    assert_int_equal(content_encrypt(in, out, key, id, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "1000 bytes, over the limit of 256"));
    size_t n;
    unsigned char *written = contents(out, &n);
    assert_int_equal(n, 0); /* nothing written */
    free(written);
    fclose(in);
    fclose(out);
    /* a package of another delivery is not opened under a long id either */
    size_t clen;
    unsigned char *c = encrypt_bytes((const unsigned char *)"package", 7, key, &clen);
    unsigned char *plain;
    size_t plen;
    assert_int_equal(decrypt_bytes(c, clen, key, other, &plain, &plen, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "over the limit"));
    assert_int_equal(plen, 0);
    free(plain);
    free(c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packages_of_every_size_round_trip),
        cmocka_unit_test(test_a_delivery_id_too_long_to_bind_is_refused_not_cut),
        cmocka_unit_test(test_wrong_key_or_other_delivery_does_not_decrypt),
        cmocka_unit_test(test_truncated_altered_or_extended_package_is_refused),
        cmocka_unit_test(test_reordered_dropped_or_foreign_chunks_are_refused),
        cmocka_unit_test(test_content_key_opens_only_for_the_test_taker_it_was_sealed_to),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
