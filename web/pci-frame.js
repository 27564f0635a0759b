// pci-frame.js - runs inside the sandboxed frame of a Portable Custom Interaction (PCI), never
// in a page of the device: the server inlines it, with the PCI's modules, into the frame's
// document (src/app/pci_frame.c), whose CSP lets only those scripts run and fetch nothing.
//
// It gives the PCI what IMS PCI 1.0 and TAO's PCIs expect of a delivery engine:
//   - an AMD loader: define([id,] [deps,] factory) and require(deps, cb); every module of the
//     package is known by its id (data-module of its <script>), a relative dependency
//     ("./renderer") by its folder; qtiCustomInteractionContext is built in; the shared
//     libraries the PCI needs (jQuery, lodash, Handlebars, TAO's OAT/util modules) come first,
//     each known by its ids (data-module and data-aliases); a dependency neither holds is an
//     error the page shows ("module X is not in the package");
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
//   frame -> page  {pci: 1, type: 'microphone', on}             the PCI wants sound (true)
//                                                               or has stopped every track
//   page -> frame  {pci: 1, type: 'microphone', state: 'ready', rate}
//                  {pci: 1, type: 'microphone', state: 'refused', name, message}
//                  {pci: 1, type: 'audio', samples}             mono Float32Array at rate
//   page -> frame  {pci: 1, type: 'ping', n}                    every second, from the start
//   frame -> page  {pci: 1, type: 'pong', n}                    answered at once: the page
//                  replaces a frame that stops answering (a PCI in an endless loop) by a
//                  message, and keeps its last response (web/qti.js, pciHeartbeat)
// The frame answers only its parent, and takes 'init' once, then only 'microphone' and
// 'audio', and 'ping' at any time, from its parent.
//
// The microphone: a frame without allow-same-origin has an opaque origin, where Chromium
// refuses getUserMedia ("Invalid security origin") whatever the frame's Permissions-Policy,
// and giving the frame an origin would give it the page's. So the frame never holds a
// device: navigator.mediaDevices.getUserMedia here asks the page, which opens the microphone
// itself only for a PCI bound to a file response (init.microphone: an audio recording),
// never the camera, and hands the sound over as samples; they become a real MediaStream here
// (Web Audio), which the PCI records with MediaRecorder as it would a device's.
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

  // A file's id (data-module) that answers for a named module of that file: a bundle (TAO's
  // *.min.js) names its libraries first and its main module last, or ends with an anonymous
  // module; the file's id goes to the last named module, and to the anonymous one.
  const borrowed = new Set();
  function define(id, deps, factory) {
    if (typeof id !== 'string') { factory = deps; deps = id; id = null; }
    if (!Array.isArray(deps)) { factory = deps; deps = []; }
    const s = document.currentScript;
    const own = s && s.getAttribute('data-module');
    // a shared library Outpost provides answers to its other ids too (src/qti/pci_libs.c)
    const aliases = ((s && s.getAttribute('data-aliases')) || '').split(' ').filter(Boolean);
    if (own && borrowed.has(own)) { defs.delete(own); borrowed.delete(own); }
    if (!id) id = own || `anonymous-${++anon}`;
    // the first definition of an id is kept: Outpost's libraries come first
    if (!defs.has(id)) defs.set(id, { deps, factory, done: false, value: undefined });
    // a named module in a file that is known by another id answers to both
    for (const other of [own, ...aliases]) {
      if (other && other !== id && !defs.has(other)) {
        defs.set(other, defs.get(id));
        if (other === own) borrowed.add(own);
      }
    }
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
    const d = defs.get(id);
    // loader plugins (css!, text!, tpl!) load nothing in a frame, but a bundle (TAO's *.min.js)
    // defines its "text!..." and "css!..." modules itself: those are its own
    if (!d && id.includes('!')) return undefined;
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

  // ---- the microphone, through the page (see the top) ----
  const mic = { waiting: [], ctx: null, proc: null, queue: [], queued: 0, live: 0, asked: false };
  const refusal = (message) => new DOMException(message, 'NotAllowedError');
  function micClosed() {
    mic.live = 0;
    mic.queue = [];
    mic.queued = 0;
    if (mic.asked) { mic.asked = false; post({ type: 'microphone', on: false }); }
  }
  function micStream() {
    const dest = mic.ctx.createMediaStreamDestination();
    mic.proc.connect(dest);
    const stream = dest.stream;
    for (const track of stream.getAudioTracks()) {
      mic.live++;
      const stop = track.stop.bind(track);
      let stopped = false;
      // the PCI stops its tracks when it has recorded: the page then closes the microphone
      track.stop = () => {
        stop();
        if (stopped) return;
        stopped = true;
        if (--mic.live <= 0) micClosed();
      };
    }
    return stream;
  }
  function micReady(rate) {
    if (!mic.ctx || mic.ctx.sampleRate !== rate) {
      if (mic.ctx) mic.ctx.close().catch(() => {});
      mic.ctx = new AudioContext({ sampleRate: rate });
      // the page's samples, played into the stream as they come
      const src = mic.ctx.createConstantSource();
      mic.proc = mic.ctx.createScriptProcessor(4096, 1, 1);
      mic.proc.onaudioprocess = (ev) => {
        const out = ev.outputBuffer.getChannelData(0);
        let i = 0;
        while (i < out.length && mic.queue.length) {
          const c = mic.queue[0];
          const n = Math.min(c.length, out.length - i);
          out.set(c.subarray(0, n), i);
          i += n;
          mic.queued -= n;
          if (n === c.length) mic.queue.shift(); else mic.queue[0] = c.subarray(n);
        }
        out.fill(0, i);
      };
      src.connect(mic.proc);
      src.start();
    }
    mic.ctx.resume().catch(() => {});
    for (const w of mic.waiting.splice(0)) w.resolve(micStream());
  }
  function getUserMedia(constraints) {
    return new Promise((resolve, reject) => {
      const c = constraints || {};
      if (c.video) { reject(refusal('This question may not use the camera.')); return; }
      if (!c.audio) { reject(new TypeError('getUserMedia: ask for audio')); return; }
      if (!init || !init.microphone || init.readOnly) { reject(refusal('This question may not use the microphone.')); return; }
      mic.waiting.push({ resolve, reject });
      if (!mic.asked) { mic.asked = true; post({ type: 'microphone', on: true }); }
      else if (mic.ctx && mic.live > 0) micReady(mic.ctx.sampleRate);
    });
  }
  function onMicMessage(m) {
    if (m.type === 'audio' && m.samples instanceof Float32Array && mic.asked) {
      mic.queue.push(m.samples);
      mic.queued += m.samples.length;
      // never more than 5 s behind (a context the browser keeps suspended)
      while (mic.ctx && mic.queued > 5 * mic.ctx.sampleRate && mic.queue.length > 1) mic.queued -= mic.queue.shift().length;
    } else if (m.type === 'microphone' && m.state === 'ready' && Number.isFinite(m.rate) && m.rate >= 3000 && m.rate <= 384000) {
      if (mic.asked) micReady(m.rate);
    } else if (m.type === 'microphone' && m.state === 'refused') {
      const err = new DOMException(String(m.message || 'The microphone cannot be used.').slice(0, 300),
        ['NotAllowedError', 'NotFoundError', 'NotReadableError', 'SecurityError', 'NotSupportedError'].includes(m.name) ? m.name : 'NotAllowedError');
      for (const w of mic.waiting.splice(0)) w.reject(err);
      mic.asked = false;
    }
  }
  const devices = navigator.mediaDevices || {};
  try {
    // an insecure page has no navigator.mediaDevices: the PCI still asks, and hears why not
    if (!navigator.mediaDevices) Object.defineProperty(navigator, 'mediaDevices', { value: devices, configurable: true });
    Object.defineProperty(devices, 'getUserMedia', { value: getUserMedia, configurable: true, writable: true });
    if (typeof devices.enumerateDevices !== 'function') {
      Object.defineProperty(devices, 'enumerateDevices', { value: () => Promise.resolve([]), configurable: true });
    }
  } catch (e) { /* the PCI then meets the browser's own refusal */ }
  // the old callback form, which some PCIs try first
  navigator.getUserMedia = navigator.webkitGetUserMedia = (c, ok, ko) => getUserMedia(c).then(ok, ko);

  // Whatever the PCI answers now, sent when it changed.
  function report() {
    if (!inst) return;
    let response = null;
    let state = null;
    try { response = inst.getResponse ? inst.getResponse() : null; } catch (e) { return; }
    // IMS PCI 1.0's getState() gives a string (an object is kept as its JSON); TAO's
    // getSerializedState() gives any value, kept as its JSON and parsed again for
    // setSerializedState, as TAO's own item state does (so {recordsAttempts: 2} comes back an
    // object, and a string a string)
    const tao = !inst.getState && !!inst.getSerializedState;
    try {
      state = inst.getState ? inst.getState() : tao ? inst.getSerializedState() : null;
    } catch (e) { state = null; }
    if (state !== null && state !== undefined && (tao || typeof state !== 'string')) state = JSON.stringify(state);
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
    // TAO's asset manager: a package file the page handed over is a blob URL, others as named
    const assetManager = {
      resolve: (path) => (init.assets && init.assets[path] instanceof Blob ? URL.createObjectURL(init.assets[path]) : path),
    };
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
          assetManager,
          onready(i) { inst = i || inst; report(); },
          ondone(i) { inst = i || inst; report(); },
        };
        const r = pci.getInstance(dom, config, init.state || undefined);
        if (r && typeof r.getResponse === 'function') inst = r;
        // some of TAO's IMS PCIs are their own instance and never call onready (an early
        // likert sample looks for onready in its properties)
        if (!inst && typeof pci.getResponse === 'function') inst = pci;
      } else if (typeof pci.initialize === 'function') {
        // TAO's PCIs: a copy of the registered object is the instance
        inst = Object.create(pci);
        inst.initialize(id, dom, init.properties || {}, assetManager);
        if (init.state && inst.setSerializedState) {
          let st = init.state;
          try { st = JSON.parse(init.state); } catch (e) { /* not JSON: given as it is */ }
          inst.setSerializedState(st);
        }
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
    if (ev.source !== window.parent) return;
    const p = ev.data;
    if (p && p.pci === 1 && p.type === 'ping' && Number.isSafeInteger(p.n)) { post({ type: 'pong', n: p.n }); return; }
    if (init) { if (ev.data && ev.data.pci === 1) onMicMessage(ev.data); return; }
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
