// pci-frame.js - runs inside the sandboxed frame of a Portable Custom Interaction (PCI), never
// in a page of the device: the server inlines it, with the PCI's modules, into the frame's
// document (src/app/pci_frame.c), whose CSP lets only those scripts run and fetch nothing.
//
// It gives the PCI what IMS PCI 1.0 and TAO's PCIs expect of a delivery engine:
//   - an AMD loader: define([id,] [deps,] factory) and require(deps, cb); every module of the
//     package is known by its id (data-module of its <script>), a relative dependency
//     ("./renderer") by its folder; qtiCustomInteractionContext is built in; a dependency the
//     package does not hold is an error the page shows ("module X is not in the package");
//   - qtiCustomInteractionContext.register(pci): IMS PCI 1.0's pci.getInstance(dom, config,
//     state) (config: properties, boundTo, onready, ondone, status) and TAO's
//     pci.initialize(id, dom, properties) with setResponse/getSerializedState.
//
// The message protocol with the page (web/qti.js checks every message it gets):
//   frame -> page  {pci: 1, type: 'ready'}                      the shim is listening
//   page -> frame  {pci: 1, type: 'init', responseIdentifier, typeIdentifier, properties,
//                   markup, boundTo, state, readOnly, assets: {path: Blob}}
//   frame -> page  {pci: 1, type: 'response', response, state}  JSON binding, state string
//   frame -> page  {pci: 1, type: 'height', height}             the content's height in px
//   frame -> page  {pci: 1, type: 'error', message}             the PCI could not start
// The frame answers only its parent, and takes only 'init', once, from its parent.
(function () {
  'use strict';
  const body = document.body;
  const entry = body.getAttribute('data-entry');
  const defs = new Map();
  let anon = 0;
  let parentOrigin = null; // known from the page's init message
  const post = (m) => window.parent.postMessage(Object.assign({ pci: 1 }, m), parentOrigin || '*');
  const fail = (msg) => post({ type: 'error', message: String(msg).slice(0, 300) });

  function folder(id) { const i = id.lastIndexOf('/'); return i < 0 ? '' : id.slice(0, i + 1); }
  function resolve(from, dep) {
    if (!dep.startsWith('./') && !dep.startsWith('../')) return dep.replace(/\.js$/, '');
    const parts = (folder(from) + dep).split('/');
    const out = [];
    for (const p of parts) {
      if (p === '..') out.pop();
      else if (p !== '.' && p !== '') out.push(p);
    }
    return out.join('/').replace(/\.js$/, '');
  }

  function define(id, deps, factory) {
    if (typeof id !== 'string') { factory = deps; deps = id; id = null; }
    if (!Array.isArray(deps)) { factory = deps; deps = []; }
    const s = document.currentScript;
    const own = s && s.getAttribute('data-module');
    if (!id) id = own || `anonymous-${++anon}`;
    if (!defs.has(id)) defs.set(id, { deps, factory, done: false, value: undefined });
    // a named module in a file that is known by another id answers to both
    if (own && own !== id && !defs.has(own)) defs.set(own, defs.get(id));
  }
  define.amd = { jQuery: false };

  const context = {
    register(pci) { registered.push(pci); start(); },
    // TAO's PCIs call these on the context: nothing to do here
    notifyReady() {}, notifyDone() {},
  };
  const registered = [];

  function load(id, stack) {
    if (id === 'qtiCustomInteractionContext') return context;
    if (id === 'require') return req;
    if (id === 'exports' || id === 'module') return {};
    if (id.includes('!')) return undefined; // loader plugins (css!, tpl!): not in a frame
    const d = defs.get(id);
    if (!d) throw new Error(`module ${id} is not in the package`);
    if (d.done) return d.value;
    if (stack.includes(id)) throw new Error(`modules depend on each other in a circle: ${stack.concat(id).join(' -> ')}`);
    const args = d.deps.map((x) => load(resolve(id, x), stack.concat(id)));
    d.value = typeof d.factory === 'function' ? d.factory(...args) : d.factory;
    d.done = true;
    return d.value;
  }
  function req(deps, cb) {
    if (typeof deps === 'string') return load(resolve('', deps), []);
    const vals = deps.map((x) => load(resolve('', x), []));
    if (typeof cb === 'function') cb(...vals);
    return undefined;
  }
  window.define = define;
  window.require = req;
  window.requirejs = req;
  window.qtiCustomInteractionContext = context;

  let init = null;
  let inst = null;
  let last = null;
  let started = false;

  // Whatever the PCI answers now, sent when it changed.
  function report() {
    if (!inst) return;
    let response = null;
    let state = null;
    try { response = inst.getResponse ? inst.getResponse() : null; } catch (e) { return; }
    try {
      state = inst.getState ? inst.getState() : inst.getSerializedState ? inst.getSerializedState() : null;
    } catch (e) { state = null; }
    if (state !== null && state !== undefined && typeof state !== 'string') state = JSON.stringify(state);
    let text;
    try { text = JSON.stringify([response === undefined ? null : response, state === undefined ? null : state]); } catch (e) { return; }
    if (text === last) return;
    last = text;
    const [r, s] = JSON.parse(text);
    post({ type: 'response', response: r, state: s });
  }

  function blobUrls(root, assets) {
    if (!assets) return;
    for (const el of root.querySelectorAll('[src]')) {
      const b = assets[el.getAttribute('src')];
      if (b instanceof Blob) el.setAttribute('src', URL.createObjectURL(b));
      else el.removeAttribute('src');
    }
  }

  function start() {
    if (started || !init || !registered.length) return;
    const pci = registered.find((p) => {
      try {
        const t = p.typeIdentifier || (p.getTypeIdentifier && p.getTypeIdentifier());
        return t === init.typeIdentifier;
      } catch (e) { return false; }
    }) || registered[0];
    started = true;
    const root = document.getElementById('pci-root');
    const dom = document.createElement('div');
    dom.className = `qti-customInteraction ${init.typeIdentifier}`;
    const doc = new DOMParser().parseFromString(`<div xmlns="http://www.w3.org/1999/xhtml">${init.markup || ''}</div>`, 'application/xhtml+xml');
    if (!doc.getElementsByTagName('parsererror').length) for (const n of Array.from(doc.documentElement.childNodes)) dom.append(document.importNode(n, true));
    blobUrls(dom, init.assets);
    root.append(dom);
    const id = init.responseIdentifier;
    const boundTo = {};
    boundTo[id] = init.boundTo || null;
    try {
      if (typeof pci.getInstance === 'function') {
        // IMS PCI 1.0: the instance comes back through onready (or as the return value)
        const config = {
          properties: init.properties || {},
          boundTo,
          templateVariables: {},
          contextVariables: {},
          responseIdentifier: id,
          status: init.readOnly ? 'review' : 'interacting',
          onready(i) { inst = i || inst; report(); },
          ondone(i) { inst = i || inst; report(); },
        };
        const r = pci.getInstance(dom, config, init.state || undefined);
        if (r && typeof r.getResponse === 'function') inst = r;
      } else if (typeof pci.initialize === 'function') {
        // TAO's PCIs: a copy of the registered object is the instance
        inst = Object.create(pci);
        inst.initialize(id, dom, init.properties || {}, { resolve: (p) => p });
        if (init.state && inst.setSerializedState) inst.setSerializedState(init.state);
        if (init.boundTo && inst.setResponse) inst.setResponse(init.boundTo);
      } else {
        throw new Error(`PCI ${init.typeIdentifier} has neither getInstance nor initialize`);
      }
    } catch (e) {
      fail(e && e.message ? e.message : e);
      return;
    }
    if (inst) inst.oncompleted = () => report();
    report();
  }

  // Every gesture may change the response: ask after the PCI's own handlers ran, and now and
  // then (a PCI may change it by itself).
  for (const ev of ['click', 'change', 'input', 'keyup', 'pointerup']) window.addEventListener(ev, () => setTimeout(report, 0));
  setInterval(report, 500);

  let lastHeight = 0;
  const sendHeight = () => {
    const h = Math.min(4000, Math.ceil(document.documentElement.scrollHeight));
    if (h !== lastHeight) { lastHeight = h; post({ type: 'height', height: h }); }
  };
  new ResizeObserver(sendHeight).observe(document.documentElement);

  window.addEventListener('message', (ev) => {
    if (ev.source !== window.parent || init) return;
    const m = ev.data;
    if (!m || m.pci !== 1 || m.type !== 'init' || typeof m.responseIdentifier !== 'string') return;
    parentOrigin = ev.origin && ev.origin !== 'null' ? ev.origin : '*';
    init = m;
    start();
    if (!started && !registered.length) {
      // every module has run: one that did not register is required now, as TAO loads its hook
      try { load(entry, []); } catch (e) { fail(e && e.message ? e.message : e); return; }
      start();
      if (!started) fail(`PCI ${init.typeIdentifier} did not register with qtiCustomInteractionContext`);
    }
    sendHeight();
  });
  window.addEventListener('error', (ev) => fail(ev.message || 'script error'));
  document.addEventListener('DOMContentLoaded', () => post({ type: 'ready' }));
})();
