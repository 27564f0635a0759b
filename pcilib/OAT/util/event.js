// OAT/util/event - gives an object (a PCI instance) on, off and trigger (Outpost's own,
// pcilib/README.md).
define(['taoQtiItem/portableLib/OAT/util/EventMgr'], function (EventMgr) {
  'use strict';
  return {
    addEventMgr(target) {
      const mgr = new EventMgr();
      target.on = (event, callback) => { mgr.on(event, callback); return target; };
      target.off = (event) => { mgr.off(event); return target; };
      target.trigger = (event, data) => { mgr.trigger(event, data); return target; };
      return target;
    },
  };
});
