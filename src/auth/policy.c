/*
 * policy.c - the password policy (policy.h) and its list of common passwords.
 *
 * The list is the text of common-passwords.txt, embedded in the binary by
 * scripts/embed-file.cmake (common_passwords_txt). The first check copies it once and sorts
 * an index of its lines for a binary search, so that an import of a million rows checks each
 * password in about 14 comparisons. The copy lives as long as the process.
 */
#include "auth/policy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* generated from common-passwords.txt (CMakeLists.txt) */
extern const unsigned char common_passwords_txt[];
extern const size_t common_passwords_txt_len;

/* Longer than every password of the list: a longer password is not on it. */
#define COMMON_MAX 64

static pthread_once_t common_once = PTHREAD_ONCE_INIT;
static char *common_text; /* the list's lines, NUL-terminated; common_index points into it */
static const char **common_index;
static size_t common_count;

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void common_load(void)
{
    char *text = malloc(common_passwords_txt_len + 1);
    size_t lines = 1;
    for (size_t i = 0; i < common_passwords_txt_len; i++)
        lines += common_passwords_txt[i] == '\n';
    const char **index = malloc(sizeof *index * lines);
    if (!text || !index)
        abort();
    memcpy(text, common_passwords_txt, common_passwords_txt_len);
    text[common_passwords_txt_len] = '\0';
    size_t n = 0;
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        /* "# " lines are the file's notes; a password of the list is never longer than this */
        if (line[0] && strncmp(line, "# ", 2) != 0 && strcmp(line, "#") != 0 &&
            strlen(line) < COMMON_MAX)
            index[n++] = line;
        if (!end)
            break;
        line = end + 1;
    }
    qsort(index, n, sizeof *index, by_text);
    common_text = text;
    common_index = index;
    common_count = n;
}

size_t password_common_count(void)
{
    pthread_once(&common_once, common_load);
    return common_count;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int password_is_common(const char *password, size_t len)
{
    if (len >= COMMON_MAX || memchr(password, '\0', len))
        return 0;
    char lower[COMMON_MAX];
    for (size_t i = 0; i < len; i++)
        lower[i] = ascii_lower(password[i]);
    lower[len] = '\0';
    pthread_once(&common_once, common_load);
    const char *key = lower;
    return bsearch(&key, common_index, common_count, sizeof *common_index, by_text) != NULL;
}

void password_policy_default(struct password_policy *p)
{
    p->min_length = PASSWORD_POLICY_DEFAULT_MIN_LENGTH;
    p->refuse_login = 1;
    p->refuse_common = 1;
}

/* Characters, not bytes: every byte but UTF-8's continuation bytes starts one. */
static size_t characters(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* The password is the login, or the login backwards, ignoring ASCII case. */
static int is_login(const char *login, const char *pw, size_t len)
{
    size_t n = strlen(login);
    if (n != len || n == 0)
        return 0;
    int same = 1, reversed = 1;
    for (size_t i = 0; i < n; i++) {
        same &= ascii_lower(pw[i]) == ascii_lower(login[i]);
        reversed &= ascii_lower(pw[i]) == ascii_lower(login[n - 1 - i]);
    }
    return same || reversed;
}

enum password_fault password_policy_check(const struct password_policy *p, const char *login,
                                          const char *password, size_t len)
{
    if (characters(password, len) < (size_t)p->min_length)
        return PASSWORD_TOO_SHORT;
    if (p->refuse_login && login && is_login(login, password, len))
        return PASSWORD_IS_LOGIN;
    if (p->refuse_common && password_is_common(password, len))
        return PASSWORD_IS_COMMON;
    return PASSWORD_OK;
}

const char *password_fault_text(enum password_fault f, const struct password_policy *p, char *out,
                                size_t cap)
{
    switch (f) {
    case PASSWORD_TOO_SHORT:
        snprintf(out, cap, "shorter than %d characters (password policy: min-length)",
                 p->min_length);
        break;
    case PASSWORD_IS_LOGIN:
        snprintf(out, cap,
                 "the same as the login, or the login backwards (password policy: "
                 "refuse-login)");
        break;
    case PASSWORD_IS_COMMON:
        snprintf(out, cap,
                 "one of the %zu most common passwords, which are guessed first (password "
                 "policy: refuse-common)",
                 password_common_count());
        break;
    default:
        snprintf(out, cap, "accepted");
    }
    return out;
}
