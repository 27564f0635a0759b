/*
 * throttle.h - the throttling of failed logins and token requests on central (the counters
 * are store/throttle.h). A key is a kind and a name: "login:NAME" (enrolment), "client:ID"
 * (the token endpoint), "addr:ADDRESS" (both). Within a window of THROTTLE_WINDOW_S seconds
 * from a key's first failure, a login or client may fail THROTTLE_NAME_FAILURES times and an
 * address THROTTLE_ADDR_FAILURES times; past that, attempts are refused before any password
 * or secret is checked (OP_ETHROTTLED, e->retry_after the seconds until the window ends),
 * until the window ends. A success resets the login's or client's counter (not the
 * address's: one good login must not let an address go on guessing others').
 */
#ifndef OUTPOST_APP_THROTTLE_H
#define OUTPOST_APP_THROTTLE_H

#include "base/err.h"
#include "instance/instance.h"

#define THROTTLE_WINDOW_S      900
#define THROTTLE_NAME_FAILURES 5
#define THROTTLE_ADDR_FAILURES 20
#define THROTTLE_KEY_MAX       320

/* 0 if an attempt for `kind`:`name` from `addr` (NULL: not over the network) may go on;
 * OP_ETHROTTLED with e->retry_after otherwise. `what` names the attempt in the message
 * ("enrolment", "token request"). */
int app_throttle_check(struct instance *inst, const char *kind, const char *name, const char *addr,
                       const char *what, struct op_err *e);

/* Counts a failure of `kind`:`name` and of `addr`, in its own transaction (a failed attempt
 * writes nothing else). Its own errors are not the caller's: the caller's *e is untouched. */
void app_throttle_fail(struct instance *inst, const char *kind, const char *name, const char *addr);

/* The db_write body part of a success: forgets the failures of `kind`:`name` (inside the
 * caller's transaction). */
int app_throttle_reset_in(struct db *db, const char *kind, const char *name, struct op_err *e);

#endif
