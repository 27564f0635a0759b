/*
 * roles.c - per-role setup steps (see roles.h). Keys live in DIR/keys (mode 0700, files 0600).
 */
#include "instance/roles.h"

#include <stdlib.h>

#include "crypto/keys.h"
#include "instance/instance.h"

int roles_setup_central(struct instance *inst, const struct keys_setup_options *opt,
                        struct keys_setup_report *rep, struct op_err *e)
{
    char *keys = instance_path(inst, "keys");
    int rc = keys_setup_central_with(keys, opt, rep, e);
    free(keys);
    return rc;
}

int roles_setup_device(struct instance *inst, struct keys_setup_report *rep, struct op_err *e)
{
    char *keys = instance_path(inst, "keys");
    int rc = keys_setup_device(keys, rep, e);
    free(keys);
    return rc;
}

int roles_setup(struct instance *inst, const char *final_dir, struct op_err *e)
{
    (void)final_dir;
    return inst->role == ROLE_CENTRAL ? roles_setup_central(inst, NULL, NULL, e)
                                      : roles_setup_device(inst, NULL, e);
}
