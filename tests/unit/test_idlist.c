/* test_idlist.c - id lists: insertion order kept, duplicates dropped, lookups at any size. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "store/idlist.h"

static void test_idlist_keeps_order_and_drops_duplicates(void **state)
{
    (void)state;
    struct idlist l = IDLIST_INIT;
    idlist_add(&l, "b");
    idlist_add(&l, "a");
    idlist_add(&l, "b");
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0], "b");
    assert_string_equal(l.v[1], "a");
    assert_true(idlist_has(&l, "a"));
    assert_false(idlist_has(&l, "c"));
    idlist_free(&l);
    assert_false(idlist_has(&l, "a")); /* a freed list is an empty one */
}

static void test_idlist_holds_a_national_exam_of_ids(void **state)
{
    (void)state;
    struct idlist l = IDLIST_INIT;
    char id[32];
    for (int round = 0; round < 2; round++) /* every id twice */
        for (int i = 0; i < 200000; i++) {
            snprintf(id, sizeof id, "user-%d", i);
            idlist_add(&l, id);
        }
    assert_int_equal(l.n, 200000);
    for (int i = 0; i < 200000; i += 997) {
        snprintf(id, sizeof id, "user-%d", i);
        assert_true(idlist_has(&l, id));
        assert_string_equal(l.v[i], id);
    }
    assert_false(idlist_has(&l, "user-200000"));
    idlist_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idlist_keeps_order_and_drops_duplicates),
        cmocka_unit_test(test_idlist_holds_a_national_exam_of_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
