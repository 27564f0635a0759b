// proctor.js - the proctor's live dashboard: the executions of their own test centers, polled
// every 2.5 s without reloading, and the actions on them. Every action sends the version of
// the execution the proctor saw; if it changed meanwhile (another proctor, the test taker),
// the server answers 409 and the page says so and shows the fresh state.
import { loadStrings, t, api, requireSession, wireHeader, el, formatDuration, say, toLogin } from './lib.js';

const POLL_MS = 2500;
const FINAL = ['finished', 'terminated', 'canceled'];
const $ = (id) => document.getElementById(id);

// The actions a state allows (the server checks them again).
const ACTIONS = {
  awaiting_authorization: ['authorize', 'terminate', 'irregularity'],
  authorized: ['pause', 'terminate', 'irregularity'],
  active: ['pause', 'extra-time', 'terminate', 'irregularity'],
  paused: ['resume', 'extra-time', 'terminate', 'irregularity'],
  // an ended execution's result is sealed with its audit log: the server refuses (409) any
  // action on it, an irregularity included (docs/api.md, "Executions")
  finished: [],
  terminated: [],
  canceled: [],
};
const ACTION_KEY = { authorize: 'proctor.authorize', pause: 'proctor.pause', resume: 'proctor.resume', terminate: 'proctor.terminate', 'extra-time': 'proctor.extraTime', irregularity: 'proctor.irregularity' };

let executions = new Map(); // id -> execution as last seen
let timer = null;
let inFlight = false;
// The server answers requests in parallel: a poll sent before an action can be answered after
// it, with the execution as it was before. Each request takes a number when it is sent; a
// list older than what the page shows is dropped.
let sent = 0;
let drawn = 0;

function showError(e) {
  if (e && e.status === 401) { toLogin(); return; }
  say('message', e && e.status === 0 ? t('error.network') : e && e.status === 403 ? t('error.forbidden') : t('error.generic', { message: (e && e.message) || String(e) }), 'error');
}

async function load() {
  const n = ++sent;
  const r = await api('GET', '/api/v1/proctor/executions');
  if (n < drawn) return;
  drawn = n;
  executions = new Map(((r && r.executions) || []).map((x) => [String(x.id), x]));
  draw();
  $('updated').textContent = t('proctor.updated', { time: new Date().toLocaleTimeString() });
  if ($('message').dataset.kind === 'error' && !$('message').dataset.sticky) say('message', '');
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    try { if (!inFlight) await load(); } catch (e) { showError(e); }
    schedule();
  }, POLL_MS);
}

function signature(x) {
  return [x.state, x.version, x.position, x.item_count, x.time_left, x.test_taker_label, x.delivery_label].join('|');
}

// Redraws the table, touching only the rows that changed, so that the focus of a keyboard
// user stays where it was.
function draw() {
  const tbody = $('rows');
  const showAll = $('filter').value === 'all';
  const list = Array.from(executions.values()).filter((x) => showAll || !FINAL.includes(x.state));
  list.sort((a, b) => String(a.test_taker_label || '').localeCompare(String(b.test_taker_label || '')) || String(a.id).localeCompare(String(b.id)));
  $('none').hidden = list.length > 0;
  $('table').hidden = list.length === 0;
  const existing = new Map(Array.from(tbody.rows).map((r) => [r.dataset.id, r]));
  const focused = document.activeElement;
  const focusInfo = focused && focused.closest && focused.closest('tr[data-id]') ? { id: focused.closest('tr').dataset.id, action: focused.dataset.action } : null;
  let prev = null;
  for (const x of list) {
    const id = String(x.id);
    let tr = existing.get(id);
    existing.delete(id);
    if (!tr) { tr = document.createElement('tr'); tr.dataset.id = id; }
    if (tr.dataset.sig !== signature(x)) {
      fillRow(tr, x);
      tr.dataset.sig = signature(x);
      if (focusInfo && focusInfo.id === id) {
        const b = tr.querySelector(`button[data-action="${focusInfo.action}"]`) || tr.querySelector('button');
        if (b) b.focus();
      }
    }
    const want = prev ? prev.nextSibling : tbody.firstChild;
    if (want !== tr) tbody.insertBefore(tr, want);
    prev = tr;
  }
  for (const tr of existing.values()) tr.remove();
}

function fillRow(tr, x) {
  const taker = x.test_taker_label || x.test_taker_id || '';
  const progress = x.item_count ? t('proctor.progress', { n: Math.min((x.position || 0) + 1, x.item_count), count: x.item_count }) : '';
  const actions = el('div', { class: 'actions' });
  for (const a of ACTIONS[x.state] || []) {
    const label = t(ACTION_KEY[a]);
    const b = el('button', { type: 'button', class: a === 'terminate' ? 'danger' : a === 'authorize' || a === 'resume' ? 'primary' : '', text: label, 'aria-label': t('proctor.actionFor', { action: label, taker }) });
    b.dataset.action = a;
    b.addEventListener('click', () => act(String(x.id), a));
    actions.append(b);
  }
  tr.replaceChildren(
    el('th', { scope: 'row', text: taker }),
    el('td', { text: x.delivery_label || x.delivery_id || '' }),
    el('td', {}, el('span', { class: `state state-${x.state}`, text: t(`state.${x.state}`) })),
    el('td', { text: progress }),
    el('td', { text: x.time_left === null || x.time_left === undefined ? '' : formatDuration(x.time_left) }),
    el('td', {}, actions),
  );
}

// Asks what an action needs (confirmation, minutes, reason); null when cancelled.
function ask(action, taker) {
  const d = $('ask');
  const label = t(ACTION_KEY[action]);
  $('ask-title').textContent = t('proctor.actionFor', { action: label, taker });
  $('ask-text').textContent = action === 'terminate' ? t('proctor.terminateConfirm', { taker }) : '';
  $('ask-text').hidden = action !== 'terminate';
  $('ask-minutes-box').hidden = action !== 'extra-time';
  $('ask-reason-box').hidden = action !== 'terminate' && action !== 'irregularity';
  $('ask-reason').required = action === 'irregularity' || action === 'terminate';
  $('ask-minutes').required = action === 'extra-time';
  $('ask-reason').value = '';
  $('ask-minutes').value = '5';
  return new Promise((resolve) => {
    d.addEventListener('close', () => {
      if (d.returnValue !== 'ok') { resolve(null); return; }
      const body = {};
      if (action === 'extra-time') body.seconds = Math.round(Number($('ask-minutes').value) * 60);
      if (action === 'terminate' || action === 'irregularity') body.reason = $('ask-reason').value.trim();
      resolve(body);
    }, { once: true });
    d.returnValue = '';
    d.showModal();
    const first = action === 'extra-time' ? $('ask-minutes') : action === 'irregularity' || action === 'terminate' ? $('ask-reason') : $('ask-ok');
    first.focus();
  });
}

async function act(id, action) {
  const x = executions.get(id);
  if (!x) return;
  const taker = x.test_taker_label || x.test_taker_id || '';
  let body = {};
  if (action === 'terminate' || action === 'extra-time' || action === 'irregularity') {
    body = await ask(action, taker);
    if (!body) return;
  }
  body.version = x.version;
  inFlight = true;
  say('done', '');
  try {
    const n = ++sent;
    const r = await api('POST', `/api/v1/proctor/executions/${encodeURIComponent(id)}/${action}`, body);
    drawn = Math.max(drawn, n);
    if (r && r.execution) executions.set(id, r.execution);
    draw();
    say('message', '');
    say('done', t('proctor.done', { action: t(ACTION_KEY[action]), taker }), 'ok');
  } catch (e) {
    if (e.status === 409) {
      say('message', t('error.conflict'), 'warn');
      $('message').dataset.sticky = '1';
      setTimeout(() => { delete $('message').dataset.sticky; }, 8000);
      await load().catch(showError);
    } else showError(e);
  } finally {
    inFlight = false;
  }
}

async function main() {
  await loadStrings();
  const session = await requireSession('proctor');
  wireHeader(session);
  $('filter').addEventListener('change', draw);
  await load();
  schedule();
}

main().catch(showError);
