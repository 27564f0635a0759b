// OAT/util/math - math in a PCI's markup (Outpost's own, pcilib/README.md). There is no
// MathJax in a frame: the browser shows MathML itself, so render leaves it as it is.
define(['taoQtiItem/portableLib/jquery_2_1_1'], function ($) {
  'use strict';
  return {
    render($container) {
      return $($container);
    },
  };
});
