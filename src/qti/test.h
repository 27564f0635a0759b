/*
 * test.h - the QTI assessmentTest (QTI 2.1/2.2 Information Model, "Tests"): test parts,
 * nested sections, item references, selection and ordering, item session control, time
 * limits, preconditions, branch rules, rubric blocks, test feedback, outcome declarations and
 * outcome processing.
 *
 * A test is read once from QTI XML on central (qti_test_parse), strictly: an unknown element
 * or attribute of the test model is refused with its file and line, as TAO's schema
 * validation does; then it travels in the compiled delivery package as JSON
 * (qti_test_to_json / qti_test_from_json). The route a candidate takes through the test is
 * built from a seed by qti_test_route, so the same seed gives the same selection and order.
 *
 * Ownership: a test returned by qti_test_parse / qti_test_from_json belongs to the caller
 * (qti_test_free); every pointer inside belongs to the test. A route belongs to the caller
 * (qti_route_free) and borrows the test's nodes: free the route first.
 */
#ifndef OUTPOST_QTI_TEST_H
#define OUTPOST_QTI_TEST_H

#include <jansson.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "qti/decl.h"
#include "qti/expr.h"
#include "qti/rules.h"
#include "qti/xhtml.h"

#define QTI_TEST_MAX_NODES  100000 /* sections and item refs in one test */
#define QTI_TEST_MAX_DEPTH  32     /* nesting of sections */
#define QTI_TEST_MAX_ROUTE  100000 /* item occurrences on a route (selection with replacement) */
#define QTI_TEST_MAX_SELECT 10000  /* largest `select` accepted */
/* assessmentSectionRef: section files read for one test, and their bytes together */
#define QTI_TEST_MAX_SECTION_REFS  1000
#define QTI_TEST_MAX_SECTION_BYTES ((size_t)16 * 1024 * 1024)

enum qti_navigation { QTI_NAV_LINEAR = 0, QTI_NAV_NONLINEAR };
enum qti_submission { QTI_SUB_INDIVIDUAL = 0, QTI_SUB_SIMULTANEOUS };

/* itemSessionControl: -1 means "not set here, inherit"; qti_isc_effective resolves it. */
struct qti_isc {
    int max_attempts; /* 0: unlimited */
    int allow_skipping, validate_responses, show_feedback, allow_review, show_solution,
        allow_comment;
};

struct qti_time_limits {
    bool present;
    bool has_min, has_max;
    double min_time, max_time; /* seconds */
    bool allow_late_submission;
};

/* branchRule: go to `target` (an item ref, section or part identifier, or EXIT_TEST,
 * EXIT_TESTPART, EXIT_SECTION) when `cond` is true. */
struct qti_branch_rule {
    char *target;
    struct qti_expr *cond;
    int line;
};

/* rubricBlock: XHTML for the views listed ("candidate", "scorer", ...), sanitised like item
 * bodies (qti/xhtml.h), asset URLs rewritten relative to the package root. */
struct qti_rubric {
    char **views;
    size_t nviews;
    char *xhtml; /* the block's content as XHTML text */
};

/* testFeedback: shown when outcome `outcome` (does / does not, by `show`) hold `identifier`,
 * during the test part or at its end (`at_end`). */
struct qti_test_feedback {
    char *identifier;
    char *outcome;
    bool show;
    bool at_end;
    char *title;
    char *xhtml;
};

struct qti_weight {
    char *identifier;
    double value;
};

struct qti_var_mapping {
    char *source, *target;
};

struct qti_template_default {
    char *identifier;
    struct qti_expr *expr;
};

enum qti_node_kind { QTI_NODE_SECTION = 0, QTI_NODE_ITEM };

/* An assessmentSection or an assessmentItemRef. */
struct qti_node {
    enum qti_node_kind kind;
    char *identifier;
    int line;
    /* the archive path of the file it was written in when not the test's (a section file
     * of an assessmentSectionRef), else NULL; for messages only, not in the JSON form */
    char *src;
    int part;                /* index of the test part it belongs to */
    struct qti_node *parent; /* NULL for a section directly in a test part */
    bool required, fixed;
    struct qti_expr **preconditions;
    size_t npre;
    struct qti_branch_rule *branches;
    size_t nbranches;
    struct qti_isc isc;
    struct qti_time_limits time_limits;

    /* section */
    char *title;
    bool visible, keep_together;
    bool has_selection, with_replacement;
    int select;
    bool shuffle;
    struct qti_rubric *rubrics;
    size_t nrubrics;
    struct qti_node **children;
    size_t nchildren;

    /* item ref */
    char *href; /* archive path of the item, resolved against the test file */
    char **categories;
    size_t ncategories;
    struct qti_weight *weights;
    size_t nweights;
    struct qti_var_mapping *mappings;
    size_t nmappings;
    struct qti_template_default *template_defaults;
    size_t ntemplate_defaults;
};

struct qti_test_part {
    char *identifier;
    int line;
    enum qti_navigation navigation;
    enum qti_submission submission;
    struct qti_expr **preconditions;
    size_t npre;
    struct qti_branch_rule *branches;
    size_t nbranches;
    struct qti_isc isc;
    struct qti_time_limits time_limits;
    struct qti_node **sections;
    size_t nsections;
    struct qti_test_feedback *feedback;
    size_t nfeedback;
};

struct qti_test {
    char *identifier;
    char *title;
    char *tool_name, *tool_version;
    struct qti_time_limits time_limits;
    struct qti_decl **outcomes;
    size_t noutcomes;
    struct qti_test_part *parts;
    size_t nparts;
    struct qti_rules *outcome_processing; /* NULL if none */
    struct qti_test_feedback *feedback;
    size_t nfeedback;
    struct qti_assets assets; /* package paths rubric blocks and feedback reference */
    /* read from a package: the links of rubric blocks and feedback made inert (test.c); not
     * in the JSON form */
    struct qti_warnings warnings;
};

/* Parses the assessmentTest in `doc`. `file` is the archive path of the test (item hrefs are
 * resolved against it) and `where` prefixes every message ("Basic.zip: test.xml"). Checks:
 * known elements and attributes only, identifiers unique across parts, sections and item
 * refs, no item ref named like the route key of another's occurrence ("Q04.1" beside "Q04"),
 * selection/ordering consistent (select >= required children unless with replacement), branch
 * rule targets name a part, section or item ref of the test. On success *out is the caller's. */
int qti_test_parse(xmlDocPtr doc, const char *file, const char *where, struct qti_test **out,
                   struct op_err *e);

struct qti_package; /* package.h */

/* The same for a test of package `pkg` (may be NULL: as qti_test_parse), where
 * assessmentSectionRef is resolved (QTI 2.1/2.2): its href, relative to the file it is
 * written in, names a file of the archive whose root is an assessmentSection; that section
 * takes the reference's place with its own identifier and content (as TAO's qtism does), the
 * reference's preConditions and branchRules before the section's own, its itemSessionControl
 * and timeLimits where the section has none, and required or fixed when either says so. Item
 * refs, rubric block assets and further section refs inside a section file are resolved from
 * that file. A missing file, a file that is not an assessmentSection, malformed XML, a ref
 * to a file already being read (circular) and more than QTI_TEST_MAX_SECTION_REFS files or
 * QTI_TEST_MAX_SECTION_BYTES bytes of them are refused, naming the file and line of the
 * reference. `pkg` is only read during the call. */
int qti_test_parse_package(const struct qti_package *pkg, xmlDocPtr doc, const char *file,
                           const char *where, struct qti_test **out, struct op_err *e);
void qti_test_free(struct qti_test *t);

/* The effective item session control of an item ref: its own settings, else the nearest
 * enclosing section's, else the test part's, else the QTI defaults (maxAttempts 1,
 * allowSkipping true, validateResponses false, showFeedback false, allowReview true,
 * showSolution false, allowComment false). */
struct qti_isc qti_isc_effective(const struct qti_test *t, const struct qti_node *item);

/* Finds a node (section or item ref) by identifier; NULL if none. */
const struct qti_node *qti_test_find(const struct qti_test *t, const char *identifier);
/* Finds a test part by identifier; -1 if none. */
int qti_test_find_part(const struct qti_test *t, const char *identifier);
/* The outcome declaration `identifier` of the test, or NULL. */
const struct qti_decl *qti_test_outcome(const struct qti_test *t, const char *identifier);

/* Calls fn for every item ref of the test in document order. */
typedef int (*qti_test_item_fn)(const struct qti_node *item, void *arg);
int qti_test_each_item(const struct qti_test *t, qti_test_item_fn fn, void *arg);

/* JSON of the structure (the compiled delivery package's "test" entry); new reference owned
 * by the caller. Branch rules, preconditions and outcome processing are included: they hold
 * no correct answers. */
json_t *qti_test_to_json(const struct qti_test *t);
/* Reads what qti_test_to_json wrote, with the same checks. *out is the caller's. */
int qti_test_from_json(const json_t *j, struct qti_test **out, struct op_err *e);

/* ---- the route ---- */

/* One item occurrence on a route. */
struct qti_route_entry {
    const struct qti_node *item;
    int part;
    int occurrence; /* 1 for the first occurrence of this item ref, 2 for the next, ... */
    char *key;      /* "Q01" for a single occurrence; "Q01.1", "Q01.2" when an item appears
                       several times */
};

struct qti_route {
    struct qti_route_entry *entries;
    size_t n;
};

/* Builds the route for `seed`: selection then ordering in every section, depth first, as
 * the spec describes; sections that are invisible and not keepTogether mix their items with
 * their parent's when the parent shuffles. Deterministic for a given seed. */
int qti_test_route(const struct qti_test *t, uint64_t seed, struct qti_route *out,
                   struct op_err *e);
void qti_route_free(struct qti_route *r);

/* The generator used for routes (splitmix64): exposed so the session keeps one stream. */
uint64_t qti_splitmix64(uint64_t *state);

#endif
