/* test_app_results_export.c - the exports of a delivery's results (app/results_export.h): the
 * CSV holds the results tab's figures, RFC 4180 quoting and formulas neutralised; the QTI XML
 * documents validate against IMS's imsqti_result_v2p1.xsd and hold the same figures; the
 * caller's scope and the filters apply; a large export streams in bounded memory. On SQLite
 * and PostgreSQL. */
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "app/results_export.h"
#include "base/buf.h"
#include "app_instance_fixture.h"
#include "results_fixture.h"

static int setup(void **state)
{
    *state = rf_on(fx_instance(ROLE_CENTRAL));
    return 0;
}

static int teardown(void **state)
{
    struct rf *f = *state;
    struct instance *inst = f->inst;
    rf_release(f);
    fx_instance_free(inst);
    return 0;
}

/* ada C1 3/5, alan C1 terminated 1/5 (label =HYPERLINK("x"), NOTE @SUM(A1), response =1+2),
 * grace C1B 5/5 (label with a comma and quotes), edsger C2 2/5; decrypted; then one pending. */
static void results(struct rf *f, char ids[5][UUID_STR_LEN])
{
    const struct rf_spec s[5] = {
        {RF_TAKER(1), RF_C1, 0, 0, 3, 5, "choice_a", NULL},
        {RF_TAKER(2), RF_C1, 0, 1, 1, 5, "=1+2", "@SUM(A1)"},
        {RF_TAKER(3), RF_C1B, 0, 0, 5, 5, "line one\nline <two> & \"three\"", "-2+3"},
        {RF_TAKER(4), RF_C2, 1, 0, 2.5, 5, "choice_d", NULL},
        {RF_TAKER(1), RF_C1, 0, 0, 4, 5, NULL, NULL},
    };
    for (int i = 0; i < 4; i++)
        rf_result(f, &s[i], ids[i]);
    rf_decrypt(f);
    rf_result(f, &s[4], ids[4]);
}

static int to_buf(const void *data, size_t len, void *ctx, struct op_err *e)
{
    (void)e;
    return buf_append(ctx, data, len) == 0 ? 0 : OP_ENOMEM;
}

/* ---- a small RFC 4180 reader for the checks ---- */

#define MAXCELLS 32
struct csv_row {
    char *cell[MAXCELLS];
    int n;
};

/* Reads one record from *p (CRLF-terminated); 0 at the end. */
static int csv_read(const char **p, struct csv_row *r)
{
    const char *s = *p;
    if (!*s)
        return 0;
    r->n = 0;
    for (;;) {
        struct buf c = BUF_INIT;
        buf_puts(&c, "");
        if (*s == '"') {
            s++;
            for (;;) {
                assert_true(*s != '\0');
                if (s[0] == '"' && s[1] == '"') {
                    buf_puts(&c, "\"");
                    s += 2;
                } else if (s[0] == '"') {
                    s++;
                    break;
                } else {
                    buf_append(&c, s++, 1);
                }
            }
        } else {
            while (*s && *s != ',' && *s != '\r') {
                assert_true(*s != '\n' && *s != '"');
                buf_append(&c, s++, 1);
            }
        }
        assert_true(r->n < MAXCELLS);
        r->cell[r->n++] = buf_detach(&c);
        if (*s == ',') {
            s++;
            continue;
        }
        assert_true(s[0] == '\r' && s[1] == '\n'); /* CRLF, never a bare LF */
        *p = s + 2;
        return 1;
    }
}

static void csv_free(struct csv_row *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->cell[i]);
    r->n = 0;
}

static int col(const struct csv_row *head, const char *name)
{
    for (int i = 0; i < head->n; i++)
        if (strcmp(head->cell[i], name) == 0)
            return i;
    fail_msg("no column %s", name);
    return -1;
}

/* The tab's rows (app_results_page) by id. */
static json_t *tab_rows(struct rf *f, const char *admin)
{
    const struct app_results_query q = {.delivery = RF_DELIV, .admin_id = admin};
    struct op_err e = {0};
    json_t *p = NULL;
    assert_int_equal(app_results_page(f->inst, &q, NULL, 500, &p, &e), 0);
    json_t *by = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(p, "results"), i, r)
        json_object_set(by, json_string_value(json_object_get(r, "id")), r);
    json_decref(p);
    return by;
}

static double num(const char *s)
{
    return *s ? strtod(s, NULL) : NAN;
}

static void test_the_csv_holds_the_tabs_figures_quoted_and_with_formulas_neutralised(void **state)
{
    struct rf *f = *state;
    char ids[5][UUID_STR_LEN];
    results(f, ids);
    struct buf csv = BUF_INIT;
    struct app_results_export_out out;
    struct op_err e = {0};
    const struct app_results_query q = {.delivery = "Maths 2026"};
    assert_int_equal(app_results_export_csv(f->inst, &q, to_buf, &csv, &out, &e), 0);
    assert_int_equal(out.results, 5);
    assert_int_equal(out.outcomes, 3); /* NOTE, SCORE_TOTAL, SCORE_TOTAL_MAX */
    const char *p = csv.data;
    assert_non_null(strstr(p, "result_id,execution_id,test_taker_login,test_taker_label,"
                              "test_center,device,started_at,ended_at,state,status,review,"
                              "score,max_score,NOTE,SCORE_TOTAL,SCORE_TOTAL_MAX\r\n") == p);
    /* quoting and neutralising, as a spreadsheet reads the bytes */
    assert_non_null(strstr(p, ",\"'=HYPERLINK(\"\"x\"\")\","));
    assert_non_null(strstr(p, ",\"Grace \"\"Amazing\"\" Hopper, USN\","));
    assert_non_null(strstr(p, ",'@SUM(A1),"));
    assert_non_null(strstr(p, ",'-2+3,"));
    assert_non_null(strstr(p, ",Lycée A,"));
    assert_null(strstr(p, ",=")); /* no cell starts a formula */

    struct csv_row head, r;
    assert_int_equal(csv_read(&p, &head), 1);
    json_t *tab = tab_rows(f, NULL);
    int rows = 0;
    while (csv_read(&p, &r)) {
        assert_int_equal(r.n, head.n);
        json_t *t = json_object_get(tab, r.cell[col(&head, "result_id")]);
        assert_non_null(t);
        json_t *taker = json_object_get(t, "test_taker");
        assert_string_equal(r.cell[col(&head, "test_taker_login")],
                            json_string_value(json_object_get(taker, "login")));
        assert_string_equal(r.cell[col(&head, "state")],
                            json_string_value(json_object_get(t, "state")));
        assert_string_equal(r.cell[col(&head, "started_at")],
                            json_string_value(json_object_get(t, "started_at")));
        json_t *score = json_object_get(t, "score");
        if (json_is_null(score))
            assert_string_equal(r.cell[col(&head, "score")], "");
        else
            assert_true(num(r.cell[col(&head, "score")]) == json_number_value(score));
        json_t *center = json_object_get(json_object_get(t, "center"), "label");
        assert_string_equal(r.cell[col(&head, "test_center")], json_string_value(center));
        rows++;
        csv_free(&r);
    }
    assert_int_equal(rows, 5);
    csv_free(&head);
    json_decref(tab);
    buf_free(&csv);
}

/* Puts into the decrypted result `id` a file given for item `item`'s response `resp` (the
 * opened form decrypt-results keeps: app/upload.h), beside its other responses; `values`: as
 * a terminated test's item holds them, responses and outcomes together. */
static void give_file(struct rf *f, const char *id, const char *item, const char *resp,
                      const char *name, const char *type, int size, int values)
{
    struct op_err e = {0};
    char *text = NULL;
    assert_int_equal(results_get_json(f->inst->db, id, &text, &e), 0);
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    json_t *items = json_object_get(json_object_get(doc, "outcome"), "items");
    json_t *it = json_object_get(items, item);
    if (!it) {
        json_object_set_new(items, item, json_pack("{s:s}", "identifier", item));
        it = json_object_get(items, item);
    }
    const char *where = values ? "values" : "responses";
    if (!json_object_get(it, where))
        json_object_set_new(it, where, json_object());
    json_object_set_new(
        json_object_get(it, where), resp,
        json_pack("{s:s, s:s, s:i, s:s, s:s}", "name", name, "type", type, "size", size, "sha256",
                  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "data",
                  "dGVzdA=="));
    char *out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    struct db_stmt *st =
        db_stmt(f->inst->db, "UPDATE results SET result_json = ?1 WHERE id = ?2", &e);
    assert_non_null(st);
    db_bind_text(st, 1, out);
    db_bind_text(st, 2, id);
    assert_int_equal(db_step_done(f->inst->db, st, "update", &e), 0);
    free(out);
}

/* Uploads and drawings: a column per question's file response any result holds (ITEM.RESPONSE,
 * after the outcomes, sorted), its cell the file's name, type, size and SHA-256 (a name that
 * would run as a formula neutralised); never the bytes; empty where no file was given or the
 * result is not decrypted yet. */
static void test_the_csv_has_a_column_per_file_response_with_name_type_size_and_sha256(void **state)
{
    struct rf *f = *state;
    char ids[5][UUID_STR_LEN];
    results(f, ids);
    give_file(f, ids[0], "i1", "ESSAY", "my essay, v2.pdf", "application/pdf", 35840, 0);
    give_file(f, ids[0], "i3", "DRAWING", "drawing.png", "image/png", 2048, 0);
    give_file(f, ids[1], "i1", "ESSAY", "=cmd.txt", "text/plain", 4, 1); /* terminated */
    struct buf csv = BUF_INIT;
    struct app_results_export_out out;
    struct op_err e = {0};
    const struct app_results_query q = {.delivery = RF_DELIV};
    assert_int_equal(app_results_export_csv(f->inst, &q, to_buf, &csv, &out, &e), 0);
    assert_int_equal(out.results, 5);
    assert_int_equal(out.files, 2);
    const char *p = csv.data;
    assert_non_null(strstr(p, ",score,max_score,NOTE,SCORE_TOTAL,SCORE_TOTAL_MAX,i1.ESSAY,"
                              "i3.DRAWING\r\n"));
    assert_null(strstr(p, "dGVzdA==")); /* the content stays in the result */
    struct csv_row head, r;
    assert_int_equal(csv_read(&p, &head), 1);
    int essay = col(&head, "i1.ESSAY"), drawing = col(&head, "i3.DRAWING"), rows = 0;
    while (csv_read(&p, &r)) {
        const char *id = r.cell[col(&head, "result_id")];
        if (strcmp(id, ids[0]) == 0) {
            assert_string_equal(r.cell[essay], "my essay, v2.pdf (application/pdf, 35840 bytes, "
                                               "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2"
                                               "b0b822cd15d6c15b0f00a08)");
            assert_string_equal(r.cell[drawing],
                                "drawing.png (image/png, 2048 bytes, sha256 9f86d081884c7d659a2"
                                "feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08)");
        } else if (strcmp(id, ids[1]) == 0) {
            assert_non_null(strstr(r.cell[essay], "'=cmd.txt (text/plain, 4 bytes, sha256 "));
            assert_string_equal(r.cell[drawing], "");
        } else {
            assert_string_equal(r.cell[essay], "");
            assert_string_equal(r.cell[drawing], "");
        }
        rows++;
        csv_free(&r);
    }
    assert_int_equal(rows, 5);
    csv_free(&head);
    buf_free(&csv);
}

/* ---- QTI XML ---- */

static xmlSchemaPtr load_schema(void)
{
    const char *src = getenv("OUTPOST_SOURCE");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/qti-results/imsqti_result_v2p1.xsd",
             src ? src : ".");
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
    xmlSchemaPtr s = pc ? xmlSchemaParse(pc) : NULL;
    xmlSchemaFreeParserCtxt(pc);
    if (!s)
        fail_msg("cannot load %s", path);
    return s;
}

/* Validates `xml` against the schema; returns the parsed document (caller frees). */
static xmlDocPtr validate(xmlSchemaPtr schema, const char *xml, size_t len)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, "result.xml", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    int rc = xmlSchemaValidateDoc(vc, doc);
    xmlSchemaFreeValidCtxt(vc);
    if (rc != 0)
        fail_msg("the document does not validate against imsqti_result_v2p1.xsd:\n%.*s", (int)len,
                 xml);
    return doc;
}

/* The text of <value> of the test's outcomeVariable `name`, or NULL. */
static char *test_outcome(xmlDocPtr doc, const char *name)
{
    for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "testResult") != 0)
            continue;
        for (xmlNodePtr v = n->children; v; v = v->next) {
            if (v->type != XML_ELEMENT_NODE)
                continue;
            xmlChar *id = xmlGetProp(v, (const xmlChar *)"identifier");
            int match = id && strcmp((const char *)id, name) == 0;
            xmlFree(id);
            if (match) {
                for (xmlNodePtr x = v->children; x; x = x->next)
                    if (x->type == XML_ELEMENT_NODE)
                        return (char *)xmlNodeGetContent(x);
            }
        }
    }
    return NULL;
}

static void test_the_qti_xml_validates_against_ims_schema_and_holds_the_tabs_figures(void **state)
{
    struct rf *f = *state;
    char ids[5][UUID_STR_LEN];
    results(f, ids);
    xmlSchemaPtr schema = load_schema();
    char *dir = testutil_tmpdir();
    char *path = fs_join(dir, "results.zip");
    struct app_results_export_out out;
    struct op_err e = {0};
    const struct app_results_query q = {.delivery = RF_DELIV};
    assert_int_equal(app_results_export_file(f->inst, &q, APP_EXPORT_QTI_XML, path, &out, &e), 0);
    assert_int_equal(out.results, 4);
    assert_int_equal(out.skipped, 1); /* the pending one */
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &zerr);
    assert_non_null(za);
    assert_int_equal(zip_get_num_entries(za, 0), 4);
    json_t *tab = tab_rows(f, NULL);
    for (zip_int64_t i = 0; i < 4; i++) {
        zip_stat_t st;
        assert_int_equal(zip_stat_index(za, (zip_uint64_t)i, 0, &st), 0);
        char *xml = malloc(st.size + 1);
        zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)i, 0);
        assert_int_equal(zip_fread(zf, xml, st.size), (zip_int64_t)st.size);
        zip_fclose(zf);
        xml[st.size] = '\0';
        xmlDocPtr doc = validate(schema, xml, st.size);
        char id[UUID_STR_LEN];
        snprintf(id, sizeof id, "%.36s", st.name);
        json_t *t = json_object_get(tab, id);
        assert_non_null(t);
        char *score = test_outcome(doc, "SCORE_TOTAL");
        assert_non_null(score);
        assert_true(strtod(score, NULL) == json_number_value(json_object_get(t, "score")));
        xmlFree(score);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "sourcedId=\"r-%s\"", id);
        assert_non_null(strstr(xml, ctx));
        xmlFreeDoc(doc);
        free(xml);
    }
    zip_close(za);
    json_decref(tab);

    /* one result's document; the multi-line answer kept as text */
    struct buf one = BUF_INIT;
    assert_int_equal(app_results_qti_xml(f->inst, ids[2], NULL, to_buf, &one, &e), 0);
    xmlDocPtr doc = validate(schema, one.data, one.len);
    xmlFreeDoc(doc);
    assert_non_null(strstr(one.data, "line one&#10;line &lt;two&gt; &amp; &quot;three&quot;"));
    assert_non_null(strstr(one.data, "<itemResult identifier=\"i2\" sequenceIndex=\"2\""));
    assert_non_null(strstr(one.data, "<responseVariable identifier=\"RESPONSE\" cardinality="
                                     "\"multiple\"><candidateResponse><value>A</value><value>B"
                                     "</value></candidateResponse>"));
    buf_free(&one);
    /* the terminated one: responses among its variables */
    assert_int_equal(app_results_qti_xml(f->inst, ids[1], NULL, to_buf, &one, &e), 0);
    doc = validate(schema, one.data, one.len);
    xmlFreeDoc(doc);
    buf_free(&one);
    assert_int_equal(app_results_qti_xml(f->inst, ids[4], NULL, to_buf, &one, &e), OP_ESTATE);
    assert_int_equal(app_results_qti_xml(f->inst, ids[3], RF_ADMIN1, to_buf, &one, &e),
                     OP_ENOTFOUND);
    buf_free(&one);
    xmlSchemaFree(schema);
    free(path);
    testutil_rmdir(dir);
}

static void test_exports_keep_to_the_callers_scope_and_the_filters(void **state)
{
    struct rf *f = *state;
    char ids[5][UUID_STR_LEN];
    results(f, ids);
    struct buf csv = BUF_INIT;
    struct app_results_export_out out;
    struct op_err e = {0};
    struct app_results_query q = {.delivery = RF_DELIV, .admin_id = RF_ADMIN2};
    assert_int_equal(app_results_export_csv(f->inst, &q, to_buf, &csv, &out, &e), 0);
    assert_int_equal(out.results, 1);
    assert_non_null(strstr(csv.data, ids[3]));
    assert_null(strstr(csv.data, ids[0]));
    buf_free(&csv);
    q = (struct app_results_query){.delivery = RF_DELIV, .state = "terminated"};
    assert_int_equal(app_results_export_csv(f->inst, &q, to_buf, &csv, &out, &e), 0);
    assert_int_equal(out.results, 1);
    buf_free(&csv);
    enum app_export_format fmt;
    assert_int_equal(app_results_export_format_of("xlsx", &fmt, &e), OP_EINPUT);
    assert_string_equal(e.field, "format");
    /* a failed export leaves no file */
    char *dir = testutil_tmpdir();
    char *path = fs_join(dir, "out.csv");
    q = (struct app_results_query){.delivery = "no such delivery"};
    assert_int_equal(app_results_export_file(f->inst, &q, APP_EXPORT_CSV, path, &out, &e),
                     OP_ENOTFOUND);
    assert_true(fs_dir_is_empty(dir) == 1);
    free(path);
    testutil_rmdir(dir);
}

/* ---- bounded memory ---- */

#define MANY      4000
#define NOTE_SIZE 2000

struct watch {
    size_t base, peak;
    size_t bytes;
};

static size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

static int watch_write(const void *data, size_t len, void *ctx, struct op_err *e)
{
    (void)data;
    (void)e;
    struct watch *w = ctx;
    w->bytes += len;
    size_t now = heap_in_use();
    if (now > w->peak)
        w->peak = now;
    return 0;
}

static void test_a_large_export_streams_in_bounded_memory(void **state)
{
    struct rf *f = *state;
    struct op_err e = {0};
    char note[NOTE_SIZE + 1];
    memset(note, 'n', NOTE_SIZE);
    note[NOTE_SIZE] = '\0';
    char outcomes[NOTE_SIZE + 128];
    snprintf(outcomes, sizeof outcomes, "{\"NOTE\":\"%s\",\"SCORE_TOTAL\":2}", note);
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    struct db_stmt *st = NULL;
    for (int i = 0; i < MANY; i++) {
        char id[UUID_STR_LEN], x[UUID_STR_LEN], t[TIMESTAMP_STR_LEN];
        uuid_generate(id);
        uuid_generate(x);
        timestamp_format(1800000000 + i, t);
        st = db_stmt(f->inst->db,
                     "INSERT INTO results (id, execution_id, delivery_id, test_taker_id,"
                     " device_id, key_id, state, started_at, ended_at, sealed_at, envelope,"
                     " envelope_sha256, status, received_at, result_json, decrypted_at,"
                     " center_id, outcomes_json) VALUES (?1, ?2, ?3, ?4, ?5, 'k', 'finished',"
                     " ?6, ?6, ?6, ?7, 'sha', 'decrypted', ?6, ?8, ?6, ?9, ?10)",
                     &e);
        assert_non_null(st);
        const char *v[] = {id, x, RF_DELIV, RF_TAKER(1), f->dev1_id, t};
        db_bind_texts(st, 1, v, 6);
        db_bind_blob(st, 7, "e", 1);
        db_bind_text(st, 8, "{\"outcome\":{\"outcomes\":{\"SCORE_TOTAL\":2}}}");
        db_bind_text(st, 9, RF_C1);
        db_bind_text(st, 10, outcomes);
        assert_int_equal(db_step_done(f->inst->db, st, "insert", &e), 0);
    }
    assert_int_equal(db_commit(f->inst->db, &e), 0);
    struct watch w = {heap_in_use(), 0, 0};
    w.peak = w.base;
    struct app_results_export_out out;
    const struct app_results_query q = {.delivery = RF_DELIV};
    assert_int_equal(app_results_export_csv(f->inst, &q, watch_write, &w, &out, &e), 0);
    assert_int_equal(out.results, MANY);
    assert_true(w.bytes > (size_t)MANY * NOTE_SIZE); /* 8 MB written */
    if (w.base > 0) /* mallinfo2 counts (not under a sanitizer's allocator) */
        assert_true(w.peak - w.base < (size_t)4 << 20);
    /* the archive: documents made one at a time; what stays is a small record per entry */
    char *dir = testutil_tmpdir();
    char *path = fs_join(dir, "big.zip");
    assert_int_equal(app_results_export_file(f->inst, &q, APP_EXPORT_QTI_XML, path, &out, &e), 0);
    assert_int_equal(out.results, MANY);
    free(path);
    testutil_rmdir(dir);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_the_csv_holds_the_tabs_figures_quoted_and_with_formulas_neutralised),
        T(test_the_csv_has_a_column_per_file_response_with_name_type_size_and_sha256),
        T(test_the_qti_xml_validates_against_ims_schema_and_holds_the_tabs_figures),
        T(test_exports_keep_to_the_callers_scope_and_the_filters),
        T(test_a_large_export_streams_in_bounded_memory),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xmlCleanupParser();
    return rc;
}
