/*
 * pull.h - the device's side of the pull (docs/sync-protocol.md): applies one signed page of
 * central's change feed to the device's synced records (store/synced.h).
 *
 * Order of checks, so that nothing central did not send is ever applied: the envelope's
 * signature against the PINNED central signing key (before the body is parsed), then the page
 * (sync/page.h's bounded parser), then that it is for the device's organisation and starts at
 * the device's cursor (a replayed or out-of-order page is refused). Then every record and the
 * new cursor in one transaction: a missing record is created, one with a higher version
 * updated, a tombstone deleted. On the last page, the scope digest central sent is compared
 * with the device's own: a mismatch (drift) resets the cursor to 0 and starts a full resync
 * (a new generation; every record a page carries is marked with it); the last page of the
 * full resync deletes the records it did not see.
 */
#ifndef OUTPOST_SYNC_PULL_H
#define OUTPOST_SYNC_PULL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/keys.h"
#include "instance/instance.h"
#include "store/synced.h"
#include "sync/page.h"

enum {
    SYNC_ENT_USER,
    SYNC_ENT_TEST_CENTER,
    SYNC_ENT_ELIGIBILITY,
    SYNC_ENT_DELIVERY,
    SYNC_ENT_COUNT
};
/* "user", "test-center", "eligibility", "delivery" (store/feed.h's names). */
const char *sync_entity_name(int i);

struct sync_counts {
    int64_t created, updated, deleted;
};

struct sync_apply_report {
    struct sync_counts counts[SYNC_ENT_COUNT]; /* indexed by SYNC_ENT_* */
    int records;                               /* records in the page */
    int64_t cursor;                            /* the device's cursor after the page */
    int again;            /* ask for the next page from `cursor` (more, or a full resync) */
    int digest_checked;   /* the last page: the digest was compared */
    int digest_mismatch;  /* ... and differed: a full resync started (cursor 0) */
    int full_resync_done; /* a full resync ended with this page */
};

/* Binds the device to the organisation of its credential (enrolment): the pages it applies
 * must be for `org`. Binding to another organisation than before clears the synced records
 * and the cursor. Device only. */
int sync_device_bind_org(struct instance *device, const char *org, struct op_err *e);

/* The device's pull state. */
int sync_device_state(struct instance *device, struct synced_state *out, struct op_err *e);

/* Verifies and applies one signed page (see above). On any failure nothing is changed. */
int sync_apply_page(struct instance *device, const unsigned char *envelope, size_t len,
                    const unsigned char pinned_signing_pk[KEY_PUBLIC_BYTES],
                    struct sync_apply_report *out, struct op_err *e);

/* Several pages in one transaction: a first sync of many pages costs one commit (one fsync of
 * the device's database) instead of one a page. A page is first held: its envelope verified
 * against the pinned key and its body parsed (sync_page_hold; the envelope may then be
 * freed); the caller asks for the next page from the held page's `page.next` while
 * `page.has_more`; then sync_apply_pages applies the held pages, consecutive, every record and
 * the cursor after the last, in one transaction: all of them or, on any failure or a crash,
 * none (the device keeps its old cursor and asks for them again). Each page is checked as
 * sync_apply_page checks it (organisation, since = the cursor the page before left). */
struct sync_held_page {
    unsigned char *body; /* the signed body; the page's records are spans of it */
    size_t len;
    struct sync_page page;
};
/* A batch's bounds, for a caller holding pages (sync/run.c): pages and bytes of bodies. */
#define SYNC_APPLY_PAGES_MAX 32
#define SYNC_APPLY_BYTES_MAX (16u << 20)
int sync_page_hold(const unsigned char *envelope, size_t len,
                   const unsigned char pinned_signing_pk[KEY_PUBLIC_BYTES],
                   struct sync_held_page *out, struct op_err *e);
void sync_held_page_free(struct sync_held_page *h);
/* Applies the n (>= 1) held pages `pages` in one transaction; out[i] is page i's report (all
 * zero on a failure). Device only. */
int sync_apply_pages(struct instance *device, const struct sync_held_page *pages, int n,
                     struct sync_apply_report *out, struct op_err *e);

/* For tests: the next apply fails (OP_EIO) after writing `n` records inside its transaction,
 * as a crash there would; -1 turns it off. */
void sync_pull_fail_after(int n);

#endif
