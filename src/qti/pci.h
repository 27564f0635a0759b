/*
 * pci.h - Portable Custom Interactions (IMS PCI 1.0 and TAO's PCIs): the customInteraction
 * element, what of it a device needs, and the PCI's response in the QTI JSON binding.
 *
 * A customInteraction holds one portableCustomInteraction, in one of two forms:
 *
 *   - TAO's exports and the IMS PCI best-practice draft TAO implements (namespace
 *     http://www.imsglobal.org/xsd/portableCustomInteraction): the attribute `hook` names the
 *     entry module (an AMD module that calls qtiCustomInteractionContext.register(pci)),
 *     `resources/libraries/lib id="..."` the modules it needs, `properties` its configuration
 *     (`entry key="k"` values, nested `properties key="k"` objects, lists
 *     when keyed 0..n-1 as TAO gives them), `markup` its XHTML;
 *   - IMS PCI 1.0 (namespace .../portableCustomInteraction_v1): `modules` (TAO's IMS
 *     exports, QTI 2.2.2) lists `module id=".." primaryPath=".."`, and its
 *     `primaryConfiguration` names a JSON file of the package whose `paths` map module ids
 *     to files (relative to that file, as RequireJS reads it); a `module` with neither is a
 *     shared library (below); the entry is the one the attribute `module` names, else the
 *     one whose id is the type identifier, else the first (TAO writes its hook first). The
 *     older draft's `resources/interactionModules/interactionModule` is read too (its entry
 *     defaulting to the last); `properties` hold `property key="k"` values.
 *
 * Every module is a file of the package, its path relative to the item file (".js" is
 * added to a module id that has no extension). The modules travel inside the compiled
 * package as assets; a module the package lacks, or one that cannot be loaded (empty, over
 * QTI_PCI_MAX_MODULE, not UTF-8 text, an entry that neither defines an AMD module nor
 * registers with qtiCustomInteractionContext, a module whose define([...]) asks for a module
 * that is none of the PCI's and no shared library Outpost provides) refuses the item, naming
 * the PCI and the file. The shared libraries TAO's delivery provides to PCIs (jQuery, lodash,
 * Handlebars, TAO's OAT/util modules, under their TAO ids) are provided by Outpost too
 * (qti/pci_libs.h): a dependency on one is recorded in `libs` and the frame gets its file.
 *
 * The device runs a PCI in a sandboxed frame (docs/security.md, "Portable Custom
 * Interactions"); its response comes back in the QTI JSON binding of the IMS PCI
 * specification and is read by qti_value_from_pci_json against the response declaration.
 */
#ifndef OUTPOST_QTI_PCI_H
#define OUTPOST_QTI_PCI_H

#include <jansson.h>
#include <libxml/tree.h>

#include "base/err.h"
#include "qti/package.h"
#include "qti/value.h"
#include "qti/xhtml.h"

#define QTI_PCI_NS_TAO        "http://www.imsglobal.org/xsd/portableCustomInteraction"
#define QTI_PCI_NS_V1         "http://www.imsglobal.org/xsd/portableCustomInteraction_v1"
#define QTI_PCI_MAX_MODULES   32
#define QTI_PCI_MAX_MODULE    (4 * 1024 * 1024) /* bytes of one module file */
#define QTI_PCI_MAX_PROPS     1000              /* properties, nested ones included */
#define QTI_PCI_MAX_RESPONSE  (256 * 1024)      /* bytes of a response in the JSON binding */
#define QTI_PCI_MAX_PROP_TEXT (64 * 1024)
#define QTI_PCI_MAX_STYLES    32
/* base64 characters of a file a PCI gives (its "data"): the base64 of the largest file a device
 * takes (configuration.limits.upload-max-bytes, at most 2 MiB), rounded up; the device's own
 * limit is checked after (app/upload.h) */
#define QTI_PCI_MAX_FILE_DATA (3 * 1024 * 1024)

struct qti_pci {
    char *type_identifier; /* customInteractionTypeIdentifier */
    int version;           /* 0: TAO / best-practice draft (register(pci)); 1: IMS PCI 1.0 */
    size_t nmodules;
    char **modules;    /* package paths, the entry module last (NULL: not resolved yet, an
                          IMS module without primaryPath, until qti_pci_check_loadable) */
    char **module_ids; /* the AMD id each module is known by */
    char *config;      /* IMS PCI 1.0 primaryConfiguration: its package path, or NULL */
    size_t nlibs;
    char **libs; /* shared libraries it needs (qti_pci_lib files), each after its own needs */
    size_t nstyles;
    char **styles;      /* CSS files of the package the frame inlines, in order: TAO's
                           resources/stylesheets, the item's stylesheets, css! dependencies */
    json_t *properties; /* object: key -> string or nested object */
    char *markup;       /* sanitised XHTML ("" when none) */
};

/* Parses the customInteraction `node` (its responseIdentifier is read by the caller) into
 * *out (the caller frees it with qti_pci_free). Module paths are resolved against cx->href
 * and recorded as assets of cx; markup is sanitised with cx's rules (QTI elements inside
 * it are unwrapped). `what` prefixes messages ("items/q.xml line 12: item Q01"). */
int qti_pci_parse(xmlNode *node, struct qti_xhtml_ctx *cx, const char *what, struct qti_pci **out,
                  struct op_err *e);

void qti_pci_free(struct qti_pci *pci);

/* Adds the package's CSS file `path` to the PCI's styles (once; at most QTI_PCI_MAX_STYLES:
 * more are left out). TAO draws a PCI inside its item, so the item's stylesheets style it
 * too: qti/item.c adds them. */
void qti_pci_add_style(struct qti_pci *pci, const char *path);

/* Resolves what the PCI's code needs and refuses a PCI whose code cannot be given: an IMS
 * module without a path is found in the primaryConfiguration's `paths` (its file recorded
 * in `assets`, which may be NULL), else taken as the shared library of that id, else refused;
 * a module missing from `pkg`, empty, over QTI_PCI_MAX_MODULE, holding a NUL byte or invalid
 * UTF-8, an entry module that neither calls define( nor names qtiCustomInteractionContext,
 * or a dependency named as a string in a define([...]) that no module of the PCI answers to
 * and that is no shared library Outpost provides (resolved as web/pci-frame.js does; loader
 * plugins and the built-ins require, exports, module, qtiCustomInteractionContext excepted)
 * is refused, naming it. The shared libraries needed are recorded in pci->libs. */
int qti_pci_check_loadable(struct qti_pci *pci, const struct qti_package *pkg,
                           struct qti_assets *assets, const char *what, struct op_err *e);

/* The render model's "pci" member (owned by the caller) and back. */
json_t *qti_pci_to_json(const struct qti_pci *pci);
int qti_pci_from_json(const json_t *j, const char *what, struct qti_pci **out, struct op_err *e);

/* A file in the QTI JSON binding, as TAO's audio recording PCI gives it:
 *   {"base": {"file": {"data": BASE64, "mime": "audio/webm", "name": "rec.webm"}}}
 * ("mime" and "name" may be left out; {"base": null} is no file), made the file form the rest
 * of Outpost reads ({"name", "type", "data"}, app/upload.h, qti/value.h): a new reference in
 * *out, NULL for no file. A body that is not that, a member other than data/mime/name, data
 * that is not a string or over QTI_PCI_MAX_FILE_DATA characters is refused (OP_EINPUT) with
 * `what` ("item Q01, response RESPONSE") and the reason. Nothing is decoded here. */
int qti_pci_file_from_binding(const json_t *j, const char *what, json_t **out, struct op_err *e);

/* Reads a response in the QTI JSON binding of IMS PCI 1.0 against its declaration (base type
 * t, cardinality c):
 *   {"base": null}, {"list": null}                     no response (NULL)
 *   {"base": {"integer": 3}}                          single (the key is the base type)
 *   {"list": {"identifier": ["A", "B"]}}              multiple or ordered
 *   {"record": [{"name": "n", "base": {"float": 1.5}}, ...]}   record (single fields)
 * with point [x, y], pair and directedPair ["A", "B"], boolean true/false, duration a number
 * of seconds, an integer accepted where a float is declared, and a file as
 * qti_pci_file_from_binding reads it (not checked here: app/upload.h checks a file on the
 * device). A value of another base type or cardinality than declared, a malformed or
 * oversized document (QTI_PCI_MAX_RESPONSE; a file QTI_PCI_MAX_FILE_DATA) is refused
 * (OP_EINPUT) with `what` and the reason. *out is the caller's (NULL for no response). */
int qti_value_from_pci_json(enum qti_base_type t, enum qti_cardinality c, const json_t *j,
                            const char *what, struct qti_value **out, struct op_err *e);

#endif
