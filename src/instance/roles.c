/*
 * roles.c - per-role setup steps (see roles.h). Keys live in DIR/keys (mode 0700, files 0600).
 */
#include "instance/roles.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "instance/instance.h"

static int ensure_keys_dir(struct instance *inst, struct op_err *e)
{
    char *keys = instance_path(inst, "keys");
    int rc = fs_mkdir_p(keys, 0700, e);
    if (rc == 0)
        chmod(keys, 0700);
    free(keys);
    return rc;
}

int roles_setup_central(struct instance *inst, struct op_err *e)
{
    return ensure_keys_dir(inst, e);
}

int roles_setup_device(struct instance *inst, struct op_err *e)
{
    return ensure_keys_dir(inst, e);
}

int roles_setup(struct instance *inst, const char *final_dir, struct op_err *e)
{
    (void)final_dir;
    return inst->role == ROLE_CENTRAL ? roles_setup_central(inst, e) : roles_setup_device(inst, e);
}
