// sync-history.js - the backoffice's sync history (sync-history.html): the syncs of every device
// the caller may see (GET /api/v1/admin/sync-runs, filtered by device, outcome and days, in
// keyset pages newest first), and the report of one run (GET /api/v1/admin/sync-runs/{id}):
// what the device created, updated and deleted per entity, the results it sent, the bytes it
// received, and the error of a failed run. ?device_id= (the devices page's link) preselects a
// device.
import {api, el, query, say, showError, startPage, t} from '/admin/bo.js';
import {formatBytes, formatTime} from '/lib.js';

await startPage('sync-history');

const params = new URLSearchParams(location.search);
const device = document.getElementById('device');
const status = document.getElementById('status');
const from = document.getElementById('from');
const to = document.getElementById('to');
status.value = params.get('status') || '';
from.value = params.get('from') || '';
to.value = params.get('to') || '';
let after = null;

function total(counts, what)
{
    let n = 0;
    for (const c of Object.values(counts || {}))
        n += Number(c[what] || 0);
    return n;
}

function recordsText(r)
{
    return t('bo.syncHistory.recordsCell', {
        created : total(r.counts, 'created'),
        updated : total(r.counts, 'updated'),
        deleted : total(r.counts, 'deleted')
    });
}

function row(r)
{
    const b = el('button', {type : 'button', onclick : () => showReport(r.id)}, t('bo.syncHistory.show'));
    b.setAttribute('aria-label',
                   t('bo.syncHistory.showOf', {device : r.device_label || r.device_id, when : formatTime(r.started_at)}));
    return el('tr', {dataset : {id : r.id}}, el('th', {scope : 'row'}, formatTime(r.started_at)),
              el('td', null, r.device_label || r.device_id), el('td', null, r.org_id || ''),
              el('td', {class : `sync-${r.status}`}, t(`bo.devices.status.${r.status}`)),
              el('td', null, recordsText(r)), el('td', {class : 'num'}, String(r.results_sent)),
              el('td', {class : 'num'}, formatBytes(r.bytes)), el('td', null, b));
}

function filters()
{
    return {device_id : device.value, status : status.value, from : from.value, to : to.value};
}

async function load(key)
{
    try {
        const page = await api('GET', `/api/v1/admin/sync-runs${query({...filters(), after : key})}`);
        after = key;
        document.getElementById('rows').replaceChildren(...page.runs.map(row));
        document.getElementById('none').hidden = page.runs.length > 0;
        const more = document.getElementById('more');
        more.hidden = !page.next;
        more.dataset.next = page.next || '';
        document.getElementById('first').hidden = !key;
        say('message', '');
    } catch (e) {
        showError('message', e);
    }
}

// The report of run `id`, shown below the list; the focus moves to it.
async function showReport(id)
{
    let r;
    try {
        r = (await api('GET', `/api/v1/admin/sync-runs/${encodeURIComponent(id)}`)).run;
    } catch (e) {
        showError('message', e);
        return;
    }
    const box = document.getElementById('report');
    document.getElementById('report-title').textContent =
        t('bo.syncHistory.reportOf', {device : r.device_label || r.device_id, when : formatTime(r.started_at)});
    const fact = (k, v) => [el('dt', null, t(k)), el('dd', null, v)];
    document.getElementById('report-facts').replaceChildren(
        ...fact('bo.syncHistory.col.status', t(`bo.devices.status.${r.status}`)),
        ...fact('bo.syncHistory.col.started', formatTime(r.started_at)),
        ...fact('bo.syncHistory.ended', r.ended_at ? formatTime(r.ended_at) : t('bo.syncHistory.notEnded')),
        ...fact('bo.syncHistory.col.results', String(r.results_sent)),
        ...fact('bo.syncHistory.col.bytes', formatBytes(r.bytes)),
        ...fact('bo.syncHistory.error', r.error || t('bo.syncHistory.noError')));
    const entities = Object.keys(r.counts || {}).sort();
    document.getElementById('report-rows').replaceChildren(...entities.map((k) => {
        const c = r.counts[k];
        return el('tr', null, el('th', {scope : 'row'}, k), el('td', {class : 'num'}, String(c.created || 0)),
                  el('td', {class : 'num'}, String(c.updated || 0)),
                  el('td', {class : 'num'}, String(c.deleted || 0)));
    }));
    document.getElementById('report-counts').hidden = entities.length === 0;
    box.hidden = false;
    box.focus();
}

// The device filter lists the devices the caller may see (their first 500, by label).
async function loadDevices()
{
    try {
        const page = await api('GET', '/api/v1/admin/devices?limit=500');
        for (const d of page.devices)
            device.append(el('option', {value : d.id}, `${d.label} (${d.org_id})`));
    } catch (e) {
        showError('message', e);
    }
    const wanted = params.get('device_id');
    if (wanted && ![...device.options].some((o) => o.value === wanted))
        device.append(el('option', {value : wanted}, wanted));
    device.value = wanted || '';
}

document.getElementById('filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    load(null);
});
document.getElementById('more').addEventListener('click', (ev) => load(ev.target.dataset.next));
document.getElementById('first').addEventListener('click', () => load(null));
await loadDevices();
await load(null);
