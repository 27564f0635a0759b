/*
 * envelope_fixture.h - result envelopes for the unit tests: a header of the test taker TAKER
 * for DELIVERY, sealed to a results key and signed by a device key, and re-signing a header a
 * test changed (as the device, or a thief with its key, can). Static functions, included by
 * test_envelope.c and test_app_results.c.
 */
#ifndef OUTPOST_TESTS_ENVELOPE_FIXTURE_H
#define OUTPOST_TESTS_ENVELOPE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "crypto/envelope.h"
#include "crypto/keys.h"
#include "crypto/sign.h"
#include "testutil.h"

static const char *PAYLOAD = "{\"score\": 7, \"items\": [\"i1\", \"i2\"]}";

#define TAKER    "aaaaaaaa-0000-4000-8000-000000000001"
#define DELIVERY "dddddddd-0000-4000-8000-000000000001"

/* A finished result of TAKER for DELIVERY from `device_id`, with fresh ids. */
static inline struct envelope_header envfx_header(const char *device_id)
{
    struct envelope_header h;
    memset(&h, 0, sizeof h);
    h.state = ENVELOPE_FINISHED;
    uuid_generate(h.result_id);
    uuid_generate(h.execution_id);
    snprintf(h.delivery_id, sizeof h.delivery_id, "%s", DELIVERY);
    snprintf(h.test_taker_id, sizeof h.test_taker_id, "%s", TAKER);
    snprintf(h.device_id, sizeof h.device_id, "%s", device_id);
    h.started_at = 1700000000;
    h.ended_at = 1700003600;
    h.sealed_at = 1700003601;
    return h;
}

/* The envelope of `h` and `payload`, sealed to `results` and signed by `device` (caller
 * frees). */
static inline unsigned char *envfx_seal(const struct envelope_header *h, const char *payload,
                                        const struct key *results, const struct key *device,
                                        size_t *len)
{
    unsigned char *out;
    struct op_err e = {0};
    if (envelope_seal(h, (const unsigned char *)payload, strlen(payload), results->public_key,
                      device, &out, len, &e) != 0)
        fail_msg("seal: %s", e.msg);
    return out;
}

/* Re-signs an envelope whose header was changed: the signature then verifies, only central's
 * checks of the header stand in the way. */
static inline void envfx_resign(const struct key *device, unsigned char *data, size_t len)
{
    size_t ct = len - ENVELOPE_HEADER_BYTES - ENVELOPE_SIGNATURE_BYTES;
    struct op_err e = {0};
    assert_int_equal(sign_detached(SIGN_CONTEXT_RESULT_ENVELOPE, data, ENVELOPE_HEADER_BYTES + ct,
                                   device, data + ENVELOPE_HEADER_BYTES + ct, &e),
                     0);
}

#endif
