/* err.c - formatting of struct op_err messages (see err.h). */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* the functions themselves, not the analyser's view of them (err.h) */
#undef err_set
#undef err_set_field
#undef err_set_remedy

/* The body of err_set, err_set_field and err_set_remedy. */
static int vset(struct op_err *e, int code, const char *field, enum op_remedy remedy,
                const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static int vset(struct op_err *e, int code, const char *field, enum op_remedy remedy,
                const char *fmt, va_list ap)
{
    if (!e)
        return code;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    e->remedy = remedy;
    e->retry_after = 0;
    return code;
}

int err_set(struct op_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(e, code, NULL, OP_REMEDY_NONE, fmt, ap);
    va_end(ap);
    return code;
}

int err_set_field(struct op_err *e, int code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(e, code, field, OP_REMEDY_NONE, fmt, ap);
    va_end(ap);
    return code;
}

int err_set_remedy(struct op_err *e, int code, enum op_remedy remedy, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(e, code, NULL, remedy, fmt, ap);
    va_end(ap);
    return code;
}

int err_prefix(struct op_err *e, const char *fmt, ...)
{
    if (!e)
        return OP_EINPUT;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[OP_ERR_MAX];
    memcpy(old, e->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof e->msg - 3)
        n = sizeof e->msg - 3;
    memcpy(e->msg, prefix, n);
    memcpy(e->msg + n, ": ", 2);
    size_t room = sizeof e->msg - n - 3;
    size_t m = strnlen(old, room);
    memcpy(e->msg + n + 2, old, m);
    e->msg[n + 2 + m] = '\0';
    return e->code;
}

void err_clear(struct op_err *e)
{
    if (e) {
        e->code = 0;
        e->msg[0] = '\0';
        e->field[0] = '\0';
        e->remedy = OP_REMEDY_NONE;
    }
}

const char *err_code_name(int code)
{
    switch (code) {
    case OP_OK:
        return "ok";
    case OP_EINPUT:
        return "bad input";
    case OP_EIO:
        return "I/O error";
    case OP_EDB:
        return "database error";
    case OP_ENOTFOUND:
        return "not found";
    case OP_ECONFLICT:
        return "conflict";
    case OP_ESTATE:
        return "wrong state";
    case OP_ECRYPTO:
        return "cryptographic check failed";
    case OP_ENOMEM:
        return "out of memory";
    case OP_EUSAGE:
        return "usage";
    case OP_EBUSY:
        return "busy";
    case OP_EUNAUTH:
        return "not authenticated";
    case OP_EFORBIDDEN:
        return "forbidden";
    case OP_ETHROTTLED:
        return "too many attempts";
    default:
        return "error";
    }
}

int err_exit_status(int code)
{
    if (code == OP_OK)
        return 0;
    return code == OP_EUSAGE ? 2 : 1;
}

int err_http_status(int code)
{
    switch (code) {
    case OP_OK:
        return 200;
    case OP_EINPUT:
    case OP_EUSAGE:
        return 400;
    case OP_EUNAUTH:
        return 401;
    case OP_EFORBIDDEN:
        return 403;
    case OP_ENOTFOUND:
        return 404;
    case OP_ECONFLICT:
        return 409;
    case OP_ECRYPTO:
        return 422;
    case OP_EBUSY:
        return 503;
    case OP_ETHROTTLED:
        return 429;
    default: /* OP_ESTATE, OP_EIO, OP_EDB, OP_ENOMEM and unknown codes */
        return 500;
    }
}
