/* version.h - Outpost's version: what `outpost --version` prints, what the HTTP client sends as
 * its User-Agent ("outpost/VERSION") and what a device reports to central at a sync. */
#ifndef OUTPOST_BASE_VERSION_H
#define OUTPOST_BASE_VERSION_H

#define OUTPOST_VERSION    "0.1.0"
#define OUTPOST_USER_AGENT "outpost/" OUTPOST_VERSION

#endif
