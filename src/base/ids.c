/* ids.c - UUIDs from libsodium's CSPRNG and UTC time stamps of the process clock (see ids.h). */
#include "base/ids.h"

#include "base/clock.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

void uuid_generate(char out[UUID_STR_LEN])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, UUID_STR_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

int uuid_is_valid(const char *s)
{
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

int timestamp_format(time_t t, char out[TIMESTAMP_STR_LEN])
{
    struct tm tm;
    /* strftime's buffer is indeterminate when it returns 0: never hand that on */
    if (!gmtime_r(&t, &tm) || strftime(out, TIMESTAMP_STR_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

void timestamp_now(char out[TIMESTAMP_STR_LEN])
{
    /* fails only for a clock set hundreds of millions of years ahead: then "" */
    (void)timestamp_format(clock_now(), out);
}
