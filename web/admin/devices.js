// devices.js - the backoffice's devices page (devices.html): every device enrolled with central
// (GET /api/v1/admin/devices, keyset pages), with what it reported at its last sync, a link to
// its syncs, and revocation (POST /api/v1/admin/devices/{id}/revoke, confirmed in a dialog).
// An administrator sees the devices of their organisations only: the server decides.
import {api, el, query, say, showError, startPage, t} from '/admin/bo.js';
import {formatTime} from '/lib.js';

await startPage('devices');

const params = new URLSearchParams(location.search);
const org = document.getElementById('org');
org.value = params.get('org_id') || '';
let after = null; // the key of the page shown (null: the first)

// "+7 s", "-2 s", "0 s"; "" when not reported.
function offsetText(s)
{
    if (s === null || s === undefined)
        return t('bo.devices.notReported');
    return t('bo.devices.seconds', {n : s > 0 ? `+${s}` : String(s)});
}

function statusCell(d)
{
    return el('td', {class : `sync-${d.status}`}, t(`bo.devices.status.${d.status}`));
}

function row(d)
{
    const history = el('a', {href : `/admin/sync-history.html${query({device_id : d.id})}`},
                       t('bo.devices.syncs'));
    history.setAttribute('aria-label', t('bo.devices.syncsOf', {label : d.label}));
    const actions = el('td', {class : 'bo-actions'}, history);
    if (!d.revoked) {
        const b = el('button', {type : 'button', onclick : () => revoke(d)}, t('bo.devices.revoke'));
        b.setAttribute('aria-label', t('bo.devices.revokeOf', {label : d.label}));
        actions.append(b);
    }
    return el('tr', {dataset : {id : d.id}},
              el('th', {scope : 'row'}, d.label, el('br'), el('small', null, d.id)),
              el('td', null, d.org_id),
              el('td', null, d.sync_manager_login || t('bo.devices.noManager')),
              el('td', null, d.last_sync_at ? formatTime(d.last_sync_at) : t('bo.devices.never')),
              el('td', {class : 'num'},
                 d.results_waiting === null ? t('bo.devices.notReported') : String(d.results_waiting)),
              el('td', {class : 'num'}, offsetText(d.clock_offset_seconds)),
              el('td', null, d.software_version || t('bo.devices.notReported')), statusCell(d), actions);
}

async function load(key)
{
    try {
        const page = await api('GET', `/api/v1/admin/devices${query({org_id : org.value.trim(), after : key})}`);
        after = key;
        document.getElementById('rows').replaceChildren(...page.devices.map(row));
        document.getElementById('none').hidden = page.devices.length > 0;
        const more = document.getElementById('more');
        more.hidden = !page.next;
        more.dataset.next = page.next || '';
        document.getElementById('first').hidden = !key;
        say('message', '');
    } catch (e) {
        showError('message', e);
    }
}

// Asks, then revokes device d; the list is read again.
function revoke(d)
{
    const dialog = document.getElementById('ask');
    document.getElementById('ask-text').textContent = t('bo.devices.revokeText', {label : d.label});
    dialog.onclose = async () => {
        if (dialog.returnValue !== 'ok')
            return;
        try {
            await api('POST', `/api/v1/admin/devices/${encodeURIComponent(d.id)}/revoke`);
            say('done', t('bo.devices.revoked', {label : d.label}), 'ok');
        } catch (e) {
            showError('message', e);
        }
        await load(after);
    };
    dialog.returnValue = '';
    dialog.showModal();
}

document.getElementById('filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    load(null);
});
document.getElementById('more').addEventListener('click', (ev) => load(ev.target.dataset.next));
document.getElementById('first').addEventListener('click', () => load(null));
await load(null);
