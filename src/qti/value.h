/*
 * value.h - QTI values: the base types and cardinalities of QTI 2.1/2.2 (§ "Variables" and
 * "Data types" of the Assessment Test, Section and Item Information Model).
 *
 * A value is a tree of one owner: every function that returns a `struct qti_value *` gives it
 * to the caller, who frees it with qti_value_free (which accepts NULL). Functions taking a
 * `const struct qti_value *` only borrow it.
 *
 * The QTI NULL value is the C NULL pointer. An empty container and an empty string are
 * also NULL as QTI sees them (isNull is true for them); qti_value_is_null says so for all
 * three, and the evaluator never returns an empty container or an empty string: it returns
 * NULL instead. Running out of memory aborts, as in base/buf.c, so constructors never return
 * NULL and OP_ENOMEM is never returned.
 *
 * Representation: a single value holds one scalar; multiple and ordered hold `n` scalars of
 * the same base type (multiple is a bag: order carries no meaning); a record holds named
 * fields, each a single value of its own base type or NULL. Integers are held in 64 bits but
 * keep to QTI's 32-bit range [QTI_INT_MIN, QTI_INT_MAX] (QTI 2.1 "integer": a two's-complement
 * 32-bit integer): a value outside it is refused where it is read (XML, JSON, point
 * coordinates), and an operator whose integer result falls outside it gives NULL. Durations are
 * seconds as a double (QTI 2.1 defines duration as a float number of seconds). A `file` value
 * (what uploadInteraction and drawingInteraction make) has no text form: it is a JSON object,
 * kept as its compact text in u.s; two files are equal when their sha256, type and name are.
 *
 * JSON form (the responses file of `outpost qti run`, the compiled delivery package, results):
 *   identifier, string, uri      -> JSON string
 *   integer, float               -> JSON number (an integer needs a whole number)
 *   boolean                      -> true / false
 *   duration                     -> number of seconds
 *   point                        -> "x y"   (two integers)
 *   pair, directedPair           -> "A B"   (two identifiers)
 *   multiple, ordered            -> JSON array of the above (also accepted: a lone scalar,
 *                                   read as a container of one)
 *   file                         -> object {"name", "type" (MIME), "size", "sha256", and the
 *                                   content: "data" (base64) or "sealed" (app/upload.h)}
 *   record                       -> object: field -> {"baseType": "...", "value": ...}
 *   NULL                         -> null (also accepted on input: "" for string-like types,
 *                                   [] for containers, both read as NULL)
 */
#ifndef OUTPOST_QTI_VALUE_H
#define OUTPOST_QTI_VALUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* The range of a QTI integer (and of each coordinate of a point). */
#define QTI_INT_MIN INT32_MIN
#define QTI_INT_MAX INT32_MAX

/* Largest container or record the engine builds or accepts (hostile input, `repeat`). */
#define QTI_VALUE_MAX_ITEMS 10000
/* Longest string or identifier value accepted, in bytes. */
#define QTI_VALUE_MAX_STRING (1024 * 1024)
/* A file value: its JSON text, its MIME type and its name, in bytes. */
#define QTI_FILE_MAX_JSON (4 * 1024 * 1024)
#define QTI_FILE_MAX_TYPE 127
#define QTI_FILE_MAX_NAME 255

enum qti_base_type {
    QTI_BT_NONE = 0, /* no base type: records, and "not known" */
    QTI_BT_IDENTIFIER,
    QTI_BT_BOOLEAN,
    QTI_BT_INTEGER,
    QTI_BT_FLOAT,
    QTI_BT_STRING,
    QTI_BT_POINT,
    QTI_BT_PAIR,
    QTI_BT_DIRECTED_PAIR,
    QTI_BT_DURATION,
    QTI_BT_FILE, /* a JSON object held as text (see the JSON form below) */
    QTI_BT_URI,
};

enum qti_cardinality {
    QTI_CARD_SINGLE = 0,
    QTI_CARD_MULTIPLE,
    QTI_CARD_ORDERED,
    QTI_CARD_RECORD,
};

/* One value of a base type (a single value, or one member of a container). */
struct qti_scalar {
    enum qti_base_type type;
    union {
        bool b;    /* boolean */
        int64_t i; /* integer */
        double f;  /* float; duration in seconds */
        char *s;   /* identifier, string, uri; file: its JSON object as text (owned) */
        struct {
            int64_t x, y;
        } point;
        struct {
            char *a, *b; /* pair, directedPair (owned) */
        } pair;
    } u;
};

struct qti_field {
    char *name;              /* owned */
    struct qti_value *value; /* single cardinality or NULL; owned */
};

struct qti_value {
    enum qti_cardinality card;
    enum qti_base_type type;  /* QTI_BT_NONE for a record */
    size_t n;                 /* scalars in `items` (1 for single), or fields in `fields` */
    struct qti_scalar *items; /* single, multiple, ordered */
    struct qti_field *fields; /* record */
};

/* ---- names ---- */

/* "identifier", "directedPair", ... -> type; QTI_BT_NONE if the name is unknown. */
enum qti_base_type qti_base_type_from_name(const char *name);
/* The QTI name of a base type ("none" for QTI_BT_NONE). */
const char *qti_base_type_name(enum qti_base_type t);
/* "single", "multiple", "ordered", "record" -> 0 and *out; -1 if unknown. */
int qti_cardinality_from_name(const char *name, enum qti_cardinality *out);
const char *qti_cardinality_name(enum qti_cardinality c);

/* ---- making values (each returns a new value owned by the caller, never NULL) ---- */

struct qti_value *qti_value_boolean(bool b);
struct qti_value *qti_value_integer(int64_t i);
struct qti_value *qti_value_float(double f);
struct qti_value *qti_value_duration(double seconds);
/* identifier, string or uri: `t` says which; `s` is copied. */
struct qti_value *qti_value_text(enum qti_base_type t, const char *s);
struct qti_value *qti_value_identifier(const char *s);
struct qti_value *qti_value_string(const char *s);
struct qti_value *qti_value_point(int64_t x, int64_t y);
/* pair or directedPair: `t` says which; strings copied. */
struct qti_value *qti_value_pair(enum qti_base_type t, const char *a, const char *b);
/* A single value holding a copy of `s`. */
struct qti_value *qti_value_single(const struct qti_scalar *s);
/* An empty multiple or ordered container of base type `t`, to fill with qti_value_append. */
struct qti_value *qti_value_container(enum qti_cardinality c, enum qti_base_type t);
/* An empty record, to fill with qti_value_record_set. */
struct qti_value *qti_value_record(void);

/* Appends a copy of `s` to container `v` (same base type). Build containers only with this
 * (arrays grow by doubling; their capacity is not stored). OP_EINPUT if the type differs or
 * the container is full (QTI_VALUE_MAX_ITEMS). */
int qti_value_append(struct qti_value *v, const struct qti_scalar *s, struct op_err *e);
/* Sets field `name` of record `v` to `field` (single or NULL), taking ownership of `field`
 * even on failure. Replaces an existing field of that name. */
int qti_value_record_set(struct qti_value *v, const char *name, struct qti_value *field,
                         struct op_err *e);
/* The field called `name` of record `v`, or NULL (absent or NULL). Borrowed. */
const struct qti_value *qti_value_record_get(const struct qti_value *v, const char *name);

/* A deep copy into *out, owned by the caller (NULL for NULL). Always 0. */
int qti_value_copy(const struct qti_value *v, struct qti_value **out);
void qti_value_free(struct qti_value *v);

/* Copies / frees the contents of a scalar (not the struct itself). */
int qti_scalar_copy(struct qti_scalar *dst, const struct qti_scalar *src);
void qti_scalar_clear(struct qti_scalar *s);

/* ---- questions ---- */

/* True for NULL, an empty container, a record with no fields, and an empty string. */
bool qti_value_is_null(const struct qti_value *v);

/* Equality as QTI defines it for `match`: same cardinality and base type, then single values
 * equal; multiple as bags (same members with the same counts, any order); ordered as
 * sequences; records field by field. Pairs are unordered ("A B" equals "B A"), directed
 * pairs are not. Strings and identifiers compare case-sensitively. Floats compare exactly.
 * Two NULLs are equal here (`match` itself returns NULL when either side is NULL). */
bool qti_value_equal(const struct qti_value *a, const struct qti_value *b);
/* Equality of two scalars of the same base type (pairs unordered). */
bool qti_scalar_equal(const struct qti_scalar *a, const struct qti_scalar *b);

/* ---- text form (QTI XML content: baseValue, value, mapKey, ...) ---- */

/* Parses the text of one value of base type `t` as QTI XML writes it ("true", "3", "2.5",
 * "A B", "10 20"; a duration as seconds, "90.5", or as xsd:duration,
 * "PT1M30.5S"). Surrounding spaces are ignored, except in strings.
 * `what` names the place for the message ("baseValue", "RESPONSE mapKey"). On success the
 * caller owns the contents of *out (qti_scalar_clear). */
int qti_scalar_parse(enum qti_base_type t, const char *text, const char *what,
                     struct qti_scalar *out, struct op_err *e);
/* Writes a scalar as QTI text into a new string owned by the caller. */
char *qti_scalar_format(const struct qti_scalar *s);

/* ---- JSON form (see the top of this file) ---- */

/* Reads `j` as a value of base type `t` and cardinality `c` (t is ignored for records).
 * `name` names the variable in messages ("Q01 RESPONSE: expected an array of identifiers").
 * On success *out is the new value owned by the caller, or NULL for a JSON null / NULL. */
int qti_value_from_json(enum qti_base_type t, enum qti_cardinality c, const json_t *j,
                        const char *name, struct qti_value **out, struct op_err *e);
/* The JSON form of `v` (json_null() for NULL; also for a non-finite float, which JSON cannot
 * hold); a new reference owned by the caller. */
json_t *qti_value_to_json(const struct qti_value *v);

/* Self-describing form for places without a declaration at hand (e.g. a baseValue in the
 * compiled package): {"cardinality": "...", "baseType": "...", "value": <JSON form>}.
 * NULL gives json_null(). */
json_t *qti_value_to_typed_json(const struct qti_value *v);
int qti_value_from_typed_json(const json_t *j, const char *name, struct qti_value **out,
                              struct op_err *e);

#endif
