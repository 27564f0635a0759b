// OAT/util/xml - namespace prefixes of XHTML markup (Outpost's own, pcilib/README.md):
// removeNamespace('<qh5:figure>') is '<figure>'; addNamespace('<p>', 'x') is '<x:p>'.
define([], function () {
  'use strict';
  return {
    removeNamespace(markup) {
      return String(markup).replace(/<(\/?)[A-Za-z_][\w.-]*:([A-Za-z_][^>]*)>/g, '<$1$2>');
    },
    addNamespace(markup, ns) {
      if (!ns) return markup;
      return String(markup).replace(/<(\/?)([A-Za-z_][\w.-]*)([^>:]*?)(\/?)>/g, `<$1${ns}:$2$3$4>`);
    },
  };
});
