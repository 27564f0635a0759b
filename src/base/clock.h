/*
 * clock.h - the one clock that dates records and log lines, settable so a test can fix it.
 *
 * Every time stamp Outpost writes (created_at, updated_at, received_at, the time of a log
 * line) comes from clock_now, which reads the system clock unless a test has set another with
 * clock_set. It is a process-wide setting meant for tests: set it before the code under test
 * runs, restore it (clock_set(NULL)) after, never while other threads read it. Code that has a
 * clock of its own passed in (the QTI test session, qti/test_session.h) keeps using that one.
 */
#ifndef OUTPOST_BASE_CLOCK_H
#define OUTPOST_BASE_CLOCK_H

#include <time.h>

struct op_clock {
    time_t (*now)(void *ctx);
    void *ctx;
};

/* The current time in seconds since the epoch, UTC: the clock set, or the system clock. */
time_t clock_now(void);

/* Makes `c` the clock clock_now reads (copied); NULL restores the system clock. */
void clock_set(const struct op_clock *c);

/* A clock that always answers `*(time_t *)ctx`, for tests:
 * `time_t t = 1700000000; clock_set(&(struct op_clock){clock_fixed, &t});` */
time_t clock_fixed(void *ctx);

#endif
