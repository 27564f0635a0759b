/* clock.c - the settable process clock (see clock.h). */
#include "base/clock.h"

#include <stddef.h>

static struct op_clock current; /* now == NULL: the system clock */

time_t clock_now(void)
{
    return current.now ? current.now(current.ctx) : time(NULL);
}

void clock_set(const struct op_clock *c)
{
    if (c)
        current = *c;
    else
        current = (struct op_clock){NULL, NULL};
}

time_t clock_fixed(void *ctx)
{
    return *(const time_t *)ctx;
}
