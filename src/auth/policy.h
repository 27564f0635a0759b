/*
 * policy.h - the password policy: which new passwords an instance refuses.
 *
 * Three rules, each set in the setup file (configuration.security.password-policy,
 * instance/config.h) and applied by the application layer wherever a password is set
 * (app/users.c: users add, users passwd and the backoffice's doors into them; app/imports.c:
 * import-users, through import/users_import.h; instance/instance.c: the super-user of setup).
 * A password that was stored before is never checked again: the policy says what may be set,
 * not who may log in.
 *
 *   min-length     at least this many characters (Unicode code points, not bytes)
 *   refuse-login   not the login, nor the login reversed, ignoring the case of ASCII letters
 *   refuse-common  not one of the most common passwords (common-passwords.txt beside this
 *                  file, embedded in the binary), ignoring the case of ASCII letters
 *
 * The defaults are on; a policy with any rule weaker than its default is "relaxed", which the
 * setup file must say explicitly (TAO's example users have their login as password).
 */
#ifndef OUTPOST_AUTH_POLICY_H
#define OUTPOST_AUTH_POLICY_H

#include <stddef.h>

#define PASSWORD_POLICY_DEFAULT_MIN_LENGTH 10
#define PASSWORD_POLICY_MAX_MIN_LENGTH     128

struct password_policy {
    int min_length;    /* 1..PASSWORD_POLICY_MAX_MIN_LENGTH */
    int refuse_login;  /* boolean */
    int refuse_common; /* boolean */
};

/* The rule a password breaks, the first of them in this order. */
enum password_fault {
    PASSWORD_OK = 0,
    PASSWORD_TOO_SHORT,
    PASSWORD_IS_LOGIN,
    PASSWORD_IS_COMMON,
};

/* Fills *p with the defaults (every rule on, min-length 10). */
void password_policy_default(struct password_policy *p);

/* The first rule of `p` that `password` (len bytes) breaks for the user `login` (may be NULL:
 * the login rule is then not checked), or PASSWORD_OK. Thread-safe. */
enum password_fault password_policy_check(const struct password_policy *p, const char *login,
                                          const char *password, size_t len);

/* Why a password breaking `f` is refused, without the password, to follow a field's name:
 * "shorter than 10 characters (password policy: min-length)". Written into out (cap bytes). */
const char *password_fault_text(enum password_fault f, const struct password_policy *p, char *out,
                                size_t cap);

/* 1 if `password` (len bytes) is on the list of common passwords, ignoring ASCII case. */
int password_is_common(const char *password, size_t len);

/* How many passwords the embedded list holds. */
size_t password_common_count(void);

#endif
