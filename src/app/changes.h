/*
 * changes.h - central's side of the pull (docs/sync-protocol.md): one page of an
 * organisation's change feed with the records themselves, as the device will store them.
 * The wire format (JSON page, signed envelope) is sync/page.h's; this reads the database.
 */
#ifndef OUTPOST_APP_CHANGES_H
#define OUTPOST_APP_CHANGES_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "instance/instance.h"

#define CHANGES_PAGE_MAX 1000 /* records per page, at most */

struct changes_record {
    int64_t seq;
    char entity[16];
    char id[40];
    int64_t version;
    int deleted;
    /* the record's data as compact JSON with sorted keys, as the page carries it (owned);
     * NULL for a tombstone */
    char *text;
    size_t text_len;
    int text_made; /* made for this page (not read from sync_texts): kept after it */
};

struct changes_page {
    char org[256];
    int64_t since, next, max_seq;
    int has_more;
    char digest[65];                    /* "" unless this is the last page (has_more 0) */
    int digest_kept;                    /* the digest was read from sync_digests, not computed */
    int64_t sealed_made, sealed_reused; /* boxes sealed for this page, boxes reused */
    int64_t texts_made, texts_kept;     /* records built for this page, records read as kept */
    struct changes_record *rec;
    int n;
};

/* Reads the changes of `org` after `since` (at most `limit`, 1..CHANGES_PAGE_MAX) with their
 * records, in one read transaction (db_read: one snapshot, so the digest and the records
 * agree, and no write lock, so syncs do not queue behind each other or the writer). A record
 * of the feed is carried as it is now: a test center (label, org_id, parent_id), an
 * eligibility (center_id, delivery_id, proctored, test_takers: ids, content_keys: the
 * delivery's current content key sealed to each test taker, [{"to", "sealed"}], and
 * content_version), a delivery (label, package_sha256, package_size, max_executions,
 * proctored_default, enc_sha256, enc_size, content_version), a user (login, role,
 * org_id, password_hash, vault_public_key, vault_secret_wrapped, and `profile`: the JSON
 * {label, first_name, last_name, mail, interface_lang, default_lang} sealed to the user's
 * vault key and to each proctor of the user's centers in `org`, as
 * [{"to": user id, "sealed": base64url}]). Central only. */
int changes_read(struct instance *central, const char *org, int64_t since, int limit,
                 struct changes_page *out, struct op_err *e);
void changes_page_free(struct changes_page *p);

/* The highest seq of the whole change feed (all organisations), 0 when it is empty. */
int changes_feed_seq(struct instance *central, int64_t *seq, struct op_err *e);
/* Makes ahead what the pages of the changes after seq `after` need (in every organisation
 * with such changes): builds those pages and drops them, which keeps their sealed boxes and
 * each organisation's digest (store/sealed.h, sync_digests), so that the next device to sync
 * reads them instead of sealing. Called by central's imports after they commit, with the seq
 * from before the import: the sealing is paid once, by the import, not by the first device's
 * first sync. A cache: the caller may ignore a failure. Central only. */
int changes_prepare(struct instance *central, int64_t after, struct op_err *e);
/* changes_prepare, a failure logged and ignored (the import it follows has committed). */
void changes_prepare_quietly(struct instance *central, int64_t after);

#endif
