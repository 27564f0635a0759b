/*
 * results_export.h - the results of a delivery exported (outpost results export, the results
 * tab's export buttons): a CSV file, or IMS QTI 2.1 Result Reporting XML. Both read the rows
 * of the results tab (app/results_view.h), with its filters and the caller's scope, a page at
 * a time, so that memory stays bounded whatever the number of results.
 *
 * CSV (RFC 4180): UTF-8 without a byte order mark, CRLF line ends, a header row, every cell
 * that holds a comma, a double quote, CR or LF quoted (quotes doubled). Text cells that a
 * spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage return)
 * are neutralised by a leading single quote ('=SUM(A1) is shown, not computed); numbers that
 * outpost writes itself (scores, outcomes) are written as numbers. Columns: result_id,
 * execution_id, test_taker_login, test_taker_label, test_center, device, started_at,
 * ended_at, state, status, review, score, max_score, then one column per test-level outcome
 * any of the results has, by name (a number as a number, a text as text, a list or record as
 * compact JSON, absent or null as an empty cell), then one column per question's file response
 * (uploadInteraction, drawingInteraction) any of the results holds, named ITEM.RESPONSE (the
 * item's key in the test, the response's identifier), sorted, its cell the file's name, type,
 * size and SHA-256 ("essay.pdf (application/pdf, 35840 bytes, sha256 HEX)"; empty when none
 * was given or the result is not decrypted): the bytes stay in the result. The outcome names
 * and file columns are found by a first walk over the results, the rows written by a second.
 *
 * QTI XML: one <assessmentResult> document per result (the Result Reporting schema,
 * imsqti_result_v2p1.xsd, has one candidate session per document), so a delivery's export is
 * a ZIP archive of them, RESULT_ID.xml each; only decrypted results are in it (a pending one
 * holds nothing to report yet). A document holds the context (sourcedId "r-" and the result
 * id, then sessionIdentifiers of the result, execution, test taker login, delivery, test
 * center and device), the testResult with every test-level outcome, and an itemResult per
 * item with its responseVariables (candidateResponse) and outcomeVariables. Cardinality comes
 * from the value (a list: multiple, an object: record, else single); the base type is given
 * for numbers and booleans and left out otherwise (the schema makes it optional: a result
 * does not carry its declarations). A terminated test's items carry their variables without
 * telling responses from outcomes: those named RESPONSE... are written as responses.
 */
#ifndef OUTPOST_APP_RESULTS_EXPORT_H
#define OUTPOST_APP_RESULTS_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "app/results_view.h"
#include "base/err.h"
#include "instance/instance.h"

enum app_export_format { APP_EXPORT_CSV = 1, APP_EXPORT_QTI_XML = 2 };

/* "csv" or "qti-xml"; OP_EINPUT (field "format") naming the choices otherwise. */
int app_results_export_format_of(const char *name, enum app_export_format *out, struct op_err *e);
/* The media type and the file name extension of an export: text/csv; charset=utf-8 and csv,
 * application/zip and zip. */
const char *app_results_export_media_type(enum app_export_format f);
const char *app_results_export_extension(enum app_export_format f);

/* Where an export's bytes go: 0, or a negative OP_E* code with *e filled (OP_EIO). */
typedef int (*app_export_write_fn)(const void *data, size_t len, void *ctx, struct op_err *e);

struct app_results_export_out {
    int64_t results; /* rows written (CSV) or documents (QTI XML) */
    int64_t skipped; /* QTI XML: results left out, not decrypted */
    int outcomes;    /* CSV: outcome columns */
    int files;       /* CSV: file columns (ITEM.RESPONSE) */
};

/* Writes the CSV of the results `q` selects to `write`. */
int app_results_export_csv(struct instance *inst, const struct app_results_query *q,
                           app_export_write_fn write, void *ctx, struct app_results_export_out *out,
                           struct op_err *e);

/* Writes the QTI XML document of result `id` (decrypted; OP_ESTATE if not yet, OP_ENOTFOUND if
 * unknown or out of the scope of `admin_id`) to `write`. */
int app_results_qti_xml(struct instance *inst, const char *id, const char *admin_id,
                        app_export_write_fn write, void *ctx, struct op_err *e);

/* Writes the export of `q` in `format` to the file `path`, whole or not at all: the bytes go
 * to a temporary file beside it, put in place (replacing `path`) only once complete. Mode
 * 0600: results are personal data. */
int app_results_export_file(struct instance *inst, const struct app_results_query *q,
                            enum app_export_format format, const char *path,
                            struct app_results_export_out *out, struct op_err *e);

#endif
