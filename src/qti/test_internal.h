/*
 * test_internal.h - what test.c (reading XML) and test_json.c (the JSON form) share.
 * Nothing outside src/qti/test*.c includes this.
 */
#ifndef OUTPOST_QTI_TEST_INTERNAL_H
#define OUTPOST_QTI_TEST_INTERNAL_H

#include "qti/test.h"

/* Marks every setting of an itemSessionControl as not given (-1), so the effective value is
 * inherited from the enclosing section or part. */
void test_isc_unset(struct qti_isc *i);

#endif
