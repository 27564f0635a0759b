// sync.js - the sync manager's page: the big button, live progress while a sync runs (polled
// every second, whoever started it: this page or cron's `outpost sync`), the outcome, the
// history of past syncs and the readiness panel.
import { loadStrings, t, api, requireSession, wireHeader, el, formatBytes, formatTime, say, toLogin } from './lib.js';

const POLL_RUNNING_MS = 1000;
const POLL_IDLE_MS = 5000;
const $ = (id) => document.getElementById(id);
let timer = null;
let wasRunning = false;

function showError(e) {
  if (e && e.status === 401) { toLogin(); return; }
  say('message', e && e.status === 0 ? t('error.network') : e && e.status === 403 ? t('error.forbidden') : t('error.generic', { message: (e && e.message) || String(e) }), 'error');
}

function num(v) { return v === null || v === undefined ? '' : Number(v).toLocaleString(); }

function total(counts) {
  if (typeof counts === 'number') return counts;
  let n = 0;
  for (const v of Object.values(counts || {})) n += (v.created || 0) + (v.updated || 0) + (v.deleted || 0);
  return n;
}

function showProgress(p) {
  p = p || {};
  const running = !!p.running;
  $('start').disabled = running;
  $('bar').hidden = !running;
  $('phase').textContent = p.phase || '';
  $('records').textContent = num(typeof p.records === 'object' ? total(p.records) : p.records);
  $('bytes').textContent = p.bytes === undefined || p.bytes === null ? '' : formatBytes(p.bytes);
  $('results').textContent = num(p.results_sent);
  const st = $('sync-state');
  if (running) { st.textContent = t('sync.running'); st.className = ''; }
  else if (p.outcome === 'ok') { st.textContent = t('sync.outcome.ok'); st.className = 'good'; }
  else if (p.outcome === 'failed') { st.textContent = t('sync.outcome.failed', { error: p.error || '' }); st.className = 'bad'; }
  else { st.textContent = t('sync.idle'); st.className = ''; }
  return running;
}

async function loadProgress() {
  const r = await api('GET', '/api/v1/sync');
  const running = showProgress(r && r.sync);
  if (wasRunning && !running) await Promise.all([loadHistory(), loadReadiness()]).catch(showError);
  wasRunning = running;
  return running;
}

async function loadHistory() {
  const r = await api('GET', '/api/v1/sync/history');
  const runs = (r && (r.runs || r.history)) || [];
  $('history-none').hidden = runs.length > 0;
  $('history').hidden = runs.length === 0;
  $('history-rows').replaceChildren(...runs.map((x) => el('tr', {},
    el('td', { text: formatTime(x.started_at) }),
    el('td', { text: formatTime(x.ended_at) }),
    el('td', {}, el('span', { class: x.status === 'ok' ? 'good' : x.status === 'failed' || x.status === 'interrupted' ? 'bad' : '', text: x.status || '' })),
    el('td', { text: num(total(x.counts)) }),
    el('td', { text: num(x.results_sent) }),
    el('td', { text: x.error || '' }))));
}

async function loadReadiness() {
  let r;
  try { r = await api('GET', '/api/v1/readiness'); } catch (e) { if (e.status === 404) return; throw e; }
  const c = (r && r.central) || {};
  const central = $('central');
  central.replaceChildren(el('span', { class: c.reachable ? 'good' : 'bad', text: c.reachable ? t('sync.reachable', { ms: c.latency_ms === undefined || c.latency_ms === null ? '?' : c.latency_ms }) : t('sync.unreachable') }));
  if (c.url) central.append(el('br'), el('span', { text: c.url }));
  $('waiting').textContent = num(r.results_waiting);
  const d = r.disk || {};
  $('disk').replaceChildren(el('span', { class: d.ok === false ? 'bad' : '', text: d.ok === false ? t('sync.diskLow', { free: formatBytes(d.free_bytes) }) : formatBytes(d.free_bytes) }));
  const last = r.last_sync;
  $('last').textContent = last ? `${formatTime(last.ended_at || last.started_at)} (${last.status || last.outcome || ''})` : t('sync.never');
}

function schedule(running) {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    let again = false;
    try { again = await loadProgress(); } catch (e) { showError(e); }
    schedule(again);
  }, running ? POLL_RUNNING_MS : POLL_IDLE_MS);
}

async function start() {
  $('start').disabled = true;
  say('message', '');
  try {
    const r = await api('POST', '/api/v1/sync');
    if (r && (r.already_running || (r.sync && r.sync.already_running))) say('message', t('sync.alreadyRunning'), 'warn');
    else say('message', t('sync.started'), 'ok');
    wasRunning = showProgress(Object.assign({ running: true }, r && r.sync));
    schedule(true);
  } catch (e) {
    $('start').disabled = false;
    showError(e);
  }
}

async function main() {
  await loadStrings();
  const session = await requireSession('sync_manager');
  wireHeader(session);
  // off in the HTML until here: a press before the page listens would be lost
  $('start').addEventListener('click', start);
  $('start').disabled = false;
  const running = await loadProgress().catch((e) => { showError(e); return false; });
  await Promise.all([loadHistory(), loadReadiness()]).catch(showError);
  schedule(running);
}

main().catch(showError);
