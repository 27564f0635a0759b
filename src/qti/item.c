/* item.c - assessmentItem parsing, compiling and loading (see item.h). Stub: implementation
 * follows. */
#include "qti/item.h"

#include <string.h>

void qti_xml_limits_default(struct qti_xml_limits *lim)
{
    lim->max_bytes = 4u << 20;
    lim->max_depth = 128;
    lim->max_nodes = 200000;
}

int qti_xml_read(const char *href, const char *data, size_t len, const struct qti_xml_limits *lim,
                 xmlDoc **out, struct op_err *e)
{
    *out = NULL;
    return err_set(e, OP_EINPUT, "%s: not implemented yet", href);
}

int qti_xml_ns_ok(const char *ns)
{
    return ns && (strcmp(ns, QTI_NS_21) == 0 || strcmp(ns, QTI_NS_22) == 0);
}

int qti_xml_is(const xmlNode *node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns &&
           qti_xml_ns_ok((const char *)node->ns->href) &&
           strcmp((const char *)node->name, name) == 0;
}

int qti_item_parse(const char *href, const char *data, size_t len, const struct qti_xml_limits *lim,
                   struct qti_item **out, struct op_err *e)
{
    *out = NULL;
    return err_set(e, OP_EINPUT, "%s: not implemented yet", href);
}

int qti_item_from_node(const char *href, xmlNode *root, struct qti_item **out, struct op_err *e)
{
    *out = NULL;
    return err_set(e, OP_EINPUT, "%s: not implemented yet", href);
}

void qti_item_free(struct qti_item *item) {}

int qti_item_compile(const struct qti_item *item, json_t **render, json_t **scoring,
                     struct op_err *e)
{
    return err_set(e, OP_EINPUT, "not implemented yet");
}

int qti_item_load(const json_t *render, const json_t *scoring, struct qti_item **out,
                  struct op_err *e)
{
    *out = NULL;
    return err_set(e, OP_EINPUT, "not implemented yet");
}

const char *qti_item_identifier(const struct qti_item *item)
{
    return "";
}
const char *qti_item_title(const struct qti_item *item)
{
    return "";
}
const char *qti_item_href(const struct qti_item *item)
{
    return "";
}
int qti_item_adaptive(const struct qti_item *item)
{
    return 0;
}
int qti_item_time_dependent(const struct qti_item *item)
{
    return 0;
}
const struct qti_assets *qti_item_assets(const struct qti_item *item)
{
    return NULL;
}
size_t qti_item_stylesheet_count(const struct qti_item *item)
{
    return 0;
}
const char *qti_item_stylesheet(const struct qti_item *item, size_t i)
{
    return NULL;
}
size_t qti_item_interaction_count(const struct qti_item *item)
{
    return 0;
}
const struct qti_interaction *qti_item_interaction(const struct qti_item *item, size_t i)
{
    return NULL;
}
const struct qti_interaction *qti_item_interaction_for(const struct qti_item *item,
                                                       const char *response_identifier)
{
    return NULL;
}
const char *qti_item_body_html(const struct qti_item *item)
{
    return "";
}
size_t qti_item_variable_count(const struct qti_item *item)
{
    return 0;
}
const char *qti_item_variable_name(const struct qti_item *item, size_t i)
{
    return NULL;
}
const struct qti_decl *qti_item_decl(const struct qti_item *item, const char *identifier)
{
    return NULL;
}
