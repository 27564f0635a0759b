/*
 * roles.h - what `setup` does beyond the common part for each role: setup-central (central
 * keys, the scoping of sync by organisation) and setup-device (the device's keys). Both are
 * also commands of their own and are safe to run again on an existing instance.
 */
#ifndef OUTPOST_INSTANCE_ROLES_H
#define OUTPOST_INSTANCE_ROLES_H

#include "base/err.h"

struct instance;

/* Runs the role's setup on a new instance being built in inst->dir; `final_dir` is where it
 * will live. */
int roles_setup(struct instance *inst, const char *final_dir, struct op_err *e);

/* setup-central and setup-device: idempotent, never overwrite an existing key. `rep` (may be
 * NULL) counts the key files created and kept (crypto/keys.h). */
struct keys_setup_report;
struct keys_setup_options;
int roles_setup_central(struct instance *inst, const struct keys_setup_options *opt,
                        struct keys_setup_report *rep, struct op_err *e);
int roles_setup_device(struct instance *inst, struct keys_setup_report *rep, struct op_err *e);

#endif
