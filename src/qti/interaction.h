/*
 * interaction.h - QTI interactions: what a candidate is shown and which responses are valid.
 *
 * One struct qti_interaction per interaction element of an item body. It is parsed once from
 * the XML on central, written into the item's render model JSON (qti_interaction_to_json) and
 * read back from it on devices (qti_interaction_from_json): the JSON form is complete, a
 * device never needs the XML.
 *
 * Supported: choice, order, associate, match, gapMatch, inlineChoice, textEntry, extendedText,
 * hottext, slider, hotspot, graphicOrder, graphicAssociate, selectPoint, endAttempt (a
 * button that ends the attempt: its single boolean response is true when the candidate used
 * it, false otherwise), and mediaInteraction (its single integer response is the number of
 * times the candidate played the media, bounded by minPlays and maxPlays), customInteraction
 * holding a Portable Custom Interaction (qti/pci.h: its response, of any declared base type but
 * file, is checked against its declaration only), graphicGapMatch (gapImg/gapText choices
 * placed on associableHotspots: directedPair "GAPIMG HOTSPOT") and positionObject (an image
 * placed on the picture of its positionObjectStage: point "x y" in the stage's pixels; item.c
 * reads the stage and fills stage_*), uploadInteraction and drawingInteraction (a single file
 * response: an upload of one of the `type` MIME types, or the drawing as a PNG image; what a
 * file may hold is checked by app/upload.h before the engine sees it). Any other interaction
 * is refused at parse time with "unsupported interaction X in item Y".
 *
 * Validation (qti_interaction_validate) checks a response, given in the JSON form of the
 * `outpost qti run` responses file (identifier -> string, multiple/ordered -> array,
 * pair/directedPair -> "A B", point -> "x y", integer/float -> number, null = no response),
 * against the constraints the specification puts on the interaction: minChoices/maxChoices,
 * minAssociations/maxAssociations, matchMin/matchMax of each choice, a choice that is not
 * one of the interaction's, patternMask, slider bounds and step, a point outside the image,
 * minStrings/maxStrings, the number of plays of a media within minPlays/maxPlays (0 = no
 * maximum), a gap image placed only on a hotspot within both matchMax, an object placed
 * inside its stage within minChoices/maxChoices, a file's type among the upload's `type`
 * list (a drawing's: image/png). expectedLength and expectedLines are hints
 * for the layout only and never make a response invalid. The reason is written for the test
 * taker.
 */
#ifndef OUTPOST_QTI_INTERACTION_H
#define OUTPOST_QTI_INTERACTION_H

#include <jansson.h>
#include <libxml/tree.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "qti/decl.h"
#include "qti/pci.h"
#include "qti/xhtml.h"

enum qti_interaction_kind {
    QTI_INTERACTION_CHOICE,
    QTI_INTERACTION_ORDER,
    QTI_INTERACTION_ASSOCIATE,
    QTI_INTERACTION_MATCH,
    QTI_INTERACTION_GAP_MATCH,
    QTI_INTERACTION_INLINE_CHOICE,
    QTI_INTERACTION_TEXT_ENTRY,
    QTI_INTERACTION_EXTENDED_TEXT,
    QTI_INTERACTION_HOTTEXT,
    QTI_INTERACTION_SLIDER,
    QTI_INTERACTION_HOTSPOT,
    QTI_INTERACTION_GRAPHIC_ORDER,
    QTI_INTERACTION_GRAPHIC_ASSOCIATE,
    QTI_INTERACTION_SELECT_POINT,
    QTI_INTERACTION_MEDIA,
    QTI_INTERACTION_END_ATTEMPT,
    QTI_INTERACTION_CUSTOM, /* a Portable Custom Interaction (qti/pci.h) */
    QTI_INTERACTION_GRAPHIC_GAP_MATCH,
    QTI_INTERACTION_POSITION_OBJECT,
    QTI_INTERACTION_UPLOAD,
    QTI_INTERACTION_DRAWING,
};

/* A choice: simpleChoice, simpleAssociableChoice, gapText, gapImg, gap, inlineChoice,
 * hottext, hotspotChoice, associableHotspot. */
struct qti_choice {
    char *identifier;
    char *html;           /* sanitised content ("" for gap and hotspots) */
    int fixed;            /* keeps its place when the interaction shuffles */
    int match_max;        /* associable choices: most associations (0 = unlimited) */
    int match_min;        /* associable choices: fewest associations */
    int match_set;        /* matchInteraction: 0 or 1 (which simpleMatchSet); gapMatch and
                             graphicGapMatch: 0 for the gapText/gapImg choices, 1 for the gaps
                             (gap, associableHotspot) */
    int required;         /* gap: must be filled */
    enum qti_shape shape; /* hotspots (qti/decl.h shapes); coords owned, in image pixels */
    size_t ncoords;
    double *coords;
    char *template_identifier; /* choice shown/hidden by a template variable (may be NULL) */
    int show_hide_show;        /* 1 for showHide="show" (the default), 0 for "hide" */
    char *label; /* gapImg objectLabel, associableHotspot/hotspotChoice hotspotLabel (NULL) */
    /* graphicGapMatch's gapImg: its image (package path, MIME type, size; 0 when not given),
     * kept apart from html since the sanitiser shows an SVG object as its fallback text */
    char *object_data;
    char *object_type;
    int object_width, object_height;
};

struct qti_interaction {
    enum qti_interaction_kind kind;
    char *response_identifier;
    char *prompt_html; /* sanitised prompt, NULL when none */
    char *html;        /* hottext/gapMatch: sanitised inner content with the hottext/gap
                          placeholders; NULL for the other kinds */
    int line;          /* in the item file (messages only; 0 after loading from JSON) */

    /* choices, in document order (the render order for a session is
     * qti_interaction_shuffle) */
    size_t nchoices;
    struct qti_choice *choices;
    int shuffle;

    /* choice, hottext, hotspot, graphicAssociate (max/minAssociations), selectPoint,
     * associate, match, gapMatch, graphicGapMatch, positionObject: 0 = unlimited for max */
    int max_choices;
    int min_choices;

    /* textEntry, extendedText */
    int expected_length; /* hint only */
    int expected_lines;  /* hint only */
    char *pattern_mask;  /* XML Schema regular expression the whole string must match */
    char *placeholder;
    int base;        /* number base for integer entry (default 10) */
    int max_strings; /* extendedText with multiple/ordered cardinality: 0 = unlimited */
    int min_strings;
    char *format; /* extendedText: "plain", "preFormatted" or "xhtml" */

    /* slider */
    double lower_bound;
    double upper_bound;
    double step; /* 0 = any value */
    int step_label;
    int reverse;
    char *orientation; /* "horizontal"/"vertical" or NULL */

    /* graphic interactions and mediaInteraction: the object */
    char *object_data;  /* package-relative path */
    char *object_type;  /* MIME type */
    char *object_label; /* the object's fallback text, trimmed (NULL when none) */
    int object_width;   /* 0 when not given */
    int object_height;
    int autostart; /* media */
    int min_plays;
    int max_plays;
    int loop;

    /* positionObjectInteraction: the point of its object (the image placed) that marks the
     * position, from the object's top-left corner (centerPoint; has_center 0: the middle of
     * the object), and the positionObjectStage's image, whose pixels the points are in */
    int has_center;
    int center_x, center_y;
    char *stage_data; /* package-relative path */
    char *stage_type;
    int stage_width; /* 0 when not given */
    int stage_height;

    /* uploadInteraction: the MIME types it takes (its `type` attribute: QTI gives one, a list
     * separated by spaces or commas is taken too), normalised to lower case and separated by
     * one space; NULL = any type */
    char *upload_types;

    /* endAttemptInteraction: the button's text, and whether ending the attempt this way
     * counts as an attempt (QTI 2.2 countAttempt, default true) */
    char *title;
    int count_attempt;

    /* customInteraction: its PCI (owned; qti/pci.h) */
    struct qti_pci *pci;
};

/* The name of an interaction kind as in QTI ("choiceInteraction"). */
const char *qti_interaction_kind_name(enum qti_interaction_kind kind);

/* The kind of a supported interaction element name; -1 if not supported. */
int qti_interaction_kind_from_name(const char *name, enum qti_interaction_kind *out);

/* 1 if `local_name` (QTI namespace) is an interaction element, supported or not; lets the
 * body walker tell an interaction it must refuse from unknown markup. */
int qti_interaction_is_interaction_name(const char *local_name);

/* Parses the interaction element `node` of the item `item_identifier` in the file at `href`.
 * Sanitises prompts and choice contents with `cx` (its hook renders nested QTI elements such
 * as feedbackInline inside a choice). On success *out is a new interaction the caller frees
 * with qti_interaction_free. Refuses an unsupported interaction, a missing
 * responseIdentifier, duplicate choice identifiers, a bad attribute value (all naming href
 * and line). */
int qti_interaction_parse(xmlNode *node, const char *item_identifier, struct qti_xhtml_ctx *cx,
                          struct qti_interaction **out, struct op_err *e);

void qti_interaction_free(struct qti_interaction *it);

/* The interaction as a JSON object for the render model (owned by the caller):
 * {"type": "choiceInteraction", "responseIdentifier": "RESPONSE", "prompt": "<p>..</p>",
 *  "shuffle": true, "maxChoices": 1, "minChoices": 0,
 *  "choices": [{"identifier": "A", "html": "...", "fixed": false, ...}], ...}
 * Only attributes that apply to the kind are written; nothing in it is secret. */
json_t *qti_interaction_to_json(const struct qti_interaction *it);

/* The inverse of qti_interaction_to_json; refuses a document that does not describe a valid
 * interaction (`what` names it in messages, e.g. "item Q01 interaction 2"). */
int qti_interaction_from_json(const json_t *j, const char *what, struct qti_interaction **out,
                              struct op_err *e);

/* The order in which the choices of `it` are shown for `seed`: writes a permutation of
 * 0..nchoices-1 to order[] (nchoices entries). Without shuffle it is the document order; with
 * shuffle the choices that are not fixed are permuted among the places of the non-fixed
 * choices and fixed choices stay where they are. For match interactions each match set is
 * shuffled on its own, for gapMatch only the gapText/gapImg choices (never the gaps). The
 * same seed always gives the same order. */
void qti_interaction_shuffle(const struct qti_interaction *it, uint64_t seed, size_t *order);

/* The index of the choice `identifier` in `it`, or -1. */
int qti_interaction_find_choice(const struct qti_interaction *it, const char *identifier);

/* Why a response is not valid: which rule failed (the QTI attribute name, e.g. "maxChoices",
 * "patternMask", "choice", "step", "bounds", "point", "matchMax", "minAssociations") and a
 * sentence for the test taker ("Select at most 2 answers."). */
struct qti_invalid {
    char rule[32];
    char message[256];
};

/* Checks `response` (JSON form above; NULL or json null = no response) against the
 * constraints of `it`. Returns 1 if valid, 0 if not (with *why filled). The response must
 * already fit its declaration (the session checks cardinality and base type first). An empty
 * response is valid unless minChoices/minAssociations/minStrings (or a required gap) ask for
 * one. */
int qti_interaction_validate(const struct qti_interaction *it, const json_t *response,
                             struct qti_invalid *why);

/* 1 if a file of MIME type `mime` may answer `it`: an uploadInteraction without `type` takes
 * any, else one of its types (case-insensitive; "image/" followed by a star takes any image); a
 * drawingInteraction takes image/png. 0 for any other interaction. */
int qti_interaction_accepts_type(const struct qti_interaction *it, const char *mime);

#endif
