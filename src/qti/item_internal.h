/*
 * item_internal.h - the inside of struct qti_item, shared by item.c (which builds it from
 * XML), item_json.c (which writes it as JSON and loads it back) and item_session.c (which
 * runs it). Nothing outside src/qti/item*.c includes this.
 */
#ifndef OUTPOST_QTI_ITEM_INTERNAL_H
#define OUTPOST_QTI_ITEM_INTERNAL_H

#include "qti/item.h"
#include "qti/rules.h"

enum fb_kind { FB_MODAL, FB_BLOCK, FB_INLINE };

struct item_cond {
    char key[16];
    enum fb_kind kind;
    char *outcome_identifier; /* or templateIdentifier for templates */
    char *identifier;
    int show; /* showHide="show" */
    char *title;
    char *html; /* feedback: the hidden content; templates: NULL (content stays in body) */
};

struct item_printed {
    char key[16];
    char *identifier;
    char *format;
    int base;
    char *delimiter;
    char *field;
    char *index;
    char feedback[16]; /* key of the innermost feedback holding it, "" if none: its value is
                          only sent while that feedback is visible */
};

struct qti_item {
    char *href;
    char *identifier;
    char *title;
    char *label;
    int adaptive;
    int time_dependent;

    size_t ndecls;
    struct qti_decl **decls;
    struct qti_rules *template_processing; /* NULL when none */
    struct qti_rules *response_processing; /* NULL when none */

    size_t nstyles;
    char **styles;
    struct qti_assets assets;
    struct qti_warnings warnings; /* what the import changed (inert links); not compiled */
    char *body_html;

    size_t ninteractions;
    struct qti_interaction **interactions;

    size_t nfeedback;
    struct item_cond *feedback;
    size_t ntemplates;
    struct item_cond *templates;
    size_t nprinted;
    struct item_printed *printed;
};

/* Appends d (owned by the item from now on; NULL is kept and reported by item_add_builtins). */
void item_add_decl(struct qti_item *item, struct qti_decl *d);

/* Declares the built-in variables every item has (numAttempts, duration, completionStatus). */
int item_add_builtins(struct qti_item *item, struct op_err *e);

/* Whether an interaction of kind k can be bound to response variable d. */
int item_base_type_fits(enum qti_interaction_kind k, const struct qti_decl *d);

#endif
