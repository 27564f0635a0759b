// OAT/util/EventMgr - an event manager as TAO's PCIs use it (Outpost's own, pcilib/README.md):
// on('name.namespace', fn), off('name'), trigger('name', [args]), get('name').
define([], function () {
  'use strict';
  return function EventMgr() {
    const events = new Map();
    this.get = (name) => (events.has(name) ? events.get(name).slice() : []);
    this.on = (event, callback) => {
      const [name, ...ns] = String(event).split('.');
      if (!name || typeof callback !== 'function') return;
      if (!events.has(name)) events.set(name, []);
      events.get(name).push({ ns, callback });
    };
    this.off = (event) => {
      const [name, ...ns] = String(event || '').split('.');
      if (!events.has(name)) return;
      // "name.ns" removes that namespace's handlers only, "name" all of them
      events.set(name, ns.length ? events.get(name).filter((h) => !ns.every((n) => h.ns.includes(n))) : []);
    };
    this.trigger = (name, data) => {
      const args = Array.isArray(data) ? data : data === undefined ? [] : [data];
      for (const h of this.get(name)) h.callback.apply({ type: name, ns: h.ns }, args);
    };
  };
});
