/* credentials.c - password-derived credentials of a user (see credentials.h). */
#include "auth/credentials.h"

#include <sodium.h>

#include "store/users.h"

int credentials_make(const struct password_cost *cost, const char *user_id, const char *password,
                     size_t len, struct credentials *out, struct op_err *e)
{
    (void)user_id;
    return password_hash(password, len, cost, out->password_record, NULL, e);
}

int credentials_store(struct db *db, const char *user_id, const struct credentials *c,
                      struct op_err *e)
{
    return users_set_password(db, user_id, c->password_record, e);
}

void credentials_wipe(struct credentials *c)
{
    sodium_memzero(c, sizeof *c);
}
