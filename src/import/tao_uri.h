/*
 * tao_uri.h - TAO's resource URIs where Outpost wants a name.
 *
 * TAO names every resource by a URI, its namespace and an id ("https://tao.example.org/
 * ontologies/tao.rdf#i16290218743521"), and its exports and eligibility files name test
 * centers, deliveries and test takers so. Outpost keeps none: TAO's user and test-center CSV
 * files carry no URI, and a QTI package exported from TAO does not carry the URI of the
 * delivery published from it. So a TAO URI matches nothing here; where a name was looked up
 * and not found, these say that it is a TAO URI and what names the record instead (a login;
 * an organisation id, a label or an id; a label or an id), rather than "no such record"
 * (docs/coming-from-tao.md, "TAO's URIs").
 */
#ifndef OUTPOST_IMPORT_TAO_URI_H
#define OUTPOST_IMPORT_TAO_URI_H

enum tao_uri_kind {
    TAO_URI_DELIVERY,
    TAO_URI_TEST_CENTER,
    TAO_URI_USER,
};

/* 1 if `s` looks like a TAO resource URI: http:// or https://, a host, and a fragment (the
 * resource's id after '#'), without spaces. */
int tao_uri_is(const char *s);

/* What names a record of `kind` instead of its TAO URI, for a message that has said
 * "\"URI\" is a TAO URI, and Outpost keeps none: ". A static text. */
const char *tao_uri_advice(enum tao_uri_kind kind);

#endif
