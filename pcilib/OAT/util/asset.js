// OAT/util/asset - the assets a PCI's markup lists in a [type="text/x-asset-manifest"]
// element (Outpost's own, pcilib/README.md): asset($container) gives exists(id), get(id),
// getAll().
define(['taoQtiItem/portableLib/jquery_2_1_1'], function ($) {
  'use strict';
  return function asset($container) {
    const assets = {};
    const manifest = $($container).find('[type="text/x-asset-manifest"]').html() || '';
    $($.parseHTML(manifest.trim()) || []).each(function () {
      const id = this.getAttribute && this.getAttribute('data-asset-id');
      const src = this.getAttribute && this.getAttribute('src');
      if (id && src) assets[id] = src;
    });
    return {
      exists: (id) => Boolean(id && assets[id]),
      get: (id) => assets[id] || '',
      getAll: () => Object.assign({}, assets),
    };
  };
});
