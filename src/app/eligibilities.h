/*
 * app/eligibilities.h - the eligibilities of a central server as the command line and the web
 * server both see them: which test takers may sit which delivery at which test center, and
 * whether a proctor must authorise them; set, list, delete, and the public JSON shape of an
 * eligibility. Devices receive eligibilities by sync, so every operation runs on central only.
 *
 * Every operation takes the instance first, validates its input, owns its transaction and
 * never prints. The store keeps the rules of what an eligibility holds (store/eligibilities.h:
 * one per center and delivery, test takers only, versions and the change feed); the rules
 * kept here are those of the request: the center and the delivery are named by id or label,
 * the test takers by login, and every unknown login or wrong role is named in one message.
 *
 * A failure that concerns one input names it in e->field: "center", "delivery" or
 * "test_takers" (whatever the code, a not-found center included), so that a front end can
 * point at its own field ("--center: ..."); the message itself never names an option.
 */
#ifndef OUTPOST_APP_ELIGIBILITIES_H
#define OUTPOST_APP_ELIGIBILITIES_H

#include <jansson.h>

#include "base/err.h"
#include "instance/instance.h"
#include "store/eligibilities.h"
#include "store/idlist.h"

/* An eligibility with the logins of its test takers. */
struct app_eligibility {
    struct eligibility el;
    struct idlist test_takers; /* logins, ordered by login */
};

/* Frees what an app_eligibility owns and zeroes it. */
void app_eligibility_clear(struct app_eligibility *a);

/* The public JSON shape of an eligibility (eligibilities list --json): id, center_id,
 * center_label, delivery_id, delivery_label, proctored (true or false), test_takers (an
 * array of logins) and version. The caller owns the object. */
json_t *app_eligibility_json(const struct app_eligibility *a);

/* Calls fn for each eligibility ordered by center label, delivery label, id, with its test
 * takers. The struct is only valid during the call; a non-zero return from fn stops and is
 * returned. */
typedef int (*app_eligibility_fn)(const struct app_eligibility *a, void *ctx);
int app_eligibilities_list(struct instance *inst, app_eligibility_fn fn, void *ctx,
                           struct op_err *e);

/* What eligibilities set asks for. The strings are borrowed. */
struct app_eligibility_set {
    const char *center;             /* an id or a label */
    const char *delivery;           /* an id or a label */
    const char *const *test_takers; /* logins of test-taker users */
    int n;                          /* how many; 0 leaves the eligibility with none */
    int proctored;                  /* 1, 0 or ELIGIBILITY_PROCTORED_KEEP */
};

/* Creates the eligibility of (center, delivery) with the test takers of `in`, or replaces
 * the test takers of the existing one, in one transaction. *outcome (may be NULL) says
 * whether it was created, updated or left unchanged; *out (may be NULL) receives it as it
 * now is, with its center's and delivery's labels (app_eligibility_clear). */
int app_eligibilities_set(struct instance *inst, const struct app_eligibility_set *in,
                          enum eligibility_outcome *outcome, struct app_eligibility *out,
                          struct op_err *e);

/* Deletes the eligibility of (center, delivery), both ids or labels; OP_ENOTFOUND when the
 * center has none for the delivery. *out (may be NULL) receives it as it was, with the
 * labels (app_eligibility_clear). */
int app_eligibilities_delete(struct instance *inst, const char *center, const char *delivery,
                             struct app_eligibility *out, struct op_err *e);

#endif
