/*
 * executions.h - a device's delivery executions (table executions) and their audit log (table
 * execution_audit), migration 12. The rules (who may do what, in which state) are
 * app/executions.h's; this file is the SQL, with two invariants of its own:
 *
 *  - Every change of an execution is a compare-and-set on (id, version): executions_update
 *    writes only if the row still has the version the caller read, and bumps it. Two actors
 *    that read the same version cannot both write: the second gets OP_ECONFLICT and nothing.
 *  - The audit log is append-only and hash-chained per execution: entry n's hash is SHA-256
 *    over entry n-1's hash (64 zeros for the first) and entry n's canonical content
 *    (audit_canonical), so a changed, removed or reordered entry breaks every hash after it
 *    (executions_audit_verify). The chain travels inside the sealed result.
 *
 * Times are seconds since 1970 (integers: the time left is arithmetic on them), from
 * base/clock.h. Writes run inside the caller's transaction (db_write).
 */
#ifndef OUTPOST_STORE_EXECUTIONS_H
#define OUTPOST_STORE_EXECUTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "base/sha256.h"
#include "store/db.h"

#define EXEC_STATE_LEN 24
#define EXEC_ID_LEN    UUID_STR_LEN
/* The longest session state (the runner's JSON) and audit detail (JSON) stored. */
#define EXEC_SESSION_MAX (4u << 20)
#define EXEC_DETAIL_MAX  4096
#define EXEC_ACTION_LEN  32
#define EXEC_ROLE_LEN    24

struct execution_row {
    char id[EXEC_ID_LEN];
    char delivery_id[EXEC_ID_LEN];
    int64_t delivery_version; /* the delivery's content version it runs (0: none) */
    char test_taker_id[EXEC_ID_LEN];
    char center_id[EXEC_ID_LEN];
    int proctored; /* its eligibility was proctored when it started */
    char state[EXEC_STATE_LEN];
    int64_t version; /* bumped by every write; the compare-and-set key */
    int64_t position;
    int64_t item_count;
    char *session;        /* the runner's state (opaque text), malloc'ed; NULL: none yet */
    int64_t time_limit;   /* seconds; 0: none */
    int64_t extra_time;   /* seconds a proctor added */
    int64_t consumed;     /* seconds spent active before active_since */
    int64_t active_since; /* when it became active; 0 while not active */
    int64_t paused_at;    /* when a proctor paused it; 0 when not paused */
    int64_t created_at;
    int64_t started_at; /* first active; 0: never */
    int64_t updated_at;
    int64_t ended_at;            /* finished, terminated or canceled; 0: not ended */
    char result_id[EXEC_ID_LEN]; /* the sealed result's id; "" until sealed */
};

/* Frees row->session (the row itself is the caller's). */
void execution_row_clear(struct execution_row *row);

/* Inserts a new execution; row->version is set to 1. */
int executions_insert(struct db *db, struct execution_row *row, struct op_err *e);

/* Reads execution `id` into *row (its session malloc'ed: execution_row_clear); OP_ENOTFOUND
 * with *e untouched when there is none. */
int executions_get(struct db *db, const char *id, struct execution_row *row, struct op_err *e);

/* Writes every field of *row over execution row->id provided its stored version is still
 * `expected` (the one the caller read), and sets row->version to expected + 1. OP_ECONFLICT
 * (nothing written) when the version moved: someone else acted first. `session` is written
 * only if `with_session` (the runner's state is large; most changes leave it). */
int executions_update(struct db *db, struct execution_row *row, int64_t expected, int with_session,
                      struct op_err *e);

/* How many executions test taker `taker` has of `delivery`, canceled ones left out. */
int executions_count(struct db *db, const char *taker, const char *delivery, int64_t *n,
                     struct op_err *e);

/* Up to `max` executions, newest first (created_at, then id), without their session: of test
 * taker `taker` (center NULL) or of center `center` (taker NULL). *rows malloc'ed (free), *n
 * how many. */
int executions_list(struct db *db, const char *taker, const char *center, int max,
                    struct execution_row **rows, int *n, struct op_err *e);

/* ---- the audit log ---- */

struct audit_entry {
    char execution_id[EXEC_ID_LEN];
    int64_t seq; /* 1, 2, ... per execution */
    int64_t at;
    char actor_id[EXEC_ID_LEN];
    char actor_role[EXEC_ROLE_LEN];  /* "test-taker", "proctor", "system" */
    char action[EXEC_ACTION_LEN];    /* "start", "authorize", "pause", ... */
    char from_state[EXEC_STATE_LEN]; /* "" for the creation */
    char to_state[EXEC_STATE_LEN];
    char detail[EXEC_DETAIL_MAX]; /* a JSON object, compact ("{}" when none) */
    char prev_hash[SHA256_HEX_LEN];
    char hash[SHA256_HEX_LEN];
};

/* The text an entry's hash covers after the previous hash: every field but the hashes, each
 * as "name=LENGTH:value\n" (lengths make it unambiguous whatever the values hold). *out is
 * malloc'ed (caller frees). */
int audit_canonical(const struct audit_entry *a, char **out, struct op_err *e);

/* SHA-256 (hex) of prev_hash || audit_canonical(a). */
int audit_hash(const struct audit_entry *a, const char prev_hash[SHA256_HEX_LEN],
               char out[SHA256_HEX_LEN], struct op_err *e);

/* Appends an entry to its execution's chain: sets a->seq, a->prev_hash and a->hash from the
 * last entry, then inserts it. The other fields are the caller's (detail "" is "{}"). */
int executions_audit_append(struct db *db, struct audit_entry *a, struct op_err *e);

/* The entries of execution `id` in order (*v malloc'ed, free; *n how many). */
int executions_audit_list(struct db *db, const char *id, struct audit_entry **v, int *n,
                          struct op_err *e);

/* Checks the chain of entries v[0..n): seq 1..n in order, each prev_hash the hash before it
 * (zeros first) and each hash recomputed. *bad = 0 when it holds, else the seq of the first
 * entry that does not. */
int executions_audit_check(const struct audit_entry *v, int n, int64_t *bad, struct op_err *e);

#endif
