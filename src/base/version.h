/*
 * version.h - the version of this outpost, as `outpost --version` prints it, the health
 * endpoint (GET /api/v1/health) answers it and a device will report it to central at sync.
 * Semantic versioning: a release that changes the sync protocol incompatibly raises the major
 * number.
 */
#ifndef OUTPOST_BASE_VERSION_H
#define OUTPOST_BASE_VERSION_H

#define OUTPOST_VERSION    "0.1.0"
#define OUTPOST_USER_AGENT "outpost/" OUTPOST_VERSION

#endif
