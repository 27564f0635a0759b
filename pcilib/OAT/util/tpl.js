// OAT/util/tpl - the Handlebars templates a PCI's markup lists in a
// [type="text/x-template-manifest"] element (Outpost's own, pcilib/README.md): tpl($container)
// gives exists(id) and render(id, data).
define(['taoQtiItem/portableLib/jquery_2_1_1', 'taoQtiItem/portableLib/handlebars'], function ($, Handlebars) {
  'use strict';
  return function tpl($container) {
    const templates = {};
    const manifest = $($container).find('[type="text/x-template-manifest"]').html() || '';
    $($.parseHTML(manifest.trim()) || []).each(function () {
      const id = this.getAttribute && this.getAttribute('data-template-id');
      const source = this.innerHTML;
      if (id && source) templates[id] = Handlebars.compile(source);
    });
    return {
      exists: (id) => Boolean(id && templates[id]),
      render(id, data) {
        if (!id || !templates[id]) throw new Error(`no valid template found for the id ${id}`);
        return templates[id](data || {});
      },
    };
  };
});
