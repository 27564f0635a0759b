/* process.c - process hardening at start (see process.h). */
#include "base/process.h"

#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

/* jansson allocates with malloc and frees through this: the block is wiped first. Using the
 * system malloc (and no header) keeps json_dumps' result freeable with free(), as callers
 * do. */
static void wiping_free(void *p)
{
    if (!p)
        return;
    sodium_memzero(p, malloc_usable_size(p));
    free(p);
}

int process_harden(struct op_err *e)
{
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0)
        return err_set(e, OP_EIO, "cannot disable core dumps: %s", strerror(errno));
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return err_set(e, OP_EIO, "cannot disable core dumps: %s", strerror(errno));
    json_set_alloc_funcs(malloc, wiping_free);
    return 0;
}
