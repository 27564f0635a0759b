/*
 * fuzz_pci_binding.c - a PCI's response in the QTI JSON binding (qti_value_from_pci_json), the
 * body a take page sends for a customInteraction (POST /api/v1/executions/{id}/responses),
 * read against every declaration: any bytes must be refused or accepted without crashing,
 * leaking or reading out of bounds; an accepted value has the declared cardinality and base
 * type, and its engine JSON form reads back to an equal value. A file (a recording PCI's,
 * {"base": {"file": {"data", "mime", "name"}}}) is also read by qti_pci_file_from_binding, the
 * runner's door to the upload checks: what it takes has string data within its bound.
 *
 * The first byte chooses the declaration (base type and cardinality); the rest is the JSON.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "qti/pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum qti_base_type types[] = {
    QTI_BT_IDENTIFIER, QTI_BT_BOOLEAN, QTI_BT_INTEGER, QTI_BT_FLOAT,
    QTI_BT_STRING,     QTI_BT_POINT,   QTI_BT_PAIR,    QTI_BT_DIRECTED_PAIR,
    QTI_BT_DURATION,   QTI_BT_FILE,    QTI_BT_URI,
};
#define NTYPES (sizeof types / sizeof types[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum qti_base_type t = types[data[0] % NTYPES];
    enum qti_cardinality c = (enum qti_cardinality)((data[0] / NTYPES) % 4);
    if (c == QTI_CARD_RECORD)
        t = QTI_BT_NONE;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data + 1, size - 1,
                           JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return 0;
    struct qti_value *v = NULL;
    struct op_err e = {0};
    if (qti_value_from_pci_json(t, c, j, "R", &v, &e) == 0 && v) {
        if (v->card != c || (c != QTI_CARD_RECORD && v->type != t))
            abort();
        json_t *back = qti_value_to_json(v);
        struct qti_value *again = NULL;
        if (qti_value_from_json(t, c, back, "R", &again, &e) != 0 || !qti_value_equal(v, again))
            abort();
        qti_value_free(again);
        json_decref(back);
    }
    qti_value_free(v);
    if (t == QTI_BT_FILE) {
        json_t *file = NULL;
        if (qti_pci_file_from_binding(j, "R", &file, &e) == 0 && file) {
            const json_t *d = json_object_get(file, "data");
            if (!json_is_string(d) || json_string_length(d) > QTI_PCI_MAX_FILE_DATA)
                abort();
        }
        json_decref(file);
    }
    json_decref(j);
    return 0;
}
