// deliveries.js - the backoffice's deliveries (deliveries.html; docs/web-pages.md): every
// delivery with its status (published or withdrawn), version and eligibilities; its package
// history; publish and withdraw (the super-user; with the version read); and the upload of a
// QTI package: the bytes sent by XMLHttpRequest (its upload events drive the first progress
// bar), then the import that runs on the server polled every half second (the second bar:
// phase, items checked), then the new delivery, or every problem of a refused package with
// its file and line (docs/api.md, "Backoffice: deliveries"). A package refused because a
// delivery has its label already offers the two ways on that import-qti has (--new-version,
// --label): the server kept the upload, and POST /api/v1/admin/imports/{id}/retry runs it
// again as the next version of that delivery or under the label typed.
import {csrfToken, formatBytes, formatTime} from '/lib.js';
import {api, el, say, showError, startPage, t} from '/admin/bo.js';

const me = await startPage('deliveries');
let deliveries = [];

function render()
{
    const body = document.querySelector('#deliveries tbody');
    body.replaceChildren(...deliveries.map((d) => {
        const withdrawn = d.status === 'withdrawn';
        const actions = [ el('button', {type : 'button', onclick : () => showVersions(d),
                                        'aria-label' : t('bo.deliveries.versionsOf', {label : d.label})},
                             t('bo.deliveries.versions')) ];
        if (me.user.super)
            actions.push(el('button', {type : 'button', class : withdrawn ? 'primary' : 'danger',
                                       onclick : () => setStatus(d, withdrawn ? 'publish' : 'withdraw'),
                                       'aria-label' : t(withdrawn ? 'bo.deliveries.publishOf' : 'bo.deliveries.withdrawOf',
                                                        {label : d.label})},
                            t(withdrawn ? 'bo.deliveries.publish' : 'bo.deliveries.withdraw')));
        return el('tr', null, el('th', {scope : 'row'}, d.label),
                  el('td', null, t(withdrawn ? 'bo.deliveries.withdrawn' : 'bo.deliveries.published')),
                  el('td', {class : 'num'}, String(d.version)),
                  el('td', {class : 'num'}, String(d.eligibilities)),
                  el('td', null, formatTime(d.updated_at)),
                  el('td', {class : 'actions'}, ...actions));
    }));
    document.getElementById('empty').hidden = deliveries.length > 0;
}

async function load()
{
    try {
        deliveries = (await api('GET', '/api/v1/admin/deliveries')).deliveries;
        render();
    } catch (e) {
        showError('message', e);
    }
}

async function showVersions(d)
{
    try {
        const r = await api('GET', `/api/v1/admin/deliveries/${encodeURIComponent(d.id)}`);
        const body = document.querySelector('#versions tbody');
        body.replaceChildren(...r.versions.map((v) => el(
            'tr', null, el('th', {scope : 'row'}, String(v.version)),
            el('td', null, v.current ? t('bo.common.yes') : '-'),
            el('td', null, el('code', null, v.package_sha256)),
            el('td', {class : 'num'}, formatBytes(v.enc_size)),
            el('td', null, formatTime(v.created_at)))));
        const h = document.getElementById('versions-heading');
        h.textContent = t('bo.deliveries.versionsOf', {label : r.delivery.label});
        document.getElementById('versions-section').hidden = false;
        h.focus();
    } catch (e) {
        showError('message', e);
    }
}

async function setStatus(d, action)
{
    say('message', '');
    try {
        const r = await api('POST', `/api/v1/admin/deliveries/${encodeURIComponent(d.id)}/${action}`,
                            {version : d.version});
        say('done', t(action === 'publish' ? 'bo.deliveries.publishedNow' : 'bo.deliveries.withdrawnNow',
                      {label : r.delivery.label}), 'ok');
        await load();
    } catch (e) {
        showError('message', e);
        if (e.status === 409)
            await load();
    }
}

// ---- the upload ----

function setBar(id, labelId, percent, text)
{
    const bar = document.getElementById(id);
    bar.value = percent;
    bar.setAttribute('aria-valuetext', text);
    document.getElementById(labelId).textContent = text;
}

// Sends the file; resolves with the server's JSON answer ({import}), rejects with
// {status, message}.
function sendFile(file, params)
{
    return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', `/api/v1/admin/deliveries/upload?${params}`);
        xhr.setRequestHeader('Content-Type', 'application/zip');
        xhr.setRequestHeader('X-CSRF-Token', csrfToken() || '');
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.upload.addEventListener('progress', (ev) => {
            if (!ev.lengthComputable)
                return;
            const p = Math.floor((100 * ev.loaded) / ev.total);
            setBar('up-bar', 'up-bar-label', p,
                   t('bo.deliveries.uploadingOf', {percent : p, done : formatBytes(ev.loaded),
                                                   total : formatBytes(ev.total)}));
        });
        xhr.addEventListener('load', () => {
            let data = null;
            try {
                data = JSON.parse(xhr.responseText);
            } catch (e) {
                data = null;
            }
            if (xhr.status >= 200 && xhr.status < 300 && data)
                resolve(data);
            else
                reject({status : xhr.status,
                        message : data && data.error ? data.error.message : `HTTP ${xhr.status}`,
                        code : data && data.error ? data.error.code : undefined});
        });
        xhr.addEventListener('error', () => reject({status : 0}));
        xhr.send(file);
    });
}

// A list of {file, line, message} (problems or warnings) into the list `listId`, shown in
// `boxId` when not empty.
function showProblems(problems, listId = 'problems', boxId = 'problems-box')
{
    const list = document.getElementById(listId);
    list.replaceChildren(...problems.map((p) => {
        const where = p.file ? (p.line ? `${p.file}, ${t('bo.deliveries.line', {line : p.line})}` : p.file) : '';
        // the message without the "Archive.zip: file line N: " that `where` says already
        let text = p.message;
        const at = p.file ? text.indexOf(`${p.file}`) : -1;
        if (at >= 0) {
            const rest = text.slice(at + p.file.length).replace(/^ line \d+/, '');
            if (rest.startsWith(': '))
                text = rest.slice(2);
        }
        return el('li', null, where ? el('strong', null, `${where}: `) : '', text);
    }));
    document.getElementById(boxId).hidden = problems.length === 0;
}

// The deliveries an import made (one per test of the package).
function showMade(deliveries)
{
    document.getElementById('made').replaceChildren(...deliveries.map((d) => el('li', null, d.label)));
    document.getElementById('made-box').hidden = deliveries.length === 0;
}

function sleep(ms)
{
    return new Promise((r) => setTimeout(r, ms));
}

async function follow(id)
{
    for (;;) {
        const r = (await api('GET', `/api/v1/admin/imports/${encodeURIComponent(id)}`)).import;
        const phase = r.phase === 'checking' && r.items_total
                          ? t('bo.deliveries.phase.checkingOf', {done : r.items_done, total : r.items_total})
                          : t(`bo.deliveries.phase.${r.phase}`);
        setBar('imp-bar', 'imp-bar-label', r.percent, t('bo.deliveries.importingOf', {percent : r.percent, phase}));
        document.getElementById('phase').textContent = phase;
        if (r.state !== 'running')
            return r;
        await sleep(500);
    }
}

// The import refused for a label taken that the choices of #taken-box run again.
let refused = null;

function clearOutcome()
{
    say('message', '');
    say('done', '');
    showProblems([]);
    showProblems([], 'warnings', 'warnings-box');
    showMade([]);
    showTaken(null);
}

// Offers the ways on for an import refused because a delivery has its label (r.label_taken):
// as a new version of that delivery (a package of one test), or under another label.
function showTaken(r)
{
    refused = r && r.label_taken ? r : null;
    document.getElementById('taken-box').hidden = !refused;
    if (!refused)
        return;
    const labels = refused.label_taken.labels.map((l) => l.label);
    const single = refused.label_taken.new_version && labels.length === 1;
    document.getElementById('taken-text').textContent =
        t('bo.deliveries.takenText', {n : labels.length, labels : labels.map((l) => `"${l}"`).join(', ')}) +
        (single ? ` ${t('bo.deliveries.takenVersion')}` : '');
    const versionButton = document.getElementById('taken-version');
    versionButton.hidden = !single;
    versionButton.textContent = single ? t('bo.deliveries.asNewVersion', {label : labels[0]}) : '';
    document.getElementById('taken-label').value = '';
}

// What an ended import `r` says: the deliveries made or changed, or why it was refused.
async function showOutcome(r)
{
    if (r.state === 'done') {
        const made = r.deliveries || [r.delivery];
        if (r.new_version)
            say('done', r.changed ? t('bo.deliveries.newVersion', {label : made[0].label, version : made[0].version, file : r.file})
                                  : t('bo.deliveries.sameVersion', {label : made[0].label, version : made[0].version, file : r.file}),
                'ok');
        else
            say('done', made.length === 1 ? t('bo.deliveries.imported', {label : made[0].label, file : r.file})
                                          : t('bo.deliveries.importedMany', {n : made.length, file : r.file}),
                'ok');
        showMade(made.length > 1 ? made : []);
        showProblems(r.warnings || [], 'warnings', 'warnings-box');
        document.getElementById('upload-form').reset();
        await load();
    } else {
        say('message', t('bo.deliveries.refused', {file : r.file, n : r.problems.length}), 'error');
        showProblems(r.problems);
        showTaken(r);
    }
}

// Runs the refused import again with `body` ({new_version: true} or {label}).
async function retry(body)
{
    if (!refused)
        return;
    const id = refused.id;
    clearOutcome();
    const buttons = [ 'taken-version', 'taken-button', 'up-button' ].map((b) => document.getElementById(b));
    buttons.forEach((b) => { b.disabled = true; });
    setBar('imp-bar', 'imp-bar-label', 0, t('bo.deliveries.importing'));
    try {
        const started = await api('POST', `/api/v1/admin/imports/${encodeURIComponent(id)}/retry`, body);
        await showOutcome(await follow(started.import.id));
    } catch (e) {
        // the server's words say why this import cannot run again (gone, run already ...)
        if (e.status === 404 || e.status === 409 || e.status === 400)
            say('message', t('bo.deliveries.retryRefused', {message : e.message}), 'error');
        else
            showError('message', e);
    } finally {
        buttons.forEach((b) => { b.disabled = false; });
    }
}

document.getElementById('taken-version').addEventListener('click', () => retry({new_version : true}));
document.getElementById('taken-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const label = document.getElementById('taken-label').value.trim();
    if (label)
        retry({label});
});

document.getElementById('upload-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearOutcome();
    const file = document.getElementById('up-file').files[0];
    if (!file)
        return;
    const params = new URLSearchParams({filename : file.name,
                                        proctored : document.getElementById('up-proctored').value,
                                        max_executions : document.getElementById('up-max').value || '0'});
    const label = document.getElementById('up-label').value.trim();
    if (label)
        params.set('label', label);
    const button = document.getElementById('up-button');
    button.disabled = true;
    document.getElementById('progress').hidden = false;
    setBar('up-bar', 'up-bar-label', 0, t('bo.deliveries.uploading'));
    setBar('imp-bar', 'imp-bar-label', 0, t('bo.deliveries.importing'));
    try {
        const started = await sendFile(file, params.toString());
        setBar('up-bar', 'up-bar-label', 100, t('bo.deliveries.uploaded', {size : formatBytes(file.size)}));
        await showOutcome(await follow(started.import.id));
    } catch (e) {
        showError('message', e);
    } finally {
        button.disabled = false;
    }
});

document.getElementById('upload-section').hidden = !me.user.super;
await load();
