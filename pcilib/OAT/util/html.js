// OAT/util/html - renders the rich content of a PCI's markup (Outpost's own,
// pcilib/README.md): namespace prefixes removed, math and tooltips rendered.
define([
  'taoQtiItem/portableLib/jquery_2_1_1',
  'taoQtiItem/portableLib/OAT/util/xml',
  'taoQtiItem/portableLib/OAT/util/math',
  'taoQtiItem/portableLib/OAT/util/tooltip',
], function ($, xml, math, tooltip) {
  'use strict';
  return {
    render($container) {
      const $c = $($container);
      $c.each(function () {
        const markup = this.innerHTML;
        const plain = xml.removeNamespace(markup);
        if (plain !== markup) this.innerHTML = plain;
      });
      math.render($c);
      tooltip.render($c);
      return $c;
    },
  };
});
