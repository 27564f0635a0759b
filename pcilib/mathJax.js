// mathJax - there is no MathJax in a PCI's frame (Outpost's own, pcilib/README.md): TAO's code
// checks for it and does without.
define([], function () {
  'use strict';
  return null;
});
