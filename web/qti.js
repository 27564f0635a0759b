// qti.js - renders the QTI engine's item render model (src/qti/item_json.c, interactions as in
// src/qti/interaction.h) and collects the candidate's responses in the engine's response JSON
// (identifier/string -> string, multiple/ordered -> array, pair/directedPair -> "A B",
// point -> "x y", integer/float -> number, boolean -> true/false, null = no response).
//
// Content is never given to innerHTML: the sanitised XHTML of the model is parsed into an
// inert document (DOMParser runs no script and loads nothing) and copied node by node into
// the page through an allow-list, MathML as MathML elements. Package files (images,
// stylesheets) come from opts.assetUrl(path).
//
// Every interaction works with mouse, touch and keyboard alone, each control has a label for
// screen readers: native inputs where they fit (radio, checkbox, select, text, range),
// buttons and focusable SVG shapes (role radio/checkbox, Space/Enter) elsewhere.

const XHTML = 'http://www.w3.org/1999/xhtml';
const MATHML = 'http://www.w3.org/1998/Math/MathML';
const SVG = 'http://www.w3.org/2000/svg';

const HTML_TAGS = new Set(('a abbr acronym address b bdo big blockquote br caption cite code col colgroup dd del dfn ' +
  'div dl dt em figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd label li ol p pre q rb rp rt ruby samp ' +
  'small span strong sub sup table tbody td tfoot th thead tr tt u ul var audio video source track object param ' +
  'section article aside header footer nav mark s').split(' '));
const HTML_ATTRS = new Set(('class title lang dir alt width height colspan rowspan scope headers summary abbr start ' +
  'type align valign span cite datetime xml:lang longdesc controls loop muted poster preload').split(' '));
const URL_ATTRS = new Set(['src', 'data', 'href', 'poster']);

let uid = 0;
const nextId = (p) => `qti-${p}-${++uid}`;

function h(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') n.className = v;
    else if (k === 'text') n.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids.flat()) {
    if (c === undefined || c === null || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return n;
}

function svg(tag, attrs) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) n.setAttribute(k, String(v));
  return n;
}

// ------------------------------------------------------------------- safe content copy --

// Parses a sanitised XHTML fragment into an inert tree (never the live document).
function parseFragment(html) {
  const src = `<div xmlns="${XHTML}" xmlns:m="${MATHML}">${html || ''}</div>`;
  const doc = new DOMParser().parseFromString(src, 'application/xhtml+xml');
  if (!doc.getElementsByTagName('parsererror').length) return doc.documentElement;
  // Not well-formed: read it as HTML instead (still inert).
  const hd = new DOMParser().parseFromString(`<div>${html || ''}</div>`, 'text/html');
  return hd.body.firstChild;
}

// Copies the inert tree `src` into live nodes through the allow-list. `hooks(el)` may return a
// replacement node for a marker element (data-qti-*) or undefined to copy it.
function copyChildren(src, dst, ctx) {
  for (const c of Array.from(src.childNodes)) {
    const n = copyNode(c, ctx);
    if (n) dst.append(n);
  }
}

function copyNode(c, ctx) {
  if (c.nodeType === Node.TEXT_NODE || c.nodeType === Node.CDATA_SECTION_NODE) return document.createTextNode(c.data);
  if (c.nodeType !== Node.ELEMENT_NODE) return null;
  if (ctx.hook) {
    const r = ctx.hook(c);
    if (r !== undefined) return r;
  }
  const name = c.localName.toLowerCase();
  if (c.namespaceURI === MATHML || name === 'math') {
    const m = document.createElementNS(MATHML, c.localName);
    for (const a of Array.from(c.attributes)) {
      const an = a.name.toLowerCase();
      if (an.startsWith('on') || an.includes('href') || an === 'actiontype' || an.startsWith('xmlns')) continue;
      if (an === 'style') { m.style.cssText = a.value; continue; }
      m.setAttribute(a.localName, a.value);
    }
    copyChildren(c, m, ctx);
    return m;
  }
  if (name === 'object') return objectNode(c, ctx);
  if (!HTML_TAGS.has(name)) {
    // unknown: keep the content only
    const f = document.createDocumentFragment();
    copyChildren(c, f, ctx);
    return f;
  }
  const n = document.createElement(name);
  for (const a of Array.from(c.attributes)) {
    const an = a.name.toLowerCase();
    if (an.startsWith('on')) continue;
    if (an === 'style') { n.style.cssText = a.value; continue; }
    if (an.startsWith('data-')) { n.setAttribute(an, a.value); continue; }
    if (URL_ATTRS.has(an)) {
      const u = ctx.assetUrl(a.value);
      if (!u) continue;
      if (name === 'a') { n.setAttribute('href', u); n.setAttribute('target', '_blank'); n.setAttribute('rel', 'noopener'); }
      else n.setAttribute(an, u);
      continue;
    }
    if (an === 'id') { n.id = `qti-c-${a.value}`; continue; }
    if (HTML_ATTRS.has(an)) n.setAttribute(an === 'xml:lang' ? 'lang' : an, a.value);
  }
  if (name === 'img' && !n.hasAttribute('alt')) n.setAttribute('alt', '');
  if (name === 'audio' || name === 'video') n.setAttribute('controls', '');
  copyChildren(c, n, ctx);
  return n;
}

// An <object> of the package (images, audio, video): shown with the matching element.
function objectNode(c, ctx) {
  const data = c.getAttribute('data');
  const type = (c.getAttribute('type') || '').toLowerCase();
  const fallback = (c.textContent || '').trim();
  const url = data ? ctx.assetUrl(data) : null;
  if (!url) return document.createTextNode(fallback);
  let n;
  if (type.startsWith('audio/')) n = h('audio', { controls: true, src: url, 'aria-label': fallback || null });
  else if (type.startsWith('video/')) n = h('video', { controls: true, src: url, 'aria-label': fallback || null });
  else n = h('img', { src: url, alt: fallback });
  for (const k of ['width', 'height']) if (c.getAttribute(k)) n.setAttribute(k, c.getAttribute(k));
  return n;
}

// Plain text of a sanitised fragment (labels for screen readers).
function textOf(html) {
  return (parseFragment(html).textContent || '').replace(/\s+/g, ' ').trim();
}

// ------------------------------------------------------------------------ the renderer --

/**
 * Renders `item` (render model) into `container`.
 * state: the session view {order, hiddenChoices, printed, templates, feedback, modal} (may be {}).
 * saved: saved responses {RESPONSE: value}.
 * opts: {assetUrl(path) -> url, t(key, vars) -> string, onChange(), onEndAttempt(id), readOnly}
 * Returns {responses() -> {id: value}, focusFirst()}.
 */
export function renderItem(container, item, state, saved, opts) {
  state = state || {};
  saved = saved || {};
  const t = opts.t || ((k) => k);
  const assetUrl = (p) => {
    if (!p || /^[a-z][a-z0-9+.-]*:/i.test(p) || p.startsWith('/') || p.startsWith('//')) return null;
    return opts.assetUrl(p);
  };
  const changed = () => { if (opts.onChange) opts.onChange(); };
  const stateChanged = () => { if (opts.onStateChange) opts.onStateChange(); };
  const controllers = new Map();
  const decl = (id) => (item.responses && item.responses[id]) || { cardinality: 'single', baseType: 'identifier' };
  const byId = new Map((item.interactions || []).map((it) => [it.responseIdentifier, it]));

  container.replaceChildren();
  container.classList.add('qti-item');
  // The package's stylesheets.
  for (const s of item.stylesheets || []) {
    const u = assetUrl(s);
    if (u) container.append(h('link', { rel: 'stylesheet', href: u }));
  }

  const env = { t, assetUrl, changed, stateChanged, decl, state, saved, opts, item };
  const ctx = { assetUrl, hook: null };
  ctx.hook = (e) => {
    // positionObjectStage: one picture for the positionObjectInteractions it holds
    if (e.getAttribute('data-qti-stage') !== null) {
      const its = Array.from(e.children).map((m) => byId.get(m.getAttribute('data-qti-interaction'))).filter(Boolean);
      if (!its.length) return document.createDocumentFragment();
      const { node, ctls } = positionStage(its, env, ctx);
      for (const [id, c] of ctls) controllers.set(id, c);
      return node;
    }
    const ds = e.getAttribute('data-qti-interaction');
    if (ds !== null) {
      const it = byId.get(ds);
      if (!it) return document.createDocumentFragment();
      const inline = e.localName.toLowerCase() === 'span';
      const { node, ctl } = renderInteraction(it, env, ctx, inline);
      controllers.set(it.responseIdentifier, ctl);
      return node;
    }
    const fb = e.getAttribute('data-qti-feedback');
    if (fb !== null) {
      const html = state.feedback && state.feedback[fb];
      const n = h(e.localName.toLowerCase() === 'span' ? 'span' : 'div', { class: 'qti-feedback', role: 'note' });
      if (html === undefined || html === null) return document.createDocumentFragment();
      copyChildren(parseFragment(html), n, ctx);
      return n;
    }
    const tb = e.getAttribute('data-qti-template');
    if (tb !== null) {
      if (state.templates && state.templates[tb] === false) return document.createDocumentFragment();
      const n = h(e.localName.toLowerCase() === 'span' ? 'span' : 'div', { class: 'qti-template' });
      copyChildren(e, n, ctx);
      return n;
    }
    const pv = e.getAttribute('data-qti-printed');
    if (pv !== null) {
      const v = state.printed && state.printed[pv];
      if (e.namespaceURI === MATHML) {
        const m = document.createElementNS(MATHML, e.localName);
        m.textContent = v === undefined ? '' : String(v);
        return m;
      }
      return h('span', { class: 'qti-printed', text: v === undefined ? '' : String(v) });
    }
    const view = e.getAttribute('data-qti-view');
    if (view !== null && !/candidate/.test(view)) return document.createDocumentFragment();
    return undefined;
  };

  const body = h('div', { class: 'qti-body' });
  copyChildren(parseFragment(item.body), body, ctx);
  container.append(body);
  // Interactions without a marker in the body (should not happen) still get shown.
  for (const it of item.interactions || []) {
    if (!controllers.has(it.responseIdentifier)) {
      const { node, ctl } = renderInteraction(it, env, ctx, false);
      controllers.set(it.responseIdentifier, ctl);
      container.append(node);
    }
  }
  for (const m of state.modal || []) {
    const box = h('div', { class: 'qti-modal-feedback', role: 'note' });
    if (m.title) box.append(h('h3', { text: m.title }));
    copyChildren(parseFragment(m.html), box, ctx);
    container.append(box);
  }
  if (opts.readOnly) for (const n of container.querySelectorAll('input,select,textarea,button')) n.disabled = true;

  return {
    responses() {
      const out = {};
      for (const [id, c] of controllers) {
        const v = c.value();
        if (v !== undefined) out[id] = v;
      }
      return out;
    },
    // the state of each PCI whose state is kept ({RESPONSE: "state" | null}: see
    // customInteraction)
    pciStates() {
      const out = {};
      for (const [id, c] of controllers) {
        const s = c.state ? c.state() : undefined;
        if (s !== undefined) out[id] = s;
      }
      return out;
    },
    // waits for what a control still reads (a chosen file)
    async settle() {
      for (const c of controllers.values()) if (c.pending && c.pending()) await c.pending().catch(() => {});
    },
    focusFirst() {
      const f = container.querySelector('input,select,textarea,button,[tabindex="0"]');
      if (f) f.focus();
    },
  };
}

// The choices of `it` in the order the session gives, without hidden ones.
function orderedChoices(it, env) {
  const order = env.state.order && env.state.order[it.responseIdentifier];
  const hidden = new Set((env.state.hiddenChoices && env.state.hiddenChoices[it.responseIdentifier]) || []);
  const byId = new Map((it.choices || []).map((c) => [c.identifier, c]));
  let list = Array.isArray(order) && order.length === byId.size ? order.map((id) => byId.get(id)).filter(Boolean) : (it.choices || []).slice();
  return list.filter((c) => !hidden.has(c.identifier));
}

function prompt(it, ctx, id) {
  if (!it.prompt) return null;
  const p = h('div', { class: 'qti-prompt', id });
  copyChildren(parseFragment(it.prompt), p, ctx);
  return p;
}

function content(html, ctx, tag) {
  const n = h(tag || 'span', { class: 'qti-choice-content' });
  copyChildren(parseFragment(html), n, ctx);
  return n;
}

function typed(v, baseType) {
  if (v === null || v === undefined) return null;
  const s = String(v).trim();
  if (s === '') return null;
  if (baseType === 'integer') return /^[+-]?\d+$/.test(s) ? parseInt(s, 10) : s;
  if (baseType === 'float') return isFinite(Number(s)) ? Number(s) : s;
  return String(v);
}

function renderInteraction(it, env, ctx, inline) {
  const fn = RENDERERS[it.type] || unsupported;
  const r = fn(it, env, ctx, inline);
  r.node.dataset.responseIdentifier = it.responseIdentifier;
  r.node.classList.add('qti-interaction', `qti-${it.type}`);
  return r;
}

function unsupported(it, env) {
  return { node: h('div', { role: 'alert', text: env.t('qti.unsupported', { type: it.type }) }), ctl: { value: () => undefined } };
}

// A group with a prompt (fieldset + legend-like labelling).
function group(it, env, ctx, label) {
  const pid = nextId('prompt');
  const p = prompt(it, ctx, pid);
  const g = h('div', { role: 'group' });
  if (p) { g.append(p); g.setAttribute('aria-labelledby', pid); } else g.setAttribute('aria-label', label);
  return g;
}

// --------------------------------------------------------------------- interactions --

const RENDERERS = {
  choiceInteraction(it, env, ctx) {
    const d = env.decl(it.responseIdentifier);
    const single = d.cardinality === 'single';
    const g = group(it, env, ctx, env.t('qti.choice'));
    const name = nextId('choice');
    const list = h('div', { class: 'qti-choices', role: single ? 'radiogroup' : null, 'aria-labelledby': g.getAttribute('aria-labelledby') });
    const saved = env.saved[it.responseIdentifier];
    const sel = new Set(single ? (saved ? [saved] : []) : saved || []);
    const inputs = [];
    for (const c of orderedChoices(it, env)) {
      const inp = h('input', { type: single ? 'radio' : 'checkbox', name, value: c.identifier });
      inp.checked = sel.has(c.identifier);
      inp.addEventListener('change', () => {
        if (!single && it.maxChoices > 0) {
          const n = inputs.filter((i) => i.checked).length;
          for (const i of inputs) i.disabled = !i.checked && n >= it.maxChoices;
        }
        env.changed();
      });
      inputs.push(inp);
      list.append(h('label', { class: 'qti-choice' }, inp, content(c.html, ctx)));
    }
    if (!single && it.maxChoices > 0) {
      const n = inputs.filter((i) => i.checked).length;
      for (const i of inputs) i.disabled = !i.checked && n >= it.maxChoices;
    }
    if (!single && it.maxChoices > 1) g.append(h('p', { class: 'qti-hint', text: env.t('qti.maxChoices', { n: it.maxChoices }) }));
    g.append(list);
    if (single) {
      const clear = h('button', { type: 'button', class: 'qti-clear', text: env.t('qti.clear') });
      clear.addEventListener('click', () => { for (const i of inputs) i.checked = false; env.changed(); });
      g.append(clear);
    }
    return {
      node: g,
      ctl: {
        value() {
          const v = inputs.filter((i) => i.checked).map((i) => i.value);
          if (single) return v.length ? v[0] : null;
          return v;
        },
      },
    };
  },

  hottextInteraction(it, env, ctx) {
    const d = env.decl(it.responseIdentifier);
    const single = d.cardinality === 'single';
    const g = group(it, env, ctx, env.t('qti.hottext'));
    const name = nextId('hot');
    const inputs = [];
    const saved = env.saved[it.responseIdentifier];
    const sel = new Set(single ? (saved ? [saved] : []) : saved || []);
    const byId = new Map((it.choices || []).map((c) => [c.identifier, c]));
    const limit = () => {
      if (single || !(it.maxChoices > 0)) return;
      const n = inputs.filter((i) => i.checked).length;
      for (const i of inputs) i.disabled = !i.checked && n >= it.maxChoices;
    };
    const inner = { assetUrl: ctx.assetUrl, hook: null };
    inner.hook = (e) => {
      const id = e.getAttribute('data-qti-hottext');
      if (id === null) return ctx.hook(e);
      const inp = h('input', { type: single ? 'radio' : 'checkbox', name, value: id });
      inp.checked = sel.has(id);
      inp.addEventListener('change', () => { limit(); env.changed(); });
      inputs.push(inp);
      const lab = h('label', { class: 'qti-hottext' }, inp);
      const c = byId.get(id);
      if (c && c.html && !e.childNodes.length) copyChildren(parseFragment(c.html), lab, inner);
      else copyChildren(e, lab, inner);
      return lab;
    };
    const box = h('div', { class: 'qti-hottext-body' });
    copyChildren(parseFragment(it.html), box, inner);
    g.append(box);
    limit();
    return {
      node: g,
      ctl: {
        value() {
          const v = inputs.filter((i) => i.checked).map((i) => i.value);
          return single ? (v.length ? v[0] : null) : v;
        },
      },
    };
  },

  inlineChoiceInteraction(it, env, ctx) {
    const s = h('select', { 'aria-label': env.t('qti.inlineChoice') });
    s.append(h('option', { value: '', text: env.t('qti.select') }));
    for (const c of orderedChoices(it, env)) s.append(h('option', { value: c.identifier, text: textOf(c.html) }));
    const saved = env.saved[it.responseIdentifier];
    if (saved) s.value = saved;
    s.addEventListener('change', env.changed);
    const node = h('span', {}, s);
    return { node, ctl: { value: () => (s.value ? s.value : null) } };
  },

  textEntryInteraction(it, env) {
    const d = env.decl(it.responseIdentifier);
    const inp = h('input', {
      type: 'text',
      'aria-label': env.t('qti.textEntry'),
      size: Math.min(Math.max(it.expectedLength || 10, 3), 40),
      placeholder: it.placeholderText || null,
      inputmode: d.baseType === 'integer' ? 'numeric' : d.baseType === 'float' ? 'decimal' : null,
      autocomplete: 'off',
      spellcheck: 'false',
    });
    const saved = env.saved[it.responseIdentifier];
    if (saved !== undefined && saved !== null) inp.value = String(saved);
    inp.addEventListener('input', env.changed);
    return { node: h('span', {}, inp), ctl: { value: () => typed(inp.value, d.baseType) } };
  },

  extendedTextInteraction(it, env, ctx) {
    const d = env.decl(it.responseIdentifier);
    const g = group(it, env, ctx, env.t('qti.extendedText'));
    const many = d.cardinality !== 'single';
    const count = many ? Math.max(it.maxStrings || 0, it.minStrings || 0, 1) : 1;
    const saved = env.saved[it.responseIdentifier];
    const vals = many ? saved || [] : [saved];
    const areas = [];
    for (let i = 0; i < Math.min(count, 20); i++) {
      const ta = h('textarea', {
        rows: Math.min(Math.max(it.expectedLines || 4, 2), 20),
        'aria-label': count > 1 ? env.t('qti.answerN', { n: i + 1 }) : env.t('qti.extendedText'),
        'aria-describedby': g.getAttribute('aria-labelledby'),
        placeholder: it.placeholderText || null,
      });
      if (vals[i] !== undefined && vals[i] !== null) ta.value = String(vals[i]);
      ta.addEventListener('input', env.changed);
      areas.push(ta);
      g.append(ta);
    }
    return {
      node: g,
      ctl: {
        value() {
          if (!many) return typed(areas[0].value, d.baseType);
          const v = areas.map((a) => typed(a.value, d.baseType)).filter((x) => x !== null);
          return v;
        },
      },
    };
  },

  sliderInteraction(it, env, ctx) {
    const d = env.decl(it.responseIdentifier);
    const g = group(it, env, ctx, env.t('qti.slider'));
    const lo = Number(it.lowerBound), hi = Number(it.upperBound);
    const step = Number(it.step) > 0 ? Number(it.step) : d.baseType === 'integer' ? 1 : (hi - lo) / 100;
    const out = h('output', { class: 'qti-slider-value' });
    const r = h('input', { type: 'range', min: lo, max: hi, step, 'aria-label': env.t('qti.slider') });
    if (it.reverse) r.classList.add('qti-reverse');
    if (it.orientation === 'vertical') r.classList.add('qti-vertical');
    const saved = env.saved[it.responseIdentifier];
    let touched = saved !== undefined && saved !== null;
    r.value = touched ? saved : lo;
    const show = () => {
      out.textContent = touched ? r.value : env.t('qti.sliderUnset');
      r.setAttribute('aria-valuetext', touched ? r.value : env.t('qti.sliderUnset'));
    };
    r.addEventListener('input', () => { touched = true; show(); env.changed(); });
    show();
    g.append(h('div', { class: 'qti-slider' }, h('span', { 'aria-hidden': 'true', text: String(lo) }), r, h('span', { 'aria-hidden': 'true', text: String(hi) }), out));
    return {
      node: g,
      ctl: { value: () => (touched ? (d.baseType === 'integer' ? Math.round(Number(r.value)) : Number(r.value)) : null) },
    };
  },

  orderInteraction(it, env, ctx) {
    const g = group(it, env, ctx, env.t('qti.order'));
    g.append(h('p', { class: 'qti-hint', text: env.t('qti.orderHint') }));
    const byId = new Map((it.choices || []).map((c) => [c.identifier, c]));
    const saved = env.saved[it.responseIdentifier];
    let ids = orderedChoices(it, env).map((c) => c.identifier);
    let touched = false;
    if (Array.isArray(saved) && saved.length) {
      touched = true;
      ids = saved.filter((x) => byId.has(x)).concat(ids.filter((x) => !saved.includes(x)));
    }
    const ol = h('ol', { class: 'qti-order-list' });
    const status = h('p', { class: 'qti-sr', role: 'status', 'aria-live': 'polite' });
    const draw = (focusId, dir) => {
      let toFocus = null;
      ol.replaceChildren();
      ids.forEach((id, i) => {
        const label = textOf(byId.get(id).html);
        const up = h('button', { type: 'button', class: 'qti-move', 'aria-label': env.t('qti.moveUp', { label }), text: '↑', disabled: i === 0 });
        const down = h('button', { type: 'button', class: 'qti-move', 'aria-label': env.t('qti.moveDown', { label }), text: '↓', disabled: i === ids.length - 1 });
        const move = (d) => {
          const j = i + d;
          [ids[i], ids[j]] = [ids[j], ids[i]];
          touched = true;
          status.textContent = env.t('qti.movedTo', { label, n: j + 1 });
          draw(id, d);
          env.changed();
        };
        up.addEventListener('click', () => move(-1));
        down.addEventListener('click', () => move(1));
        const li = h('li', { class: 'qti-order-item', dataset: null }, content(byId.get(id).html, ctx), h('span', { class: 'qti-move-buttons' }, up, down));
        li.dataset.identifier = id;
        ol.append(li);
        if (id === focusId) toFocus = dir < 0 ? (i === 0 ? down : up) : (i === ids.length - 1 ? up : down);
      });
      if (toFocus) toFocus.focus();
    };
    draw();
    g.append(ol, status);
    return { node: g, ctl: { value: () => (touched ? ids.slice() : null) } };
  },

  associateInteraction(it, env, ctx) {
    return pairsUi(it, env, ctx, orderedChoices(it, env), orderedChoices(it, env), false);
  },

  matchInteraction(it, env, ctx) {
    const d = env.decl(it.responseIdentifier);
    const g = group(it, env, ctx, env.t('qti.match'));
    const all = orderedChoices(it, env);
    const rows = all.filter((c) => !c.matchSet);
    const cols = all.filter((c) => c.matchSet === 1);
    const saved = new Set(env.saved[it.responseIdentifier] || []);
    const boxes = [];
    const table = h('table', { class: 'qti-match-table' });
    const head = h('tr', {}, h('td', {}));
    for (const c of cols) head.append(h('th', { scope: 'col' }, content(c.html, ctx)));
    table.append(h('thead', {}, head));
    const tb = h('tbody');
    const enforce = (box) => {
      if (!box.checked) return;
      const count = (pred) => boxes.filter((b) => b.checked && pred(b)).length;
      const r = box.dataset.row, c = box.dataset.col;
      const rmax = rows.find((x) => x.identifier === r).matchMax || 0;
      const cmax = cols.find((x) => x.identifier === c).matchMax || 0;
      // a choice that takes one match only behaves as a radio: the new match replaces the old
      if (rmax === 1) for (const b of boxes) if (b !== box && b.dataset.row === r) b.checked = false;
      if (cmax === 1) for (const b of boxes) if (b !== box && b.dataset.col === c) b.checked = false;
      if (rmax > 1 && count((b) => b.dataset.row === r) > rmax) box.checked = false;
      if (cmax > 1 && count((b) => b.dataset.col === c) > cmax) box.checked = false;
      if (it.maxAssociations > 0 && count(() => true) > it.maxAssociations) box.checked = false;
    };
    for (const r of rows) {
      const tr = h('tr', {}, h('th', { scope: 'row' }, content(r.html, ctx)));
      for (const c of cols) {
        const b = h('input', { type: 'checkbox', 'aria-label': env.t('qti.matchPair', { a: textOf(r.html), b: textOf(c.html) }) });
        b.dataset.row = r.identifier;
        b.dataset.col = c.identifier;
        b.checked = saved.has(`${r.identifier} ${c.identifier}`);
        b.addEventListener('change', () => { enforce(b); env.changed(); });
        boxes.push(b);
        tr.append(h('td', {}, b));
      }
      tb.append(tr);
    }
    table.append(tb);
    g.append(h('div', { class: 'qti-table-wrap' }, table));
    return {
      node: g,
      ctl: {
        value() {
          const v = boxes.filter((b) => b.checked).map((b) => `${b.dataset.row} ${b.dataset.col}`);
          return d.cardinality === 'single' ? v[0] || null : v;
        },
      },
    };
  },

  gapMatchInteraction(it, env, ctx) {
    const d = env.decl(it.responseIdentifier);
    const g = group(it, env, ctx, env.t('qti.gapMatch'));
    const words = orderedChoices(it, env).filter((c) => !c.matchSet);
    const gaps = new Map((it.choices || []).filter((c) => c.matchSet === 1).map((c) => [c.identifier, c]));
    const saved = env.saved[it.responseIdentifier] || [];
    const filled = new Map();
    for (const p of Array.isArray(saved) ? saved : [saved]) {
      if (typeof p !== 'string') continue;
      const [w, gp] = p.split(' ');
      filled.set(gp, w);
    }
    const selects = [];
    let gapNo = 0;
    const enforce = (s) => {
      const w = words.find((x) => x.identifier === s.value);
      if (!w || !w.matchMax) return;
      const users = selects.filter((o) => o.value === s.value);
      if (users.length > w.matchMax) for (const o of users) if (o !== s && users.length-- > w.matchMax) o.value = '';
    };
    const inner = { assetUrl: ctx.assetUrl, hook: null };
    inner.hook = (e) => {
      const id = e.getAttribute('data-qti-gap');
      if (id === null) return ctx.hook(e);
      gapNo++;
      const s = h('select', { class: 'qti-gap', 'aria-label': env.t('qti.gapN', { n: gapNo }), required: gaps.get(id) && gaps.get(id).required ? true : null });
      s.dataset.gap = id;
      s.append(h('option', { value: '', text: env.t('qti.select') }));
      for (const w of words) s.append(h('option', { value: w.identifier, text: textOf(w.html) }));
      if (filled.has(id)) s.value = filled.get(id);
      s.addEventListener('change', () => { enforce(s); env.changed(); });
      selects.push(s);
      return s;
    };
    const box = h('div', { class: 'qti-gap-body' });
    copyChildren(parseFragment(it.html), box, inner);
    const bank = h('ul', { class: 'qti-gap-bank', 'aria-label': env.t('qti.gapWords') });
    for (const w of words) bank.append(h('li', {}, content(w.html, ctx)));
    g.append(bank, box);
    return {
      node: g,
      ctl: {
        value() {
          const v = selects.filter((s) => s.value).map((s) => `${s.value} ${s.dataset.gap}`);
          return d.cardinality === 'single' ? v[0] || null : v;
        },
      },
    };
  },

  hotspotInteraction(it, env, ctx) { return graphic(it, env, ctx, 'hotspot'); },
  graphicOrderInteraction(it, env, ctx) { return graphic(it, env, ctx, 'order'); },
  graphicAssociateInteraction(it, env, ctx) { return graphic(it, env, ctx, 'associate'); },
  selectPointInteraction(it, env, ctx) { return selectPoint(it, env, ctx); },
  graphicGapMatchInteraction(it, env, ctx) { return graphicGapMatch(it, env, ctx); },
  // outside a positionObjectStage marker (should not happen): a stage of its own
  positionObjectInteraction(it, env, ctx) {
    const { node, ctls } = positionStage([it], env, ctx);
    return { node, ctl: ctls.get(it.responseIdentifier) };
  },

  endAttemptInteraction(it, env) {
    let used = env.saved[it.responseIdentifier] === true;
    const b = h('button', { type: 'button', class: 'qti-end-attempt', text: it.title || env.t('qti.endAttempt') });
    b.addEventListener('click', () => {
      used = true;
      env.changed();
      if (env.opts.onEndAttempt) env.opts.onEndAttempt(it.responseIdentifier);
    });
    return { node: h('span', {}, b), ctl: { value: () => used } };
  },

  customInteraction(it, env, ctx) { return customInteraction(it, env, ctx); },

  // The response is the number of times the media was played (QTI 2.1: a single integer).
  // The page's own Play/Pause button (no native controls, which would let a candidate replay
  // past maxPlays): a play counts when playback starts from the beginning; pausing and going
  // on is the same play. loop plays again at the end while maxPlays allows; autostart starts
  // the first play when the item is first shown (the browser may refuse it without a gesture:
  // then the button does it).
  mediaInteraction(it, env, ctx) {
    const g = group(it, env, ctx, env.t('qti.media'));
    const o = it.object || {};
    const url = env.assetUrl(o.data);
    const type = (o.type || '').toLowerCase();
    let plays = Number(env.saved[it.responseIdentifier]) || 0;
    if (!type.startsWith('video/') && !type.startsWith('audio/')) {
      g.append(h('img', { src: url, alt: env.t('qti.media'), width: o.width || null, height: o.height || null }));
      return { node: g, ctl: { value: () => plays } };
    }
    const video = type.startsWith('video/');
    const m = h(video ? 'video' : 'audio', { src: url, preload: 'auto', class: 'qti-media' });
    if (video) {
      if (o.width) m.setAttribute('width', o.width);
      if (o.height) m.setAttribute('height', o.height);
      m.setAttribute('aria-label', env.t('qti.media'));
    }
    const max = it.maxPlays > 0 ? it.maxPlays : 0;
    const btn = h('button', { type: 'button', class: 'qti-media-play' });
    const status = h('p', { class: 'qti-media-plays', role: 'status', 'aria-live': 'polite' });
    let started = false; // a play is under way (playing or paused part way)
    const left = () => max === 0 || plays < max;
    const draw = () => {
      btn.textContent = m.paused ? env.t('qti.play') : env.t('qti.pause');
      btn.disabled = !!env.opts.readOnly || (m.paused && !started && !left());
      status.textContent = max
        ? env.t('qti.playsOf', { n: plays, max })
        : env.t('qti.plays', { n: plays });
    };
    const start = () => {
      if (!started && !left()) return;
      const p = m.play();
      if (p && p.catch) p.catch(() => draw());
    };
    m.addEventListener('play', () => {
      if (!started) {
        if (!left()) { m.pause(); return; }
        started = true;
        plays++;
        env.changed();
      }
      draw();
    });
    m.addEventListener('pause', draw);
    m.addEventListener('ended', () => {
      started = false;
      if (it.loop && left() && !env.opts.readOnly) { m.currentTime = 0; start(); }
      draw();
    });
    btn.addEventListener('click', () => { if (m.paused) start(); else m.pause(); });
    g.append(m, h('div', { class: 'qti-media-controls' }, btn, status));
    draw();
    if (it.autostart && plays === 0 && !env.opts.readOnly) queueMicrotask(start);
    return { node: g, ctl: { value: () => plays } };
  },
};

// ------------------------------------------------------- portable custom interactions --

// The QTI JSON binding of IMS PCI 1.0 ({"base": {"integer": 3}}, {"list": {...}},
// {"record": [...]}) of a response the engine gave in its own JSON form (see the top).
function isBinding(v) {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 &&
    ['base', 'list', 'record'].includes(Object.keys(v)[0]);
}
function toBinding(v, d) {
  if (v === undefined || v === null) return null;
  if (isBinding(v)) return v;
  const one = (bt, x) => {
    if (bt === 'point') return x.split(' ').map(Number);
    if (bt === 'pair' || bt === 'directedPair') return x.split(' ');
    return x;
  };
  if (d.cardinality === 'record') {
    return { record: Object.entries(v).map(([name, f]) => ({ name, base: f && f.baseType ? { [f.baseType]: one(f.baseType, f.value) } : null })) };
  }
  if (d.cardinality === 'single') return { base: { [d.baseType]: one(d.baseType, v) } };
  return { list: { [d.baseType]: (Array.isArray(v) ? v : [v]).map((x) => one(d.baseType, x)) } };
}

// A message of a PCI's frame, checked: only the protocol's types with the fields each may
// have, a response that reads as the JSON binding and is small (a PCI bound to a file
// response gives the file, base64, and often its state holds it again: 8 MiB), a state that
// is a string; 'microphone' only from a frame bound to a file response.
function pciMessage(data, fileBound) {
  if (!data || typeof data !== 'object' || data.pci !== 1 || typeof data.type !== 'string') return null;
  const keys = Object.keys(data);
  const only = (...k) => keys.every((x) => x === 'pci' || x === 'type' || k.includes(x));
  switch (data.type) {
    case 'ready': return only() ? data : null;
    case 'height': return only('height') && Number.isFinite(data.height) && data.height >= 0 ? data : null;
    case 'error': return only('message') && typeof data.message === 'string' ? data : null;
    case 'response': {
      if (!only('response', 'state')) return null;
      if (data.response !== null && !isBinding(data.response)) return null;
      if (data.state !== null && data.state !== undefined && typeof data.state !== 'string') return null;
      let size = 0;
      try { size = JSON.stringify(data.response).length + (data.state ? data.state.length : 0); } catch (e) { return null; }
      return size <= (fileBound ? 8 * 1024 * 1024 : 256 * 1024) ? data : null;
    }
    case 'microphone': return fileBound && only('on') && typeof data.on === 'boolean' ? data : null;
    case 'pong': return only('n') && Number.isSafeInteger(data.n) ? data : null;
    default: return null;
  }
}

// PCI state (getState, getSerializedState): the latest a frame gave while the page is open;
// the device keeps it too (take.js sends it with the responses, or alone: sealed to the test
// taker on the server, docs/qti.md), and gives it back in the view (opts.pciStates) after a
// reload or in another session. A state over PCI_STATE_MAX bytes is not kept (the PCI then
// starts from its response); a recording PCI's state is kept with a mark in place of its
// recording (stateWithoutFile below), since a recording is never written out in clear.
const pciStates = new Map();
const PCI_STATE_MAX = 64 * 1024;
const utf8Length = (s) => new TextEncoder().encode(s).length;
// The file a PCI bound to a file response (an audio recording) gave, in the JSON binding,
// kept in memory while the page is open (never written out: a draft drops it) so that coming
// back to the item hands the PCI its recording again; the server keeps only a sealed copy it
// cannot give back. A key absent: the PCI has not spoken of its file since the page opened.
const pciFiles = new Map();

// The file of a binding ({"base": {"file": {...}}}), or null.
function bindingFile(v) {
  return v && v.base && typeof v.base === 'object' && v.base.file && typeof v.base.file === 'object' ? v.base.file : null;
}

// A recording PCI's state often holds its recording again (TAO's: {response, recordsAttempts}):
// the state kept stands for it with a mark, so that a state stays small (a device keeps a PCI's
// state, sealed to the test taker, up to 64 KiB) and the recording lives only as the response
// (sealed to central's results key). Given back, the mark is the file the page holds, or,
// when it holds none (after a reload), the state's file becomes no file.
const FILE_MARK = '@outpost:recording@';
function stateWithoutFile(state, file) {
  return file && typeof file.data === 'string' && file.data.length > 64 ? state.split(file.data).join(FILE_MARK) : state;
}
function stateWithFile(state, file) {
  if (typeof state !== 'string' || !state.includes(FILE_MARK)) return state;
  if (file && typeof file.data === 'string') return state.split(FILE_MARK).join(file.data);
  let o;
  try { o = JSON.parse(state); } catch (e) { return null; }
  const walk = (x, depth) => {
    if (!x || typeof x !== 'object' || depth > 16) return;
    for (const k of Object.keys(x)) {
      const v = x[k];
      if (v && typeof v === 'object' && v.file && v.file.data === FILE_MARK) x[k] = null;
      else walk(v, depth + 1);
    }
  };
  walk(o, 0);
  return JSON.stringify(o);
}

// The microphone of a PCI bound to a file response, held by this page (a sandboxed frame
// cannot open it: web/pci-frame.js): opened when the frame asks, its sound handed to the
// frame as samples, closed when the frame has stopped its tracks or the item is left. Never
// the camera. The candidate sees outside the frame when it is on, and why it cannot be.
function pciMicrophone(env, frame, status, problem) {
  let stream = null, ac = null, opening = false;
  // the frame wants the sound (it asked and has not stopped since): a microphone that opens
  // after the frame stopped, or after it was left, is closed at once
  let wanted = false;
  const send = (m) => { if (frame.contentWindow) frame.contentWindow.postMessage(Object.assign({ pci: 1 }, m), '*'); };
  const say = (text) => { problem.hidden = false; problem.textContent = text; };
  function close() {
    wanted = false;
    if (stream) for (const t of stream.getTracks()) t.stop();
    if (ac) ac.close().catch(() => {});
    stream = null;
    ac = null;
    status.textContent = '';
  }
  async function open() {
    wanted = true;
    if (stream || opening) { if (ac) send({ type: 'microphone', state: 'ready', rate: ac.sampleRate }); return; }
    if (env.opts.readOnly) { send({ type: 'microphone', state: 'refused', name: 'NotAllowedError', message: env.t('qti.micReview') }); return; }
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say(env.t('qti.micInsecure'));
      send({ type: 'microphone', state: 'refused', name: 'NotSupportedError', message: env.t('qti.micInsecure') });
      return;
    }
    opening = true;
    try {
      const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      opening = false;
      if (!frame.isConnected || !wanted) { for (const t of s.getTracks()) t.stop(); return; }
      stream = s;
      ac = new AudioContext();
      const src = ac.createMediaStreamSource(s);
      const proc = ac.createScriptProcessor(4096, 1, 1);
      proc.onaudioprocess = (ev) => {
        if (!frame.isConnected) { close(); return; }
        send({ type: 'audio', samples: new Float32Array(ev.inputBuffer.getChannelData(0)) });
      };
      src.connect(proc);
      proc.connect(ac.destination); // silent: the processor writes nothing to its output
      await ac.resume().catch(() => {});
      problem.hidden = true;
      status.textContent = env.t('qti.micOn');
      send({ type: 'microphone', state: 'ready', rate: ac.sampleRate });
    } catch (e) {
      opening = false;
      const name = e && e.name ? e.name : 'NotAllowedError';
      const text = env.t(name === 'NotFoundError' ? 'qti.micNone' : name === 'NotAllowedError' || name === 'SecurityError' ? 'qti.micDenied' : 'qti.micFailed', { message: (e && e.message) || name });
      say(text);
      send({ type: 'microphone', state: 'refused', name, message: text });
    }
  }
  return { open, close };
}

// The heartbeat of a PCI's frame. A PCI's code may loop for ever (at load, in a click
// handler) or allocate without end: Chromium runs a sandboxed frame in a process of its own
// (IsolateSandboxedIframes, with site isolation, as Chrome and Debian's chromium do by
// default), so the page keeps running, but the frame, and every PCI frame of the page (they
// share that process), is frozen or gone (docs/qti.md, "When a PCI stops responding").
// The page pings each frame every second; a frame that leaves PCI_SILENT_MS of pings
// unanswered (PCI_START_MS before it has said 'ready': its modules run before) is given up:
// onStuck() removes it, which also ends its process. The pings counted are only those the
// page itself sent on time, while it was shown: a hidden tab's throttled timers, or a machine
// waking from sleep, do not make a frame look frozen.
const PCI_PING_MS = 1000;
const PCI_SILENT_MS = 5000;
const PCI_START_MS = 15000;
// The PCIs given up since the page opened (by pciKey/response): shown as the message at
// once when the candidate comes back to the item; a reload of the page tries them again.
const pciStuck = new Set();

// A browser that keeps a sandboxed frame in the page's own process (no site isolation)
// freezes the whole page with a looping PCI: nothing of the page runs then, the candidate
// can only reload it or open the test again, which would start the PCI and freeze again.
// So each PCI frame is written down in localStorage while it runs ("outpost-pci-running:"
// key -> "PAGE-ID TIME N"), and rubbed out when it leaves the page, is given up, or the page
// is left ('pagehide'). A mark that another page life left names a PCI that was running
// when its page ended without 'pagehide': frozen (or the browser crashed): it is given up
// at once, shown as the message; its mark is rubbed out, so a further reload tries it again.
const PCI_RUNNING = 'outpost-pci-running:';
const pciPage = `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;
const pciRunning = new Map(); // key -> the mark of the frame that runs it now
let pciFrames = 0;
// writes `key` down for a new frame; the mark it returns rubs it out (pciUnmark), unless a
// later frame of the same key took it over
function pciMarkRunning(key) {
  const mark = `${pciPage} ${Date.now()} ${++pciFrames}`;
  try { localStorage.setItem(PCI_RUNNING + key, mark); } catch (e) { /* no storage: the heartbeat alone */ }
  pciRunning.set(key, mark);
  return mark;
}
function pciUnmark(key, mark) {
  if (mark && pciRunning.get(key) !== mark) return;
  pciRunning.delete(key);
  try { localStorage.removeItem(PCI_RUNNING + key); } catch (e) { /* none */ }
}
// true when another page life left `key` running
function pciLeftRunning(key) {
  try {
    const v = localStorage.getItem(PCI_RUNNING + key);
    return v !== null && v.split(' ')[0] !== pciPage;
  } catch (e) { return false; }
}
if (typeof window !== 'undefined') {
  window.addEventListener('pagehide', () => {
    for (const k of pciRunning.keys()) { try { localStorage.removeItem(PCI_RUNNING + k); } catch (e) { /* none */ } }
  });
  // back from the back/forward cache: its frames run again
  window.addEventListener('pageshow', (ev) => {
    if (ev.persisted) for (const [k, m] of pciRunning) { try { localStorage.setItem(PCI_RUNNING + k, m); } catch (e) { /* none */ } }
  });
  // marks of a day ago or more are of tests long over
  try {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const k = localStorage.key(i);
      if (k && k.startsWith(PCI_RUNNING) && !(Date.now() - Number((localStorage.getItem(k) || '').split(' ')[1]) < 86400000)) localStorage.removeItem(k);
    }
  } catch (e) { /* no storage */ }
}

function pciHeartbeat(frame, onStuck, onGone) {
  let n = 0;
  let ready = false;
  let waiting = []; // [number, sent at] of the pings not answered yet
  let last = performance.now();
  const timer = setInterval(() => {
    if (!frame.isConnected) { clearInterval(timer); onGone(); return; }
    const now = performance.now();
    // a tick far too late (a hidden tab, a machine asleep, a page that was busy): the pings
    // before it prove nothing
    if (document.hidden || now - last > 3 * PCI_PING_MS) waiting = [];
    last = now;
    if (document.hidden) return;
    const limit = ready ? PCI_SILENT_MS : PCI_START_MS;
    if (waiting.length >= limit / PCI_PING_MS && now - waiting[0][1] >= limit) {
      clearInterval(timer);
      onStuck();
      return;
    }
    n++;
    waiting.push([n, now]);
    if (frame.contentWindow) frame.contentWindow.postMessage({ pci: 1, type: 'ping', n }, '*');
  }, PCI_PING_MS);
  return {
    // a pong answers its ping and every one before it
    pong(k) { ready = true; waiting = waiting.filter((w) => w[0] > k); },
    ready() { ready = true; waiting = []; },
    stop() { clearInterval(timer); },
  };
}

// customInteraction: the PCI runs in a sandboxed frame (no allow-same-origin: its own opaque
// origin, no cookie, no storage, no access to this page) whose document the server builds
// with its own CSP (src/app/pci_frame.c); the two speak only through postMessage (the
// protocol of web/pci-frame.js), and a message counts only when it comes from that frame.
function customInteraction(it, env, ctx) {
  const p = it.pci || {};
  const mods = p.modules || [];
  const entry = mods.length ? mods[mods.length - 1].path : null;
  const d = env.decl(it.responseIdentifier);
  const g = group(it, env, ctx, env.t('qti.custom'));
  const key = `${env.opts.pciKey || ''}/${it.responseIdentifier}`;
  // a PCI bound to a file response (an audio recording): its file is checked and sealed by the
  // server like an upload's, which shows back only {name, type, size, sha256}; that form, sent
  // back as it is, keeps the file the item holds (see upload and drawing below)
  const fileBound = !!d && d.baseType === 'file';
  const saved = env.saved[it.responseIdentifier];
  const kept = fileBound && saved && typeof saved === 'object' && saved.sha256 ? saved : null;
  let value = fileBound ? (pciFiles.has(key) ? pciFiles.get(key) : kept) : toBinding(saved, d);
  const given = env.opts.pciStates && typeof env.opts.pciStates[it.responseIdentifier] === 'string' ? env.opts.pciStates[it.responseIdentifier] : null;
  let pciState = pciStates.has(key) ? pciStates.get(key) : given;
  // the state the device keeps: null when there is none or it is over the limit
  const state = () => (pciState === null || utf8Length(pciState) > PCI_STATE_MAX ? null : pciState);
  const problem = h('p', { class: 'qti-pci-error', role: 'alert', hidden: true });
  const stateNote = h('p', { class: 'qti-pci-note', role: 'status', hidden: true });
  const fileStatus = fileBound ? h('p', { class: 'qti-upload-status', role: 'status', 'aria-live': 'polite' }) : null;
  const micStatus = fileBound ? h('p', { class: 'qti-pci-mic', role: 'status', 'aria-live': 'polite' }) : null;
  const drawFile = () => {
    if (!fileStatus) return;
    const f = bindingFile(value);
    if (f) fileStatus.textContent = env.t('qti.recordingGiven', { name: f.name || '', size: sizeText(env, Math.floor(((f.data || '').length * 3) / 4)) });
    else if (value && value.sha256) fileStatus.textContent = env.t('qti.recordingKept', { name: value.name || '', size: sizeText(env, value.size || 0) });
    else fileStatus.textContent = env.t('qti.recordingNone');
  };
  if (!entry || !env.opts.pciUrl) {
    problem.hidden = false;
    problem.textContent = env.t('qti.pciFailed', { message: 'no frame' });
    g.append(problem);
    return { node: g, ctl: { value: () => value } };
  }
  // the message in the place of a PCI given up: it says whether an answer of it is kept
  const stuckText = () => {
    const none = value === null || value === undefined || (typeof value === 'object' && 'base' in value && value.base === null);
    return h('p', { class: 'qti-pci-stuck', role: 'alert' }, env.t(none ? 'qti.pciStuckNone' : 'qti.pciStuck'));
  };
  if (!env.opts.readOnly && pciLeftRunning(key)) { pciStuck.add(key); pciUnmark(key); }
  if (pciStuck.has(key)) {
    // given up earlier on this page: its last response stays, the candidate moves on
    g.append(stuckText());
    if (fileBound) { g.append(fileStatus); drawFile(); }
    return { node: g, ctl: { value: () => value, state } };
  }
  const frame = h('iframe', {
    class: 'qti-pci-frame',
    sandbox: 'allow-scripts',
    referrerpolicy: 'no-referrer',
    title: env.t('qti.customTitle', { type: p.typeIdentifier || '' }),
    src: env.opts.pciUrl(entry),
  });
  const mic = fileBound ? pciMicrophone(env, frame, micStatus, problem) : null;
  if (fileBound && !env.opts.readOnly && (!window.isSecureContext || !navigator.mediaDevices)) {
    // said at once, not only when the PCI tries: no recording can be made on this page
    problem.hidden = false;
    problem.textContent = env.t('qti.micInsecure');
  }
  const onMessage = (ev) => {
    if (!frame.isConnected) { window.removeEventListener('message', onMessage); if (mic) mic.close(); beat.stop(); if (mark) pciUnmark(key, mark); return; }
    if (ev.source !== frame.contentWindow || ev.origin !== 'null') return;
    const m = pciMessage(ev.data, fileBound);
    if (!m) return;
    if (m.type === 'pong') { beat.pong(m.n); return; }
    if (m.type === 'ready') {
      beat.ready();
      // the package's images the markup names, handed over as blobs (the frame fetches nothing)
      const assets = {};
      const wanted = [...new Set([...(p.markup || '').matchAll(/\bsrc="([^"]+)"/g)].map((x) => x[1]))];
      Promise.all(wanted.map((path) => {
        const u = env.assetUrl(path);
        return u ? fetch(u, { credentials: 'same-origin' }).then((r) => (r.ok ? r.blob() : null)).then((b) => { if (b) assets[path] = b; }).catch(() => {}) : null;
      })).then(() => {
        frame.contentWindow.postMessage({
          pci: 1, type: 'init',
          responseIdentifier: it.responseIdentifier,
          typeIdentifier: p.typeIdentifier,
          properties: p.properties || {},
          markup: p.markup || '',
          // a kept file the server cannot give back is not handed to the PCI
          boundTo: fileBound ? (bindingFile(value) ? value : null) : value,
          state: fileBound ? stateWithFile(pciState, bindingFile(value)) : pciState,
          readOnly: !!env.opts.readOnly,
          microphone: fileBound && !env.opts.readOnly,
          assets,
        }, '*');
      });
    } else if (m.type === 'response') {
      if (env.opts.readOnly) return;
      let next = m.response;
      if (fileBound) {
        // no file yet, from a PCI that has not given one since the page opened: the file the
        // item holds stays (after a reload the PCI starts empty); once it gave one, no file
        // is the candidate's choice
        if (bindingFile(next)) pciFiles.set(key, next);
        else if (pciFiles.has(key) && bindingFile(pciFiles.get(key))) { pciFiles.set(key, null); next = null; }
        else next = pciFiles.has(key) ? null : kept;
      }
      const changed = JSON.stringify(next) !== JSON.stringify(value);
      value = next;
      // a recording PCI's state is kept with a mark in place of its recording (above)
      const st = typeof m.state === 'string' && fileBound ? stateWithoutFile(m.state, bindingFile(m.response)) : m.state;
      if (typeof st === 'string' && st !== pciState) {
        pciState = st;
        pciStates.set(key, st);
        const big = utf8Length(st) > PCI_STATE_MAX;
        stateNote.hidden = !big;
        stateNote.textContent = big ? env.t('qti.pciStateTooLarge', { size: sizeText(env, utf8Length(st)), max: sizeText(env, PCI_STATE_MAX) }) : '';
        env.stateChanged();
      }
      if (changed) { drawFile(); env.changed(); }
    } else if (m.type === 'microphone') {
      if (m.on) mic.open(); else mic.close();
    } else if (m.type === 'height') {
      frame.style.height = `${Math.max(80, Math.min(4000, m.height))}px`;
    } else if (m.type === 'error') {
      problem.hidden = false;
      problem.textContent = env.t('qti.pciFailed', { message: m.message });
    }
  };
  window.addEventListener('message', onMessage);
  // a frame that stops answering is replaced by the message; `value`, its last response,
  // stays the item's answer
  const mark = env.opts.readOnly ? null : pciMarkRunning(key);
  const beat = pciHeartbeat(frame, () => {
    pciStuck.add(key);
    if (mark) pciUnmark(key, mark);
    window.removeEventListener('message', onMessage);
    if (mic) mic.close();
    const had = g.contains(document.activeElement) || document.activeElement === frame;
    const msg = stuckText();
    frame.replaceWith(msg);
    problem.hidden = true;
    if (micStatus) micStatus.textContent = '';
    if (had) { msg.tabIndex = -1; msg.focus(); }
  }, () => {
    // the item was left: the microphone closes now, not at the next sound or message (a
    // context the browser keeps suspended, a PCI that started recording with no gesture,
    // processes no sound)
    if (mark) pciUnmark(key, mark);
    if (mic) mic.close();
  });
  g.append(frame, problem, stateNote);
  if (fileBound) { g.append(micStatus, fileStatus); drawFile(); }
  return { node: g, ctl: { value: () => value, state } };
}

// ------------------------------------------------- drag and drop (graphic interactions) --
//
// draggable(el, o): the mouse, a pen or a finger (pointer events) drags `el` once it moves
// DRAG_SLOP pixels with the button or finger down. A copy of o.face() follows the pointer (it
// is hidden while o.over(x, y) answers true: the interaction shows the object itself there);
// on release o.drop(x, y) gets the pointer's client coordinates (null, null when the browser
// cancels the drag), and the drop decides: on an area or the picture the object goes there,
// anywhere else it goes back. The click that ends a drag is swallowed, so a click or tap
// (which does not move) keeps choosing as before, and the keyboard is untouched.
const DRAG_SLOP = 6;
let dragEndedAt = -Infinity;
let swallowing = false;

function draggable(el, o) {
  let s = null;
  if (!swallowing) {
    // the click a drag ends with comes soon after, before any other press, and not from keys
    swallowing = true;
    document.addEventListener('pointerdown', () => { dragEndedAt = -Infinity; }, true);
    document.addEventListener('click', (e) => {
      if (e.detail > 0 && performance.now() - dragEndedAt < 500) { e.stopPropagation(); e.preventDefault(); }
    }, true);
  }
  el.classList.add('qti-draggable');
  el.addEventListener('dragstart', (e) => e.preventDefault()); // the browser's own image drag
  el.addEventListener('pointerdown', (e) => {
    if (!e.isPrimary || e.button !== 0 || (o.enabled && !o.enabled())) return;
    s = { id: e.pointerId, x: e.clientX, y: e.clientY, ghost: null };
    // the mouse is held at once (it may leave the button before it has moved far enough); a
    // finger is held by the browser already, and taking it would cost the tap its click
    if (e.pointerType === 'mouse') capture(e);
  });
  const capture = (e) => {
    try { el.setPointerCapture(e.pointerId); } catch (err) { /* the pointer is gone already */ }
  };
  el.addEventListener('pointermove', (e) => {
    if (!s || e.pointerId !== s.id) return;
    if (!s.ghost) {
      if (Math.hypot(e.clientX - s.x, e.clientY - s.y) < DRAG_SLOP) return;
      capture(e);
      s.ghost = h('div', { class: 'qti-drag-ghost', 'aria-hidden': 'true' }, o.face());
      document.body.append(s.ghost);
      if (o.start) o.start();
    }
    e.preventDefault();
    s.ghost.style.left = `${e.clientX}px`;
    s.ghost.style.top = `${e.clientY}px`;
    s.ghost.hidden = !!(o.over && o.over(e.clientX, e.clientY));
  });
  const end = (e, cancelled) => {
    if (!s || e.pointerId !== s.id) return;
    const { ghost } = s;
    s = null;
    if (!ghost) return; // no drag: the click that follows does its usual work
    ghost.remove();
    dragEndedAt = performance.now();
    if (o.over) o.over(null, null);
    if (cancelled) o.drop(null, null);
    else o.drop(e.clientX, e.clientY);
  };
  el.addEventListener('pointerup', (e) => end(e, false));
  el.addEventListener('pointercancel', (e) => end(e, true));
}

// The client point (x, y) in the picture's pixels ([x, y]), or null outside the picture.
function pictureAt(st, x, y) {
  if (x === null) return null;
  const r = st.layer.getBoundingClientRect();
  if (x < r.left || x > r.right || y < r.top || y > r.bottom) return null;
  const [w, hh] = st.size();
  const at = (v, lo, len, n) => Math.max(0, Math.min(Math.floor(((v - lo) / len) * n), n));
  return [at(x, r.left, r.width, w), at(y, r.top, r.height, hh)];
}

// The image of a gapImg (its object's data and size), or null for a gapText (QTI 2.2).
function gapImage(c) {
  if (c.object && c.object.data) return { data: c.object.data, width: Number(c.object.width) || 0, height: Number(c.object.height) || 0 };
  const o = parseFragment(c.html).querySelector('object');
  if (!o || !o.getAttribute('data')) return null;
  return { data: o.getAttribute('data'), width: Number(o.getAttribute('width')) || 0, height: Number(o.getAttribute('height')) || 0 };
}

// graphicGapMatch: images (gapImg) placed on areas (associableHotspot) of a picture. Mouse and
// touch: click or tap an image, then an area; or drag the image onto the area (dropped anywhere
// else, it goes back to the images). Keyboard: Enter or Space on an image picks it
// and moves to the areas; the arrow keys move among the areas, Enter or Space places it there,
// Escape goes back to the images. Each placement is listed with a remove button.
function graphicGapMatch(it, env, ctx) {
  const d = env.decl(it.responseIdentifier);
  const g = group(it, env, ctx, env.t('qti.graphicGapMatch'));
  g.append(h('p', { class: 'qti-hint', text: env.t('qti.graphicGapMatchHint') }));
  const st = stage(it, env);
  const hidden = new Set((env.state.hiddenChoices && env.state.hiddenChoices[it.responseIdentifier]) || []);
  const imgs = orderedChoices(it, env).filter((c) => !c.matchSet);
  const spots = (it.choices || []).filter((c) => c.matchSet === 1 && !hidden.has(c.identifier));
  const label = new Map();
  imgs.forEach((c, i) => label.set(c.identifier, c.label || textOf(c.html) || env.t('qti.gapImgN', { n: i + 1 })));
  spots.forEach((c, i) => label.set(c.identifier, c.label || env.t('qti.area', { n: i + 1 })));
  const byId = new Map((it.choices || []).map((c) => [c.identifier, c]));
  const saved = env.saved[it.responseIdentifier];
  let pairs = (Array.isArray(saved) ? saved : saved ? [saved] : []).filter((p) => typeof p === 'string' && p.split(' ').length === 2);
  let picked = null;
  let current = 0; // the area that takes the focus (roving tabindex)
  const single = d.cardinality === 'single';
  const max = single ? 1 : it.maxAssociations > 0 ? it.maxAssociations : Infinity;
  const status = h('p', { class: 'qti-sr', role: 'status', 'aria-live': 'polite' });
  const uses = (id) => pairs.filter((p) => p.split(' ').includes(id)).length;
  const readOnly = !!env.opts.readOnly;

  const bank = h('ul', { class: 'qti-gap-bank qti-gap-imgs', 'aria-label': env.t('qti.gapImgs') });
  const buttons = new Map();
  for (const c of imgs) {
    const im = gapImage(c);
    const url = im && env.assetUrl(im.data);
    // the image itself (an SVG too, as an image), else the content (a gapText)
    const face = url ? h('img', { src: url, alt: '', width: im.width || null, height: im.height || null, draggable: 'false' }) : content(c.html, ctx);
    const b = h('button', { type: 'button', class: 'qti-gap-img', 'aria-pressed': 'false' }, face);
    b.dataset.identifier = c.identifier;
    // a click from the keyboard (detail 0) takes the focus on to the areas
    b.addEventListener('click', (e) => pick(c.identifier, e.detail === 0));
    draggable(b, {
      face: () => face.cloneNode(true),
      enabled: () => !readOnly,
      start() { picked = c.identifier; draw(); },
      over(x, y) {
        const at = spotAt(x, y);
        for (const s of shapes) s.classList.toggle('qti-drop', s.dataset.identifier === at);
        return false;
      },
      drop(x, y) {
        const at = spotAt(x, y);
        picked = null;
        if (at) put(c.identifier, at);
        else status.textContent = env.t('qti.gapImgBack', { label: label.get(c.identifier) });
        draw();
      },
    });
    buttons.set(c.identifier, b);
    bank.append(h('li', {}, b));
  }

  const shapes = [];
  const placed = svg('g', { class: 'qti-placed', 'aria-hidden': 'true' });
  spots.forEach((c, i) => {
    const s = shapeNode(c, st.size);
    s.classList.add('qti-shape');
    s.setAttribute('tabindex', i === 0 ? '0' : '-1');
    s.setAttribute('role', 'button');
    s.dataset.identifier = c.identifier;
    s.addEventListener('click', () => { current = i; place(c.identifier); });
    s.addEventListener('focus', () => { current = i; roving(); });
    s.addEventListener('keydown', (e) => {
      const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
      if (step) {
        e.preventDefault();
        current = (current + step + shapes.length) % shapes.length;
        roving();
        shapes[current].focus();
      } else if (e.key === 'Home' || e.key === 'End') {
        e.preventDefault();
        current = e.key === 'Home' ? 0 : shapes.length - 1;
        roving();
        shapes[current].focus();
      } else if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        place(c.identifier);
      } else if (e.key === 'Escape' && picked) {
        e.preventDefault();
        const b = buttons.get(picked);
        picked = null;
        status.textContent = env.t('qti.pickCancelled');
        draw();
        if (b) b.focus();
      }
    });
    shapes.push(s);
    st.layer.append(s);
  });
  st.layer.append(placed);
  st.layer.setAttribute('role', 'group');
  st.layer.setAttribute('aria-label', env.t('qti.graphicGapMatchAreas'));
  const roving = () => shapes.forEach((s, i) => s.setAttribute('tabindex', i === current ? '0' : '-1'));
  // the area under the client point (x, y) (the topmost, as a click would find it), or null
  const spotAt = (x, y) => {
    if (x === null) return null;
    const s = document.elementsFromPoint(x, y).find((n) => shapes.includes(n));
    return s ? s.dataset.identifier : null;
  };

  function pick(id, byKeyboard) {
    if (readOnly) return;
    if (picked === id) {
      picked = null;
      status.textContent = env.t('qti.pickCancelled');
      draw();
      return;
    }
    picked = id;
    status.textContent = env.t('qti.gapImgPicked', { label: label.get(id) });
    draw();
    if (byKeyboard && shapes.length) shapes[current].focus();
  }

  function place(spot) {
    if (readOnly) return;
    if (!picked) { status.textContent = env.t('qti.pickFirst'); return; }
    put(picked, spot);
  }

  // Places the image `img` on the area `spot`, or says why it cannot go there.
  function put(img, spot) {
    const p = `${img} ${spot}`;
    const ci = byId.get(img), cs = byId.get(spot);
    if (pairs.includes(p)) { status.textContent = env.t('qti.placedAlready', { img: label.get(img), area: label.get(spot) }); return; }
    // an area or an image that takes one placement only: the new one replaces the old
    let next = pairs;
    if (cs.matchMax === 1) next = next.filter((q) => q.split(' ')[1] !== spot);
    if (ci.matchMax === 1) next = next.filter((q) => q.split(' ')[0] !== img);
    if (single) next = [];
    const used = (id, k) => next.filter((q) => q.split(' ')[k] === id).length;
    if (cs.matchMax > 0 && used(spot, 1) >= cs.matchMax) { status.textContent = env.t('qti.areaFull', { area: label.get(spot) }); return; }
    if (ci.matchMax > 0 && used(img, 0) >= ci.matchMax) { status.textContent = env.t('qti.pairFull', { label: label.get(img) }); return; }
    if (next.length >= max) { status.textContent = env.t('qti.maxAssociations', { n: max }); return; }
    pairs = next.concat([p]);
    picked = null;
    status.textContent = env.t('qti.gapImgPlaced', { img: label.get(img), area: label.get(spot) });
    draw();
    env.changed();
  }

  const list = h('ul', { class: 'qti-pairs', 'aria-label': env.t('qti.placements') });
  function draw() {
    for (const [id, b] of buttons) {
      b.setAttribute('aria-pressed', picked === id ? 'true' : 'false');
      const n = uses(id);
      b.setAttribute('aria-label', n ? env.t('qti.gapImgUsed', { label: label.get(id), n }) : label.get(id));
      b.classList.toggle('qti-used', n > 0);
    }
    shapes.forEach((s) => {
      const id = s.dataset.identifier;
      const held = pairs.filter((p) => p.split(' ')[1] === id).map((p) => label.get(p.split(' ')[0]));
      s.classList.toggle('qti-on', held.length > 0);
      s.classList.toggle('qti-pending', !!picked);
      s.setAttribute('aria-label', held.length ? env.t('qti.areaHolds', { area: label.get(id), imgs: held.join(', ') }) : label.get(id));
    });
    placed.replaceChildren();
    const onSpot = new Map();
    for (const p of pairs) {
      const [img, spot] = p.split(' ');
      const cs = byId.get(spot), ci = byId.get(img);
      if (!cs || !ci) continue;
      const k = onSpot.get(spot) || 0;
      onSpot.set(spot, k + 1);
      let [x, y] = center(cs);
      if (cs.shape === 'default' || !cs.shape) { const [w, hh] = st.size(); x = w / 2; y = hh / 2; }
      x += k * 8; y += k * 8;
      const im = gapImage(ci);
      const url = im && env.assetUrl(im.data);
      if (url) {
        const w = im.width || 40, hh = im.height || 40;
        placed.append(svg('image', { href: url, x: x - w / 2, y: y - hh / 2, width: w, height: hh, class: 'qti-placed-img' }));
      } else {
        const tx = svg('text', { x, y, class: 'qti-mark', 'text-anchor': 'middle', 'dominant-baseline': 'central' });
        tx.textContent = label.get(img);
        placed.append(tx);
      }
    }
    list.replaceChildren();
    for (const p of pairs) {
      const [img, spot] = p.split(' ');
      const text = env.t('qti.gapImgOn', { img: label.get(img) || img, area: label.get(spot) || spot });
      const rm = h('button', { type: 'button', class: 'qti-remove', 'aria-label': env.t('qti.removePlacement', { placement: text }), text: '×' });
      rm.addEventListener('click', () => {
        if (readOnly) return;
        pairs = pairs.filter((q) => q !== p);
        status.textContent = env.t('qti.placementRemoved', { placement: text });
        draw();
        env.changed();
        const b = buttons.get(img);
        if (b) b.focus();
      });
      list.append(h('li', {}, h('span', { text }), rm));
    }
  }
  g.append(bank, st.wrap);
  const clear = h('button', { type: 'button', class: 'qti-clear', text: env.t('qti.clear') });
  clear.addEventListener('click', () => { if (readOnly) return; pairs = []; picked = null; draw(); env.changed(); });
  g.append(list, clear, status);
  draw();
  return { node: g, ctl: { value: () => (single ? pairs[0] || null : pairs.slice()) } };
}

// positionObjectStage: the picture of the stage, and for each of its positionObjectInteractions
// a button that picks its object (the image to place) and the list of where it is placed.
// Mouse and touch: pick an object (the first is picked at the start), then click or tap the
// picture: the object's centerPoint (its middle by default) goes there; or drag the object's
// button onto the picture (dropped outside it, nothing is placed). Keyboard: Enter or
// Space on an object's button picks it and moves to the picture; the arrow keys move a cursor
// (Shift: by 10 pixels), Enter or Space places the object, Delete removes its last placement,
// Escape goes back to its button. Returns {node, ctls: Map(responseIdentifier -> controller)}.
function positionStage(its, env, ctx) {
  const t = env.t;
  const readOnly = !!env.opts.readOnly;
  const box = h('div', { class: 'qti-position-stage', role: 'group', 'aria-label': t('qti.positionStage') });
  const st = stage({ object: its[0].stage || its[0].object || {} }, env);
  const status = h('p', { class: 'qti-sr', role: 'status', 'aria-live': 'polite' });
  const marks = svg('g', { class: 'qti-placed', 'aria-hidden': 'true' });
  const ghost = svg('g', { class: 'qti-position-ghost', 'aria-hidden': 'true' });
  const cursor = svg('g', { class: 'qti-cursor', 'aria-hidden': 'true' });
  st.layer.append(marks, ghost, cursor);
  st.layer.setAttribute('tabindex', '0');
  st.layer.setAttribute('role', 'application');
  const [w0, h0] = st.size();
  let cur = [Math.round(w0 / 2), Math.round(h0 / 2)];
  let focused = false;
  const tools = h('div', { class: 'qti-position-tools' });
  const ctls = new Map();
  const entries = its.map((it, i) => {
    const d = env.decl(it.responseIdentifier);
    const o = it.object || {};
    const url = o.data ? env.assetUrl(o.data) : null;
    const e = {
      it,
      url,
      label: (o.label || '').trim() || t('qti.positionObjectN', { n: i + 1 }),
      single: d.cardinality === 'single',
      size: [Number(o.width) || 0, Number(o.height) || 0],
      points: [],
    };
    e.max = e.single ? 1 : it.maxChoices > 0 ? it.maxChoices : Infinity;
    const saved = env.saved[it.responseIdentifier];
    e.points = (e.single ? (saved ? [saved] : []) : Array.isArray(saved) ? saved : [])
      .map((p) => String(p).split(' ').map(Number)).filter((p) => p.length === 2 && p.every(Number.isFinite));
    e.center = () => (Array.isArray(it.centerPoint) ? it.centerPoint.map(Number) : [e.size[0] / 2, e.size[1] / 2]);
    if (url && (!e.size[0] || !e.size[1])) {
      // its size is the image's own when the object does not give it
      const probe = new Image();
      probe.addEventListener('load', () => {
        e.size = [e.size[0] || probe.naturalWidth, e.size[1] || probe.naturalHeight];
        draw();
      });
      probe.src = url;
      if (!e.size[0]) e.size[0] = 32;
      if (!e.size[1]) e.size[1] = 32;
    }
    return e;
  });
  let active = entries[0];

  for (const e of entries) {
    const node = h('div', { class: 'qti-interaction qti-positionObjectInteraction' });
    node.dataset.responseIdentifier = e.it.responseIdentifier;
    e.button = h('button', { type: 'button', class: 'qti-position-pick', 'aria-pressed': 'false' },
      e.url ? h('img', { src: e.url, alt: '', draggable: 'false' }) : null, h('span', { class: 'qti-position-pick-text' }));
    e.button.addEventListener('click', (ev) => {
      if (readOnly) return;
      active = e;
      status.textContent = t('qti.positionPicked', { label: e.label });
      draw();
      if (ev.detail === 0) st.layer.focus();
    });
    draggable(e.button, {
      face: () => (e.url ? h('img', { src: e.url, alt: '', draggable: 'false' }) : h('span', { class: 'qti-drag-dot' })),
      enabled: () => !readOnly,
      start() { active = e; draw(); },
      // over the picture, the object itself shows where it would go
      over(x, y) {
        const p = pictureAt(st, x, y);
        ghost.replaceChildren();
        if (p) ghost.append(objectAt(e, p[0], p[1], 'qti-ghost-img'));
        return !!p;
      },
      drop(x, y) {
        const p = pictureAt(st, x, y);
        if (p) place(p[0], p[1]);
        else { status.textContent = t('qti.positionBack', { label: e.label }); draw(); }
      },
    });
    e.hint = h('p', { class: 'qti-hint' });
    e.list = h('ul', { class: 'qti-pairs', 'aria-label': t('qti.positionsOf', { label: e.label }) });
    node.append(e.button, e.hint, e.list);
    tools.append(node);
    ctls.set(e.it.responseIdentifier, {
      value() {
        const v = e.points.map(([x, y]) => `${x} ${y}`);
        return e.single ? v[0] || null : v;
      },
    });
  }

  function place(x, y) {
    if (readOnly || !active) return;
    const e = active;
    const p = [Math.round(x), Math.round(y)];
    if (e.max === 1) e.points = [p];
    else if (e.points.length >= e.max) { status.textContent = t('qti.positionMax', { label: e.label, n: e.max }); return; }
    else e.points.push(p);
    status.textContent = t('qti.positionPlaced', { label: e.label, x: p[0], y: p[1] });
    draw();
    env.changed();
  }
  function remove(e, k) {
    if (readOnly) return;
    const [p] = e.points.splice(k, 1);
    if (p) status.textContent = t('qti.positionRemoved', { label: e.label, x: p[0], y: p[1] });
    draw();
    env.changed();
  }

  function objectAt(e, x, y, cls) {
    const [w, hh] = e.size;
    const [cx, cy] = e.center();
    if (e.url) return svg('image', { href: e.url, x: x - cx, y: y - cy, width: w, height: hh, class: cls });
    return svg('circle', { cx: x, cy: y, r: 6, class: 'qti-point' });
  }

  function draw() {
    marks.replaceChildren();
    for (const e of entries) {
      for (const [x, y] of e.points) marks.append(objectAt(e, x, y, 'qti-placed-img'));
      const on = e === active;
      e.button.setAttribute('aria-pressed', on ? 'true' : 'false');
      e.button.querySelector('.qti-position-pick-text').textContent = t('qti.positionPick', { label: e.label });
      e.hint.textContent = e.max === Infinity ? t('qti.positionPlacedN', { n: e.points.length })
        : t('qti.positionPlacedOf', { n: e.points.length, max: e.max });
      e.list.replaceChildren();
      e.points.forEach(([x, y], k) => {
        const text = t('qti.positionAt', { label: e.label, x, y });
        const rm = h('button', { type: 'button', class: 'qti-remove', 'aria-label': t('qti.removePlacement', { placement: text }), text: '×' });
        rm.addEventListener('click', () => { remove(e, k); e.button.focus(); });
        e.list.append(h('li', {}, h('span', { text }), rm));
      });
    }
    ghost.replaceChildren();
    cursor.replaceChildren();
    if (focused) {
      const [x, y] = cur;
      if (active) ghost.append(objectAt(active, x, y, 'qti-ghost-img'));
      cursor.append(svg('line', { x1: x - 8, y1: y, x2: x + 8, y2: y }), svg('line', { x1: x, y1: y - 8, x2: x, y2: y + 8 }));
    }
    st.layer.setAttribute('aria-label', active ? t('qti.positionArea', { label: active.label }) : t('qti.positionStage'));
  }

  st.layer.addEventListener('click', (ev) => {
    // the pixel of the picture under the pointer
    const p = pictureAt(st, ev.clientX, ev.clientY);
    if (!p) return;
    cur = p;
    place(cur[0], cur[1]);
  });
  st.layer.addEventListener('focus', () => { focused = true; draw(); });
  st.layer.addEventListener('blur', () => { focused = false; draw(); });
  st.layer.addEventListener('keydown', (ev) => {
    const [w, hh] = st.size();
    const k = ev.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-k, 0], ArrowRight: [k, 0], ArrowUp: [0, -k], ArrowDown: [0, k] };
    if (moves[ev.key]) {
      ev.preventDefault();
      cur = [Math.min(Math.max(cur[0] + moves[ev.key][0], 0), w), Math.min(Math.max(cur[1] + moves[ev.key][1], 0), hh)];
      status.textContent = t('qti.cursorAt', { x: cur[0], y: cur[1] });
      draw();
    } else if (ev.key === ' ' || ev.key === 'Enter') {
      ev.preventDefault();
      place(cur[0], cur[1]);
    } else if ((ev.key === 'Delete' || ev.key === 'Backspace') && active && active.points.length) {
      ev.preventDefault();
      remove(active, active.points.length - 1);
    } else if (ev.key === 'Escape' && active) {
      ev.preventDefault();
      active.button.focus();
    }
  });
  box.append(tools, st.wrap, status);
  draw();
  return { node: box, ctls };
}

// associate: pairs chosen from two lists (a pair is unordered: "A B").
function pairsUi(it, env, ctx, left, right, directed) {
  const d = env.decl(it.responseIdentifier);
  const g = group(it, env, ctx, env.t('qti.associate'));
  let pairs = (env.saved[it.responseIdentifier] || []).slice();
  if (!Array.isArray(pairs)) pairs = [pairs];
  const label = new Map((it.choices || []).map((c) => [c.identifier, textOf(c.html)]));
  const a = h('select', { 'aria-label': env.t('qti.pairFirst') });
  const b = h('select', { 'aria-label': env.t('qti.pairSecond') });
  for (const s of [a, b]) s.append(h('option', { value: '', text: env.t('qti.select') }));
  for (const c of left) a.append(h('option', { value: c.identifier, text: label.get(c.identifier) }));
  for (const c of right) b.append(h('option', { value: c.identifier, text: label.get(c.identifier) }));
  const add = h('button', { type: 'button', text: env.t('qti.addPair') });
  const list = h('ul', { class: 'qti-pairs', 'aria-label': env.t('qti.pairs') });
  const status = h('p', { class: 'qti-sr', role: 'status', 'aria-live': 'polite' });
  const uses = (id) => pairs.filter((p) => p.split(' ').includes(id)).length;
  const draw = () => {
    list.replaceChildren();
    for (const p of pairs) {
      const [x, y] = p.split(' ');
      const text = env.t('qti.pairText', { a: label.get(x) || x, b: label.get(y) || y });
      const rm = h('button', { type: 'button', class: 'qti-remove', 'aria-label': env.t('qti.removePair', { pair: text }), text: '×' });
      rm.addEventListener('click', () => { pairs = pairs.filter((q) => q !== p); draw(); env.changed(); add.focus(); });
      list.append(h('li', {}, h('span', { text }), rm));
    }
    add.disabled = it.maxAssociations > 0 && pairs.length >= it.maxAssociations;
  };
  add.addEventListener('click', () => {
    const x = a.value, y = b.value;
    const choice = (id) => (it.choices || []).find((c) => c.identifier === id);
    if (!x || !y || x === y) { status.textContent = env.t('qti.pairInvalid'); return; }
    const p = `${x} ${y}`;
    if (pairs.includes(p) || (!directed && pairs.includes(`${y} ${x}`))) { status.textContent = env.t('qti.pairExists'); return; }
    for (const id of [x, y]) {
      const c = choice(id);
      if (c && c.matchMax > 0 && uses(id) >= c.matchMax) { status.textContent = env.t('qti.pairFull', { label: label.get(id) }); return; }
    }
    pairs.push(p);
    status.textContent = env.t('qti.pairAdded', { pair: env.t('qti.pairText', { a: label.get(x), b: label.get(y) }) });
    a.value = b.value = '';
    draw();
    env.changed();
  });
  g.append(h('div', { class: 'qti-pair-form' }, a, b, add), list, status);
  draw();
  return { node: g, ctl: { value: () => (d.cardinality === 'single' ? pairs[0] || null : pairs.slice()) } };
}

// The image of a graphic interaction with an SVG layer of the same coordinate space.
function stage(it, env) {
  const o = it.object || {};
  const w = Number(o.width) || 0, hgt = Number(o.height) || 0;
  const wrap = h('div', { class: 'qti-stage' });
  const img = h('img', { src: env.assetUrl(o.data), alt: '', class: 'qti-stage-img' });
  if (w) img.width = w;
  if (hgt) img.height = hgt;
  const layer = svg('svg', { class: 'qti-stage-layer', viewBox: `0 0 ${w || 100} ${hgt || 100}`, preserveAspectRatio: 'none' });
  if (!w || !hgt) {
    img.addEventListener('load', () => layer.setAttribute('viewBox', `0 0 ${img.naturalWidth} ${img.naturalHeight}`));
  }
  wrap.append(img, layer);
  return { wrap, img, layer, size: () => { const vb = layer.viewBox.baseVal; return [vb.width, vb.height]; } };
}

function shapeNode(c, size) {
  const k = (c.coords || []).map(Number);
  switch (c.shape) {
    case 'circle': return svg('circle', { cx: k[0], cy: k[1], r: k[2] });
    case 'rect': return svg('rect', { x: Math.min(k[0], k[2]), y: Math.min(k[1], k[3]), width: Math.abs(k[2] - k[0]), height: Math.abs(k[3] - k[1]) });
    case 'ellipse': return svg('ellipse', { cx: k[0], cy: k[1], rx: k[2], ry: k[3] });
    case 'poly': {
      const pts = [];
      for (let i = 0; i + 1 < k.length; i += 2) pts.push(`${k[i]},${k[i + 1]}`);
      return svg('polygon', { points: pts.join(' ') });
    }
    default: { const [w, hh] = size(); return svg('rect', { x: 0, y: 0, width: w, height: hh }); }
  }
}

function center(c) {
  const k = (c.coords || []).map(Number);
  if (c.shape === 'rect') return [(k[0] + k[2]) / 2, (k[1] + k[3]) / 2];
  if (c.shape === 'poly') {
    let x = 0, y = 0, n = 0;
    for (let i = 0; i + 1 < k.length; i += 2) { x += k[i]; y += k[i + 1]; n++; }
    return n ? [x / n, y / n] : [0, 0];
  }
  return [k[0] || 0, k[1] || 0];
}

// hotspot (select areas), order (areas in a sequence), associate (pairs of areas).
function graphic(it, env, ctx, mode) {
  const d = env.decl(it.responseIdentifier);
  const g = group(it, env, ctx, env.t(`qti.graphic.${mode}`));
  g.append(h('p', { class: 'qti-hint', text: env.t(`qti.graphicHint.${mode}`) }));
  const st = stage(it, env);
  const choices = (it.choices || []).filter((c) => !((env.state.hiddenChoices || {})[it.responseIdentifier] || []).includes(c.identifier));
  const label = new Map(choices.map((c, i) => [c.identifier, c.label || textOf(c.html) || env.t('qti.area', { n: i + 1 })]));
  const single = d.cardinality === 'single';
  const saved = env.saved[it.responseIdentifier];
  let selected = mode === 'hotspot' ? new Set(single ? (saved ? [saved] : []) : saved || []) : null;
  let seq = mode === 'order' ? (Array.isArray(saved) ? saved.slice() : []) : null;
  let pairs = mode === 'associate' ? (Array.isArray(saved) ? saved.slice() : saved ? [saved] : []) : null;
  let pending = null; // associate: first area chosen
  const status = h('p', { class: 'qti-sr', role: 'status', 'aria-live': 'polite' });
  const shapes = new Map();
  const lines = svg('g', { class: 'qti-lines' });
  const marks = svg('g', { class: 'qti-marks' });
  st.layer.append(lines);
  const max = mode === 'associate' ? it.maxAssociations : it.maxChoices;
  choices.forEach((c) => {
    const s = shapeNode(c, st.size);
    s.classList.add('qti-shape');
    s.setAttribute('tabindex', '0');
    s.setAttribute('role', mode === 'hotspot' ? (single ? 'radio' : 'checkbox') : 'button');
    s.setAttribute('aria-label', label.get(c.identifier));
    s.dataset.identifier = c.identifier;
    const act = () => activate(c.identifier);
    s.addEventListener('click', act);
    s.addEventListener('keydown', (e) => {
      if (e.key === ' ' || e.key === 'Enter') { e.preventDefault(); act(); }
    });
    shapes.set(c.identifier, s);
    st.layer.append(s);
  });
  st.layer.append(marks);
  if (mode === 'hotspot' && single) st.layer.setAttribute('role', 'radiogroup');
  st.layer.setAttribute('aria-label', env.t(`qti.graphic.${mode}`));

  function activate(id) {
    const name = label.get(id);
    if (mode === 'hotspot') {
      if (selected.has(id)) selected.delete(id);
      else {
        if (single) selected.clear();
        else if (max > 0 && selected.size >= max) { status.textContent = env.t('qti.maxChoices', { n: max }); return; }
        selected.add(id);
      }
      status.textContent = env.t(selected.has(id) ? 'qti.selected' : 'qti.unselected', { label: name });
    } else if (mode === 'order') {
      if (seq.includes(id)) seq = seq.filter((x) => x !== id);
      else if (!(max > 0 && seq.length >= max)) seq.push(id);
      status.textContent = seq.includes(id) ? env.t('qti.orderedAs', { label: name, n: seq.indexOf(id) + 1 }) : env.t('qti.unselected', { label: name });
    } else {
      if (pending === null) { pending = id; status.textContent = env.t('qti.pairStarted', { label: name }); }
      else if (pending === id) { pending = null; status.textContent = env.t('qti.pairCancelled'); }
      else {
        const p = `${pending} ${id}`, q = `${id} ${pending}`;
        const c1 = choices.find((c) => c.identifier === pending), c2 = choices.find((c) => c.identifier === id);
        const uses = (x) => pairs.filter((pp) => pp.split(' ').includes(x)).length;
        if (pairs.includes(p) || pairs.includes(q)) { pairs = pairs.filter((x) => x !== p && x !== q); status.textContent = env.t('qti.pairRemoved'); }
        else if (max > 0 && pairs.length >= max) status.textContent = env.t('qti.maxChoices', { n: max });
        else if ((c1.matchMax > 0 && uses(pending) >= c1.matchMax) || (c2.matchMax > 0 && uses(id) >= c2.matchMax)) status.textContent = env.t('qti.pairFull', { label: name });
        else { pairs.push(p); status.textContent = env.t('qti.pairAdded', { pair: env.t('qti.pairText', { a: label.get(pending), b: name }) }); }
        pending = null;
      }
    }
    draw();
    env.changed();
  }

  const list = h('ul', { class: 'qti-pairs', 'aria-label': env.t('qti.pairs') });
  function draw() {
    for (const [id, s] of shapes) {
      const on = mode === 'hotspot' ? selected.has(id) : mode === 'order' ? seq.includes(id) : pairs.some((p) => p.split(' ').includes(id));
      s.classList.toggle('qti-on', on);
      s.classList.toggle('qti-pending', pending === id);
      if (mode === 'hotspot') s.setAttribute('aria-checked', on ? 'true' : 'false');
      else if (mode === 'order') s.setAttribute('aria-label', on ? env.t('qti.areaOrdered', { label: label.get(id), n: seq.indexOf(id) + 1 }) : label.get(id));
      else s.setAttribute('aria-pressed', pending === id ? 'true' : 'false');
    }
    marks.replaceChildren();
    lines.replaceChildren();
    if (mode === 'order') {
      seq.forEach((id, i) => {
        const c = choices.find((x) => x.identifier === id);
        if (!c) return;
        const [x, y] = center(c);
        const tx = svg('text', { x, y, class: 'qti-mark', 'text-anchor': 'middle', 'dominant-baseline': 'central', 'aria-hidden': 'true' });
        tx.textContent = String(i + 1);
        marks.append(tx);
      });
    }
    if (mode === 'associate') {
      list.replaceChildren();
      for (const p of pairs) {
        const [x, y] = p.split(' ');
        const cx = choices.find((c) => c.identifier === x), cy = choices.find((c) => c.identifier === y);
        if (cx && cy) {
          const [x1, y1] = center(cx), [x2, y2] = center(cy);
          lines.append(svg('line', { x1, y1, x2, y2, class: 'qti-line' }));
        }
        const text = env.t('qti.pairText', { a: label.get(x), b: label.get(y) });
        const rm = h('button', { type: 'button', class: 'qti-remove', 'aria-label': env.t('qti.removePair', { pair: text }), text: '×' });
        rm.addEventListener('click', () => { pairs = pairs.filter((q) => q !== p); draw(); env.changed(); });
        list.append(h('li', {}, h('span', { text }), rm));
      }
    }
  }
  g.append(st.wrap);
  if (mode === 'order' || mode === 'associate') {
    const clear = h('button', { type: 'button', class: 'qti-clear', text: env.t('qti.clear') });
    clear.addEventListener('click', () => { if (seq) seq = []; if (pairs) pairs = []; pending = null; draw(); env.changed(); });
    g.append(clear);
  }
  if (mode === 'associate') g.append(list);
  g.append(status);
  draw();
  return {
    node: g,
    ctl: {
      value() {
        if (mode === 'hotspot') { const v = Array.from(selected); return single ? v[0] || null : v; }
        if (mode === 'order') return seq.length ? seq.slice() : null;
        return single ? pairs[0] || null : pairs.slice();
      },
    },
  };
}

// selectPoint: click or tap the image; keyboard: arrows move a cursor (Shift: by 10), Space or
// Enter marks the point, Delete removes the last one.
function selectPoint(it, env, ctx) {
  const d = env.decl(it.responseIdentifier);
  const g = group(it, env, ctx, env.t('qti.selectPoint'));
  g.append(h('p', { class: 'qti-hint', text: env.t('qti.selectPointHint') }));
  const st = stage(it, env);
  const single = d.cardinality === 'single';
  const saved = env.saved[it.responseIdentifier];
  let points = (single ? (saved ? [saved] : []) : saved || []).map((p) => String(p).split(' ').map(Number));
  const max = single ? 1 : it.maxChoices > 0 ? it.maxChoices : Infinity;
  const [w0, h0] = st.size();
  let cur = [Math.round(w0 / 2), Math.round(h0 / 2)];
  const status = h('p', { class: 'qti-sr', role: 'status', 'aria-live': 'polite' });
  const marks = svg('g', { class: 'qti-marks' });
  const cursor = svg('g', { class: 'qti-cursor' });
  st.layer.append(marks, cursor);
  st.layer.setAttribute('tabindex', '0');
  st.layer.setAttribute('role', 'application');
  st.layer.setAttribute('aria-label', env.t('qti.selectPointArea'));
  let focused = false;
  const draw = () => {
    marks.replaceChildren();
    for (const [x, y] of points) marks.append(svg('circle', { cx: x, cy: y, r: 4, class: 'qti-point' }));
    cursor.replaceChildren();
    if (focused) {
      const [x, y] = cur;
      cursor.append(svg('line', { x1: x - 8, y1: y, x2: x + 8, y2: y }), svg('line', { x1: x, y1: y - 8, x2: x, y2: y + 8 }));
    }
  };
  const mark = (x, y) => {
    if (single) points = [];
    else if (points.length >= max) points.shift();
    points.push([Math.round(x), Math.round(y)]);
    status.textContent = env.t('qti.pointSet', { x: Math.round(x), y: Math.round(y) });
    draw();
    env.changed();
  };
  st.layer.addEventListener('click', (e) => {
    const r = st.layer.getBoundingClientRect();
    const [w, hh] = st.size();
    mark(((e.clientX - r.left) / r.width) * w, ((e.clientY - r.top) / r.height) * hh);
  });
  st.layer.addEventListener('focus', () => { focused = true; draw(); });
  st.layer.addEventListener('blur', () => { focused = false; draw(); });
  st.layer.addEventListener('keydown', (e) => {
    const [w, hh] = st.size();
    const k = e.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-k, 0], ArrowRight: [k, 0], ArrowUp: [0, -k], ArrowDown: [0, k] };
    if (moves[e.key]) {
      e.preventDefault();
      cur = [Math.min(Math.max(cur[0] + moves[e.key][0], 0), w), Math.min(Math.max(cur[1] + moves[e.key][1], 0), hh)];
      status.textContent = env.t('qti.cursorAt', { x: cur[0], y: cur[1] });
      draw();
    } else if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      mark(cur[0], cur[1]);
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      points.pop();
      status.textContent = env.t('qti.pointRemoved');
      draw();
      env.changed();
    }
  });
  const clear = h('button', { type: 'button', class: 'qti-clear', text: env.t('qti.clear') });
  clear.addEventListener('click', () => { points = []; draw(); env.changed(); });
  g.append(st.wrap, clear, status);
  draw();
  return {
    node: g,
    ctl: {
      value() {
        const v = points.map(([x, y]) => `${x} ${y}`);
        return single ? v[0] || null : v;
      },
    },
  };
}

// ------------------------------------------------------------- upload and drawing --
//
// A file response is {"name", "type", "data": base64} when the candidate gives one here; the
// server checks it, seals it and shows back {"name", "type", "size", "sha256"} only (its
// content is never sent to the page again). That shown form, sent back as it is, stands for
// the file the item holds (src/app/upload.h).

function base64Of(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function sizeText(env, n) {
  if (n >= 1024 * 1024) return env.t('qti.sizeMB', { n: (n / (1024 * 1024)).toFixed(1) });
  if (n >= 1024) return env.t('qti.sizeKB', { n: Math.round(n / 1024) });
  return env.t('qti.sizeB', { n });
}

function uploadInteraction(it, env, ctx) {
  const g = group(it, env, ctx, env.t('qti.upload'));
  const id = nextId('upload');
  const saved = env.saved[it.responseIdentifier];
  let kept = saved && typeof saved === 'object' && saved.sha256 ? saved : null; // held by the server
  let picked = null; // {name, type, data} read from the chosen file
  // a file chosen before a reload and not sent: never written out, so it must be chosen again
  let lost = env.opts.lostFiles && env.opts.lostFiles[it.responseIdentifier];
  let reading = null;
  const input = h('input', { type: 'file', id, class: 'qti-upload-input' });
  if (it.types) input.setAttribute('accept', it.types.split(' ').join(','));
  const label = h('label', { for: id, class: 'qti-upload-label', text: env.t('qti.uploadChoose') });
  const hint = it.types ? h('p', { class: 'qti-hint', id: nextId('upload-hint'), text: env.t('qti.uploadTypes', { types: it.types }) }) : null;
  if (hint) input.setAttribute('aria-describedby', hint.id);
  const status = h('p', { class: 'qti-upload-status', role: 'status', 'aria-live': 'polite' });
  const remove = h('button', { type: 'button', class: 'qti-clear', text: env.t('qti.uploadRemove') });
  const draw = () => {
    const f = picked || kept;
    if (lost && !picked) {
      status.textContent = env.t(kept ? 'qti.uploadLostKept' : 'qti.uploadLost', { name: lost.name || '', kept: kept ? kept.name || '' : '' });
      status.classList.add('qti-lost');
    } else {
      status.textContent = f ? env.t(picked ? 'qti.uploadChosen' : 'qti.uploadKept', { name: f.name || '', size: sizeText(env, f.size || 0) })
        : env.t('qti.uploadNone');
      status.classList.remove('qti-lost');
    }
    remove.hidden = !f || !!env.opts.readOnly;
  };
  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    if (!file) return;
    reading = file.arrayBuffer().then((buf) => {
      picked = { name: file.name, type: file.type || '', size: file.size, data: base64Of(new Uint8Array(buf)) };
      reading = null;
      lost = null;
      draw();
      env.changed();
    }).catch(() => { reading = null; status.textContent = env.t('qti.uploadUnreadable'); });
  });
  remove.addEventListener('click', () => {
    picked = null;
    kept = null;
    lost = null;
    input.value = '';
    draw();
    env.changed();
    input.focus();
  });
  g.append(h('div', { class: 'qti-upload' }, label, input), hint, status, remove);
  draw();
  return {
    node: g,
    ctl: {
      value() {
        if (picked) return { name: picked.name, type: picked.type, data: picked.data };
        return kept ? { name: kept.name, type: kept.type, size: kept.size, sha256: kept.sha256 } : null;
      },
      pending: () => reading,
    },
  };
}

// drawingInteraction: a canvas over the object's image. Mouse, pen and touch draw through
// pointer events; the keyboard moves a pen cursor with the arrow keys (Shift: further), Space
// lowers or lifts the pen, and Undo/Clear buttons take strokes back. The response is the image
// with the drawing on it, as PNG.
function drawingInteraction(it, env, ctx) {
  const g = group(it, env, ctx, env.t('qti.drawing'));
  g.append(h('p', { class: 'qti-hint', text: env.t('qti.drawingHint') }));
  const o = it.object || {};
  const img = h('img', { src: env.assetUrl(o.data), alt: '', class: 'qti-stage-img' });
  const canvas = h('canvas', { class: 'qti-drawing-canvas' });
  const cursor = h('canvas', { class: 'qti-drawing-cursor', 'aria-hidden': 'true' });
  const area = h('div', {
    class: 'qti-stage qti-drawing-area', tabindex: env.opts.readOnly ? null : '0', role: 'application',
    'aria-label': env.t('qti.drawingArea'), 'aria-describedby': null,
  }, img, canvas, cursor);
  const status = h('p', { class: 'qti-sr', role: 'status', 'aria-live': 'polite' });
  const saved = env.saved[it.responseIdentifier];
  let kept = saved && typeof saved === 'object' && saved.sha256 ? saved : null;
  const keptNote = h('p', { class: 'qti-drawing-kept' });
  // a drawing made before a reload and not sent: never written out, so it must be made again
  let lost = !!(env.opts.lostFiles && env.opts.lostFiles[it.responseIdentifier]);
  const lostNote = h('p', { class: 'qti-drawing-lost qti-lost', role: 'status' });
  let w = Number(o.width) || 0, hh = Number(o.height) || 0;
  let strokes = []; // each an array of [x, y] in image pixels
  let cur = null; // the stroke under way
  let pen = [0, 0], penDown = false, focused = false;
  const setSize = (nw, nh) => {
    w = nw; hh = nh;
    for (const c of [canvas, cursor]) { c.width = w; c.height = hh; }
    if (Number(o.width)) img.width = w;
    if (Number(o.height)) img.height = hh;
    pen = [Math.round(w / 2), Math.round(hh / 2)];
    redraw();
  };
  const paint = (c2, list) => {
    c2.lineCap = 'round';
    c2.lineJoin = 'round';
    c2.lineWidth = 3;
    c2.strokeStyle = '#c00000';
    c2.fillStyle = '#c00000';
    for (const s of list) {
      if (s.length === 1) { c2.beginPath(); c2.arc(s[0][0], s[0][1], 1.5, 0, 2 * Math.PI); c2.fill(); continue; }
      c2.beginPath();
      c2.moveTo(s[0][0], s[0][1]);
      for (const p of s.slice(1)) c2.lineTo(p[0], p[1]);
      c2.stroke();
    }
  };
  function redraw() {
    const c2 = canvas.getContext('2d');
    c2.clearRect(0, 0, canvas.width, canvas.height);
    paint(c2, cur ? strokes.concat([cur]) : strokes);
    const k = cursor.getContext('2d');
    k.clearRect(0, 0, cursor.width, cursor.height);
    if (focused) {
      const [x, y] = pen;
      k.strokeStyle = penDown ? '#c00000' : '#004a99';
      k.lineWidth = 1.5;
      k.beginPath();
      k.moveTo(x - 9, y); k.lineTo(x + 9, y); k.moveTo(x, y - 9); k.lineTo(x, y + 9);
      k.stroke();
      k.beginPath(); k.arc(x, y, 5, 0, 2 * Math.PI); k.stroke();
    }
    keptNote.textContent = kept && !strokes.length ? env.t('qti.drawingKept', { size: sizeText(env, kept.size || 0) }) : '';
    if (strokes.length) lost = false;
    lostNote.hidden = !lost;
    lostNote.textContent = lost ? env.t(kept ? 'qti.drawingLostKept' : 'qti.drawingLost') : '';
    undo.disabled = !!env.opts.readOnly || !strokes.length;
    clear.disabled = !!env.opts.readOnly || (!strokes.length && !kept);
  }
  const toImage = (e) => {
    const r = canvas.getBoundingClientRect();
    return [Math.round(((e.clientX - r.left) / r.width) * w), Math.round(((e.clientY - r.top) / r.height) * hh)];
  };
  const finish = () => {
    if (!cur) return;
    strokes.push(cur);
    cur = null;
    redraw();
    env.changed();
  };
  if (!env.opts.readOnly) {
    canvas.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      cur = [toImage(e)];
      redraw();
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!cur) return;
      e.preventDefault();
      const p = toImage(e);
      const last = cur[cur.length - 1];
      if (p[0] !== last[0] || p[1] !== last[1]) { cur.push(p); redraw(); }
    });
    canvas.addEventListener('pointerup', finish);
    canvas.addEventListener('pointercancel', finish);
    area.addEventListener('focus', () => { focused = true; redraw(); });
    area.addEventListener('blur', () => { focused = false; if (penDown) { penDown = false; finish(); } redraw(); });
    area.addEventListener('keydown', (e) => {
      const k = e.shiftKey ? 20 : 5;
      const moves = { ArrowLeft: [-k, 0], ArrowRight: [k, 0], ArrowUp: [0, -k], ArrowDown: [0, k] };
      if (moves[e.key]) {
        e.preventDefault();
        pen = [Math.min(Math.max(pen[0] + moves[e.key][0], 0), w), Math.min(Math.max(pen[1] + moves[e.key][1], 0), hh)];
        if (penDown && cur) cur.push(pen.slice());
        status.textContent = env.t(penDown ? 'qti.penDrawing' : 'qti.penAt', { x: pen[0], y: pen[1] });
        redraw();
      } else if (e.key === ' ') {
        e.preventDefault();
        penDown = !penDown;
        if (penDown) cur = [pen.slice()];
        else finish();
        status.textContent = env.t(penDown ? 'qti.penDown' : 'qti.penUp', { x: pen[0], y: pen[1] });
        redraw();
      }
    });
  }
  const undo = h('button', { type: 'button', class: 'qti-clear', text: env.t('qti.drawingUndo') });
  const clear = h('button', { type: 'button', class: 'qti-clear', text: env.t('qti.drawingClear') });
  undo.addEventListener('click', () => { strokes.pop(); status.textContent = env.t('qti.drawingUndone'); redraw(); env.changed(); });
  clear.addEventListener('click', () => { strokes = []; cur = null; kept = null; lost = false; status.textContent = env.t('qti.drawingCleared'); redraw(); env.changed(); });
  g.append(area, h('div', { class: 'qti-drawing-tools' }, undo, clear), keptNote, lostNote, status);
  if (w && hh) setSize(w, hh);
  else img.addEventListener('load', () => setSize(img.naturalWidth, img.naturalHeight));
  if (!(w && hh)) redraw();
  return {
    node: g,
    ctl: {
      value() {
        if (!strokes.length) return kept ? { name: kept.name, type: kept.type, size: kept.size, sha256: kept.sha256 } : null;
        // the image with the drawing on it
        const out = document.createElement('canvas');
        out.width = w; out.height = hh;
        const c2 = out.getContext('2d');
        if (img.complete && img.naturalWidth) c2.drawImage(img, 0, 0, w, hh);
        paint(c2, strokes);
        const url = out.toDataURL('image/png');
        return { name: 'drawing.png', type: 'image/png', data: url.slice(url.indexOf(',') + 1) };
      },
    },
  };
}

RENDERERS.uploadInteraction = uploadInteraction;
RENDERERS.drawingInteraction = drawingInteraction;
