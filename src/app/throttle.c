/* throttle.c - the rules of the throttling of failed logins and token requests (throttle.h). */
#include "app/throttle.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "store/throttle.h"

static void make_key(char out[THROTTLE_KEY_MAX], const char *kind, const char *name)
{
    snprintf(out, THROTTLE_KEY_MAX, "%s:%s", kind, name);
}

/* Seconds until `key` may try again, 0 if it may now. */
static int wait_of(struct db *db, const char *key, int limit, time_t now, int *wait,
                   struct op_err *e)
{
    int64_t failures, start;
    *wait = 0;
    int rc = throttle_get(db, key, &failures, &start, e);
    if (rc == 0 && failures >= limit && now < start + THROTTLE_WINDOW_S)
        *wait = (int)(start + THROTTLE_WINDOW_S - now);
    return rc;
}

int app_throttle_check(struct instance *inst, const char *kind, const char *name, const char *addr,
                       const char *what, struct op_err *e)
{
    char key[THROTTLE_KEY_MAX];
    time_t now = clock_now();
    int wait_name = 0, wait_addr = 0;
    make_key(key, kind, name);
    int rc = wait_of(inst->db, key, THROTTLE_NAME_FAILURES, now, &wait_name, e);
    if (rc == 0 && addr && addr[0]) {
        make_key(key, "addr", addr);
        rc = wait_of(inst->db, key, THROTTLE_ADDR_FAILURES, now, &wait_addr, e);
    }
    if (rc != 0)
        return rc;
    if (wait_name == 0 && wait_addr == 0)
        return 0;
    int wait = wait_name > wait_addr ? wait_name : wait_addr;
    err_set(e, OP_ETHROTTLED, "%s refused: too many failed attempts %s; try again in %d seconds",
            what, wait_name ? "for this account" : "from this address", wait);
    e->retry_after = wait;
    return OP_ETHROTTLED;
}

struct fail_ctx {
    const char *keys[2];
    int n;
    time_t now;
};

static int count_failure(struct db *db, void *ctx, struct op_err *e)
{
    struct fail_ctx *f = ctx;
    for (int i = 0; i < f->n; i++) {
        int64_t failures, start;
        int rc = throttle_get(db, f->keys[i], &failures, &start, e);
        if (rc != 0)
            return rc;
        if (failures == 0 || f->now >= start + THROTTLE_WINDOW_S) {
            failures = 0; /* a new window */
            start = f->now;
        }
        rc = throttle_put(db, f->keys[i], failures + 1, start, e);
        if (rc != 0)
            return rc;
    }
    /* old windows are of no use: keep the table small */
    return throttle_delete_before(db, (int64_t)f->now - 2 * THROTTLE_WINDOW_S, e);
}

void app_throttle_fail(struct instance *inst, const char *kind, const char *name, const char *addr)
{
    char k1[THROTTLE_KEY_MAX], k2[THROTTLE_KEY_MAX];
    make_key(k1, kind, name);
    struct fail_ctx f = {{k1, NULL}, 1, clock_now()};
    if (addr && addr[0]) {
        make_key(k2, "addr", addr);
        f.keys[f.n++] = k2;
    }
    struct op_err ignored = {0};
    (void)db_write(inst->db, count_failure, &f, &ignored);
}

int app_throttle_reset_in(struct db *db, const char *kind, const char *name, struct op_err *e)
{
    char key[THROTTLE_KEY_MAX];
    make_key(key, kind, name);
    return throttle_reset(db, key, e);
}
