// take.js - the test taker's page: the deliveries they may sit, starting one, waiting for a
// proctor, the test one item at a time (web/qti.js) with a timer, and the end. The server
// holds the whole state: a reload asks it where the test is and carries on there.
import { loadStrings, t, api, requireSession, wireHeader, el, formatDuration, say, toLogin } from './lib.js';
import { renderItem } from './qti.js';

const POLL_WAIT_MS = 2000; // waiting for a proctor, paused
const POLL_ACTIVE_MS = 3000; // during the test: sees a pause or a termination, re-syncs time
const ENDED = ['finished', 'terminated', 'canceled'];

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let execId = params.get('execution');

const sections = ['list', 'waiting', 'paused', 'runner', 'done'];
function showOnly(id) {
  for (const s of sections) $(s).hidden = s !== id;
}

function showError(e) {
  if (e && e.status === 401) { toLogin(); return; }
  const msg = e && e.status === 0 ? t('error.network')
    : e && e.status === 403 ? t('error.forbidden')
      : t('error.generic', { message: (e && e.message) || String(e) });
  say('message', msg, 'error');
}

// ------------------------------------------------------------------------ deliveries --

async function showList() {
  showOnly('list');
  const data = await api('GET', '/api/v1/my/deliveries');
  const ul = $('deliveries');
  ul.replaceChildren();
  const list = (data && data.deliveries) || [];
  $('list-none').hidden = list.length > 0;
  for (const d of list) {
    const execs = d.executions || [];
    const open = execs.find((x) => !['finished', 'terminated', 'canceled'].includes(x.state));
    const used = execs.length;
    const card = el('li', { class: 'card' },
      el('h3', { text: d.label }),
      d.center_label ? el('p', { text: t('take.center', { center: d.center_label }) }) : null,
      d.proctored ? el('p', { text: t('take.proctored') }) : null,
      d.max_executions ? el('p', { text: t('take.used', { used, max: d.max_executions }) }) : null);
    if (open) {
      card.append(el('button', { type: 'button', class: 'primary', text: t('take.resume', { label: d.label }), onclick: () => go(open.id) }));
    } else if (!d.max_executions || used < d.max_executions) {
      const b = el('button', { type: 'button', class: 'primary', text: t('take.start', { label: d.label }) });
      b.addEventListener('click', async () => {
        b.disabled = true;
        try {
          const r = await api('POST', '/api/v1/executions', { delivery_id: d.delivery_id, center_id: d.center_id });
          go(r.execution.id);
        } catch (e) {
          b.disabled = false;
          showError(e);
        }
      });
      card.append(b);
    }
    ul.append(card);
  }
}

function go(id) {
  execId = String(id);
  history.pushState(null, '', `?execution=${encodeURIComponent(execId)}`);
  say('message', '');
  refresh().catch(showError);
}

window.addEventListener('popstate', () => {
  execId = new URLSearchParams(location.search).get('execution');
  stopPolling();
  (execId ? refresh() : showList()).catch(showError);
});

// --------------------------------------------------------------------------- runner --

let current = null; // {execution, view}
let rendered = null; // {key, ctl}
let pollTimer = null;
let dirty = false; // responses changed since the last submission
let stateDirty = false; // a PCI's state changed since it was last sent
let saving = null; // the promise of the save in flight
let busy = false; // a move or finish in flight
let beganAt = null; // the version at which begin was asked
// The server answers requests in parallel: a poll sent before a move can be answered after
// it, with the item the test taker just left. Every request whose answer the page shows takes
// a number when it is sent, and an answer older than the one shown is dropped (ask()).
let asked = 0;
let shown = 0;

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

// api() for a request whose answer shows the execution: the answer, or null when an answer
// to a request sent after this one is shown already.
async function ask(method, path, body) {
  const n = ++asked;
  const r = await api(method, path, body);
  if (n < shown) return null;
  shown = n;
  return r;
}

function schedulePoll(ms) {
  stopPolling();
  pollTimer = setTimeout(() => {
    pollTimer = null;
    // no poll while a move, a finish or a save is on its way: its answer comes first
    if (busy || saving) { schedulePoll(ms); return; }
    refresh({ background: true }).catch((e) => {
      showError(e);
      schedulePoll(ms);
    });
  }, ms);
}

async function refresh(opt) {
  const r = await ask('GET', `/api/v1/executions/${encodeURIComponent(execId)}`);
  if (r) apply(r, opt);
  // else a newer answer is shown: its apply() scheduled the next poll, unless it was a save's
  else if (opt && opt.background && pollTimer === null && current && !ENDED.includes(current.execution.state)) schedulePoll(POLL_ACTIVE_MS);
}

// Shows what the server says the execution is now.
function apply(r, opt) {
  current = r;
  const ex = r.execution;
  const view = r.view;
  syncTimer(view && view.time_left !== undefined ? view.time_left : ex.time_left);
  switch (ex.state) {
    case 'awaiting_authorization':
    case 'authorized':
      if (!view) {
        showOnly('waiting');
        // authorized: the test taker begins (authorized -> active, app_execution_begin), once
        // per version; the server may also begin by itself (then there is no such door: 404)
        if (ex.state === 'authorized' && beganAt !== ex.version) {
          beganAt = ex.version;
          api('POST', `/api/v1/executions/${encodeURIComponent(execId)}/begin`, { version: ex.version })
            .then((b) => { if (b && b.execution) return refresh(); return null; })
            .catch((e) => { if (e.status !== 404 && e.status !== 409 && e.status !== 405) showError(e); });
        }
        schedulePoll(POLL_WAIT_MS);
        return;
      }
      break;
    case 'paused':
      showOnly('paused');
      rendered = null; // the item is drawn again, with the saved answers, on resume
      schedulePoll(POLL_WAIT_MS);
      return;
    case 'finished':
    case 'terminated':
    case 'canceled':
      stopPolling();
      stopTimer();
      showDone(ex.state);
      return;
    default:
      break;
  }
  if (!view) {
    schedulePoll(POLL_WAIT_MS);
    return;
  }
  showOnly('runner');
  const newItem = !rendered || rendered.key !== view.item_key;
  // A background poll never redraws the item the candidate is answering.
  if (newItem || (opt && opt.redraw && !opt.background)) drawItem(view);
  drawNav(view);
  schedulePoll(POLL_ACTIVE_MS);
}

function assetUrl(path) {
  return `/api/v1/executions/${encodeURIComponent(execId)}/assets/${path.split('/').map(encodeURIComponent).join('/')}`;
}

// Answers typed but not yet submitted survive a reload in this tab (sessionStorage); a
// response is a submission to the engine (an attempt), so it is sent when the candidate
// leaves the item, finishes, or ends the attempt, never at each keystroke. A draft is
//   {"responses": {...}, "states": {RESPONSE: PCI state}, "lost": {RESPONSE: {"name"}}}
// (docs/web-pages.md): the PCIs' states follow the rule of the answers they belong with
// (a recording PCI's with a mark in place of the recording: qti.js); "lost" names the files
// the draft left out.
const draftKey = (key) => `outpost-draft2:${execId}:${key}`;
function readDraft(key) {
  let d = null;
  try { d = JSON.parse(sessionStorage.getItem(draftKey(key)) || 'null'); } catch (e) { d = null; }
  if (!d || typeof d !== 'object') return null;
  const obj = (x) => (x && typeof x === 'object' && !Array.isArray(x) ? x : {});
  return { responses: d.responses && typeof d.responses === 'object' ? d.responses : null, states: obj(d.states), lost: obj(d.lost) };
}
function writeDraft() {
  if (!rendered) return;
  // a file chosen or drawn is never written out in clear: it waits in memory until it is sent
  // (and sealed by the server), and is chosen again after a reload; the draft names it, so
  // that the page can say so
  const r = dirty ? rendered.ctl.responses() : null;
  const lost = {};
  // (a PCI's recording, in the JSON binding {"base": {"file": {"data"}}}, likewise)
  for (const [k, v] of Object.entries(r || {})) {
    if (v && typeof v === 'object' && (typeof v.data === 'string' || (v.base && v.base.file))) {
      if (typeof v.data === 'string') lost[k] = { name: String(v.name || '') };
      delete r[k];
    }
  }
  const d = { responses: r, states: stateDirty ? rendered.ctl.pciStates() : {}, lost };
  try { sessionStorage.setItem(draftKey(rendered.key), JSON.stringify(d)); } catch (e) { /* full */ }
}
function dropDraft(key) {
  try { sessionStorage.removeItem(draftKey(key)); } catch (e) { /* none */ }
}

function drawItem(view) {
  const box = $('item');
  const item = view.item || {};
  const state = view.session || view.state || {};
  $('invalid').hidden = true;
  const saved = view.responses && Object.keys(view.responses).length ? view.responses : null;
  const draft = readDraft(view.item_key);
  dirty = !!(draft && draft.responses);
  stateDirty = !!(draft && Object.keys(draft.states).length);
  const rub = $('rubrics');
  rub.replaceChildren();
  for (const r of view.rubrics || []) {
    const holder = document.createElement('div');
    holder.className = 'qti-rubric';
    renderItem(holder, { body: r, interactions: [], responses: {} }, {}, {}, { assetUrl, t });
    rub.append(holder);
  }
  // a draft never holds a file (writeDraft): the file the item holds, if any, stays under it
  const responses = draft && draft.responses ? Object.assign({}, saved || {}, draft.responses) : saved || {};
  const ctl = renderItem(box, item, state, responses, {
    assetUrl,
    t,
    // a PCI's sandboxed frame (src/app/pci_frame.c), named by its entry module
    pciUrl: (entry) => `/api/v1/executions/${encodeURIComponent(execId)}/pci/${entry.split('/').map(encodeURIComponent).join('/')}`,
    pciKey: `${execId}/${view.item_key}`,
    // the PCIs' states the device keeps (sealed), those of the draft over them
    pciStates: Object.assign({}, view.pci_states || {}, draft ? draft.states : {}),
    lostFiles: draft ? draft.lost : {},
    onChange: () => { dirty = true; writeDraft(); },
    onStateChange: () => { stateDirty = true; writeDraft(); },
    onEndAttempt: () => { saveNow().then(() => refresh({ redraw: true })).catch(showSaveError); },
  });
  rendered = { key: view.item_key, ctl };
  box.setAttribute('tabindex', '-1');
  box.setAttribute('aria-label', item.title || '');
}

function showSaveError(e) {
  if (e && e.status === 401) { toLogin(); return; }
  if (e && e.status === 0) { say('invalid', t('error.network'), 'error'); return; }
  say('invalid', t('take.notSaved', { message: (e && e.message) || String(e) }), 'error');
}

function drawNav(view) {
  const nav = view.navigation || {};
  if (view.paused) { showOnly('paused'); return; }
  $('item-progress').textContent = t('take.item', { n: (view.position || 0) + 1, count: view.item_count || '?' });
  $('prev').hidden = !nav.previous;
  const last = view.item_count && view.position >= view.item_count - 1;
  // navigation.next is false while the item must be answered before moving on (allowSkipping
  // false): Next is still shown, since it submits the answer first; the server refuses a move
  // without one and the page says why.
  $('next').hidden = last;
  $('finish').hidden = false;
}

// Submits the current answers when they changed, with the PCIs' states (or the states alone
// when only they changed: no attempt is counted); throws the server's refusal.
async function saveNow() {
  if (saving) await saving.catch(() => {});
  if ((!dirty && !stateDirty) || !rendered) return;
  const key = rendered.key;
  if (rendered.ctl.settle) await rendered.ctl.settle(); // a file still being read
  const body = { item_key: key };
  if (dirty) body.responses = rendered.ctl.responses();
  const states = rendered.ctl.pciStates();
  if (stateDirty && Object.keys(states).length) body.pci_states = states;
  if (!body.responses && !body.pci_states) { stateDirty = false; return; }
  $('save-state').textContent = t('take.saving');
  saving = (async () => {
    try {
      const r = await ask('POST', `/api/v1/executions/${encodeURIComponent(execId)}/responses`, body);
      dirty = false;
      stateDirty = false;
      dropDraft(key);
      $('save-state').textContent = t('take.saved');
      $('invalid').hidden = true;
      if (r && r.execution) {
        current = r;
        syncTimer(r.view && r.view.time_left !== undefined ? r.view.time_left : r.execution.time_left);
        if (r.execution.state !== 'active' || !r.view || r.view.item_key !== key) apply(r);
      }
    } catch (e) {
      $('save-state').textContent = '';
      throw e;
    }
  })();
  try { await saving; } finally { saving = null; }
}

// Leaves the item: submits its answers first; a refused answer is explained and the candidate
// stays (pressing again moves on without it).
async function move(to) {
  if (busy || !rendered) return;
  busy = true;
  try {
    try {
      await saveNow();
    } catch (e) {
      if (e.status === 401) { toLogin(); return; }
      dirty = false; // shown once; the next press moves on
      stateDirty = false;
      if (e.status === 409 && e.code === 'conflict' && /item/i.test(e.message || '')) await refresh({ redraw: true });
      else showSaveError(e);
      return;
    }
    const r = await ask('POST', `/api/v1/executions/${encodeURIComponent(execId)}/move`, { item_key: rendered.key, to });
    if (r) apply(r);
    $('item').focus();
  } catch (e) {
    if (e.status === 401) toLogin();
    else if (e.status === 409) { say('invalid', e.message || t('error.conflict'), 'error'); await refresh().catch(showError); }
    else showSaveError(e);
  } finally {
    busy = false;
  }
}

async function finish() {
  if (busy || !rendered) return;
  if (!(await confirmBox(t('take.finishConfirm')))) return;
  busy = true;
  try {
    try { await saveNow(); } catch (e) { if (e.status === 401) { toLogin(); return; } /* finishing anyway: the answer was refused */ }
    const r = await ask('POST', `/api/v1/executions/${encodeURIComponent(execId)}/finish`, { item_key: rendered.key });
    dropDraft(rendered.key);
    if (r) apply({ execution: r.execution, view: null });
  } catch (e) {
    if (e.status === 401) toLogin();
    else if (e.status === 409) { say('invalid', e.message || t('error.conflict'), 'error'); await refresh().catch(showError); }
    else showSaveError(e);
  } finally {
    busy = false;
  }
}

function confirmBox(text) {
  const d = $('confirm');
  $('confirm-text').textContent = text;
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
    $('confirm-ok').focus();
  });
}

function showDone(state) {
  showOnly('done');
  const k = state === 'terminated' ? 'take.terminated' : state === 'canceled' ? 'take.canceled' : 'take.finished';
  $('done-title').textContent = t(k);
  $('done-text').textContent = t(`${k}Text`);
  $('done-title').setAttribute('tabindex', '-1');
  $('done-title').focus();
}

// ---------------------------------------------------------------------------- timer --
// Counts down from the server's time_left, measured from when the answer arrived; every
// answer from the server sets it again, so the shown time never drifts from the server's.

let deadline = null; // performance.now() at which the time is up
let timerTick = null;
let expiredOnce = false;

function syncTimer(left) {
  if (left === null || left === undefined) {
    stopTimer();
    $('timer-box').hidden = true;
    return;
  }
  deadline = performance.now() + Number(left) * 1000;
  expiredOnce = false;
  $('timer-box').hidden = false;
  if (!timerTick) timerTick = setInterval(drawTimer, 250);
  drawTimer();
}

function stopTimer() {
  clearInterval(timerTick);
  timerTick = null;
  deadline = null;
}

function drawTimer() {
  if (deadline === null) return;
  const left = Math.max(0, (deadline - performance.now()) / 1000);
  const tm = $('timer');
  tm.textContent = formatDuration(Math.ceil(left));
  tm.setAttribute('aria-label', t('take.timeLeftLabel', { time: formatDuration(Math.ceil(left)) }));
  if (left < 60) tm.dataset.low = '';
  else delete tm.dataset.low;
  if (left <= 0 && !expiredOnce) {
    expiredOnce = true;
    // The server decides: ask it where the test is now.
    saveNow().catch(() => {}).finally(() => refresh({ redraw: true }).catch(showError));
  }
}

// ----------------------------------------------------------------------------- start --

async function main() {
  await loadStrings();
  const session = await requireSession('test_taker');
  wireHeader(session);
  $('prev').addEventListener('click', () => move('previous'));
  $('next').addEventListener('click', () => move('next'));
  $('finish').addEventListener('click', () => finish());
  $('back').addEventListener('click', () => {
    execId = null;
    history.pushState(null, '', location.pathname);
    showList().catch(showError);
  });
  if (execId) await refresh();
  else await showList();
}

main().catch(showError);
