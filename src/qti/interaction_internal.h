/*
 * interaction_internal.h - what interaction.c (parsing, JSON) and interaction_validate.c
 * (checking responses) share. Nothing outside src/qti/interaction*.c includes this.
 */
#ifndef OUTPOST_QTI_INTERACTION_INTERNAL_H
#define OUTPOST_QTI_INTERACTION_INTERNAL_H

#include "qti/interaction.h"

/* True for kinds whose limits are counted in associations rather than choices. */
int interaction_counts_associations(enum qti_interaction_kind k);

#endif
