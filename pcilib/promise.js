// promise - TAO's es6-promise and OAT/promise: the browser's own Promise (Outpost's own,
// pcilib/README.md).
define([], function () {
  'use strict';
  const P = window.Promise;
  P.Promise = P; // es6-promise's module gives {Promise}
  P.polyfill = function polyfill() {};
  return P;
});
