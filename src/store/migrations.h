/*
 * migrations.h - the versioned schema. Migration N (1-based) brings the schema from N-1 to N;
 * a released migration is never edited, only followed by a new one.
 */
#ifndef OUTPOST_STORE_MIGRATIONS_H
#define OUTPOST_STORE_MIGRATIONS_H

int migrations_count(void);
const char *migrations_sql(int version);

#endif
