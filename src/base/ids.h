/*
 * ids.h - identifiers and timestamps used in records: random UUIDv4 strings (the stable id of
 * every synchronised record) and UTC ISO-8601 time stamps.
 */
#ifndef OUTPOST_BASE_IDS_H
#define OUTPOST_BASE_IDS_H

#include <stdint.h>
#include <time.h>

#define UUID_STR_LEN      37 /* 36 characters and the NUL */
#define TIMESTAMP_STR_LEN 25

/* Writes a fresh random (version 4) UUID in lower-case canonical form. */
void uuid_generate(char out[UUID_STR_LEN]);
/* 1 if `s` is a canonical UUID string (any version), else 0. */
int uuid_is_valid(const char *s);

/* "2026-11-27T02:51:24Z" for `t` (UTC). Returns 0, or -1 with `out` set to "" when `t` cannot
 * be written (gmtime_r fails, e.g. near INT64_MAX, or the year does not fit the buffer); a
 * caller taking `t` from outside checks its range first and handles -1 anyway. */
int timestamp_format(time_t t, char out[TIMESTAMP_STR_LEN]);
/* The time stamp of now, as base/clock.h's clock_now tells it (a test can fix it). */
void timestamp_now(char out[TIMESTAMP_STR_LEN]);

#endif
