/*
 * qti_xml.h - private to src/qti/decl.c, expr.c, rules.c: small libxml2 helpers. Elements are
 * matched by local name so that QTI 2.1 and 2.2 namespaces (and none) read alike; the
 * namespace of the document is checked once by whoever reads the whole item or test.
 */
#ifndef OUTPOST_QTI_XML_H
#define OUTPOST_QTI_XML_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <string.h>

#include "qti/qti_alloc.h"

static inline bool qti_xml_is(const xmlNode *n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, local) == 0;
}

static inline xmlNode *qti_xml_next_elem(xmlNode *n)
{
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

#define QTI_XML_FOREACH_CHILD(child, parent)                                                       \
    for (xmlNode *child = qti_xml_next_elem((parent)->children); child;                            \
         child = qti_xml_next_elem(child->next))

/* The attribute's value in a new string owned by the caller, or NULL if absent. */
static inline char *qti_xml_attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *s = qti_xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

/* The text content of an element in a new string owned by the caller ("" if none). */
static inline char *qti_xml_text(const xmlNode *n)
{
    xmlChar *v = xmlNodeGetContent(n);
    char *s = qti_xstrdup(v ? (const char *)v : "");
    if (v)
        xmlFree(v);
    return s;
}

static inline int qti_xml_line(const xmlNode *n)
{
    return (int)xmlGetLineNo(n);
}

static inline const char *qti_xml_name(const xmlNode *n)
{
    return (const char *)n->name;
}

#endif
