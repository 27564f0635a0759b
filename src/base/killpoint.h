/*
 * killpoint.h - a test hook: OUTPOST_TEST_KILL_AT=STEP makes the process die by SIGKILL at the
 * point named STEP, as a power cut would there (tests/cli/runner_faults.sh). Unset, it does
 * nothing. The points: src/sync/run.c (names made by its kill_point), app/executions.c
 * ("exec-save-written", "exec-save-committed", "exec-finish-sealed", "exec-finish-committed").
 */
#ifndef OUTPOST_BASE_KILLPOINT_H
#define OUTPOST_BASE_KILLPOINT_H

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static inline void kill_point_at(const char *step)
{
    const char *at = getenv("OUTPOST_TEST_KILL_AT");
    if (at && at[0] && strcmp(at, step) == 0)
        raise(SIGKILL);
}

#endif
