// users.js - the backoffice's users page (users.html, docs/web-pages.md): the list with
// search, role filter and pages (keyset: the server gives the login to go on after; the page
// keeps the ones it came through for Previous), create, edit, password reset and delete in
// dialogs, and the CSV import, which runs on the server in the background while this page
// shows its progress (passwords hashed of all) and then the report or the refused rows.
// What each person may do is the server's to say; the page hides what the super-user alone
// may do from a test-center administrator.
import {api, el, errorText, query, say, showError, startPage, t} from '/admin/bo.js';
import {ApiError} from '/lib.js';

const PAGE = 50;
const me = await startPage('users');
const isSuper = !!me.user.super;

let filters = {q : '', role : ''};
let starts = [ '' ]; // the `after` of each page seen, the current one last
let next = null;
let editing = null; // the user being edited, or null for a new one

const $ = (id) => document.getElementById(id);

function roleName(r)
{
    return t(`bo.role.${r}`);
}
function fullName(u)
{
    return [ u.first_name, u.last_name ].filter(Boolean).join(' ');
}

function mayChange(u)
{
    return isSuper || u.role === 'test-taker' || u.role === 'proctor';
}

async function load()
{
    const after = starts[starts.length - 1];
    let data;
    try {
        data = await api('GET',
                         `/api/v1/admin/users${
                             query({q : filters.q, role : filters.role, after, limit : PAGE})}`);
    } catch (e) {
        showError('message', e);
        return;
    }
    say('message', '');
    next = data.next;
    const rows = $('rows');
    rows.replaceChildren();
    for (const u of data.users) {
        const actions = el('div', {class : 'actions'});
        if (mayChange(u)) {
            actions.append(el('button', {
                               type : 'button',
                               onclick : () => openEdit(u),
                               'aria-label' : t('bo.users.editOf', {login : u.login})
                           },
                              t('bo.users.edit')),
                           el('button', {
                               type : 'button',
                               onclick : () => openPassword(u),
                               'aria-label' : t('bo.users.passwordOf', {login : u.login})
                           },
                              t('bo.users.resetPassword')));
        }
        if (isSuper && u.role !== 'super-user') {
            actions.append(el('button', {
                type : 'button',
                class : 'danger',
                onclick : () => openDelete(u),
                'aria-label' : t('bo.users.deleteOf', {login : u.login})
            },
                              t('bo.users.delete')));
        }
        rows.append(el('tr', {dataset : {login : u.login}}, el('td', null, u.login),
                       el('td', null, u.label || ''), el('td', null, fullName(u)),
                       el('td', null, roleName(u.role)), el('td', null, u.mail || ''),
                       el('td', null, actions)));
    }
    $('none').hidden = data.users.length > 0;
    $('prev').disabled = starts.length <= 1;
    $('next').disabled = !next;
    $('page-no').textContent = t('bo.users.pageNo', {n : starts.length});
}

$('filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    filters = {q : $('q').value.trim(), role : $('role').value};
    starts = [ '' ];
    load();
});
$('next').addEventListener('click', () => {
    if (next) {
        starts.push(next);
        load();
    }
});
$('prev').addEventListener('click', () => {
    if (starts.length > 1) {
        starts.pop();
        load();
    }
});

// ---- create and edit ----

function openEdit(u)
{
    editing = u;
    $('edit-title').textContent =
        u ? t('bo.users.editTitle', {login : u.login}) : t('bo.users.new');
    $('edit-new-fields').hidden = !!u;
    for (const [id, v] of [[ 'f-label', u && u.label ], [ 'f-first', u && u.first_name ],
                           [ 'f-last', u && u.last_name ], [ 'f-mail', u && u.mail ],
                           [ 'f-lang', u && u.interface_lang ], [ 'f-login', '' ], [ 'f-org', '' ],
                           [ 'f-password', '' ]]) {
        $(id).value = v || '';
    }
    say('edit-message', '');
    $('edit').showModal();
    (u ? $('f-label') : $('f-login')).focus();
}

$('edit-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const common = {
        label : $('f-label').value.trim(),
        first_name : $('f-first').value.trim(),
        last_name : $('f-last').value.trim(),
        mail : $('f-mail').value.trim(),
        lang : $('f-lang').value.trim()
    };
    try {
        if (editing) {
            await api('PATCH', `/api/v1/admin/users/${encodeURIComponent(editing.id)}`,
                      Object.assign({version : editing.version}, common));
            say('done', t('bo.users.saved', {login : editing.login}), 'ok');
        } else {
            const body = Object.assign({
                login : $('f-login').value.trim(),
                role : $('f-role').value,
                password : $('f-password').value
            },
                                       common);
            if ($('f-org').value.trim())
                body.org_id = $('f-org').value.trim();
            for (const k of Object.keys(body))
                if (body[k] === '')
                    delete body[k];
            const r = await api('POST', '/api/v1/admin/users', body);
            say('done', t('bo.users.created', {login : r.user.login}), 'ok');
        }
        $('edit').close();
        load();
    } catch (e) {
        if (e.status === 401) {
            showError('message', e);
            return;
        }
        say('edit-message', e.status === 400 || e.status === 409 ? e.message : errorText(e),
            'error');
    }
});
$('new-user').addEventListener('click', () => openEdit(null));

// ---- password ----

let pwUser = null;
function openPassword(u)
{
    pwUser = u;
    $('pw-title').textContent = t('bo.users.passwordTitle', {login : u.login});
    $('pw-new').value = '';
    say('pw-message', '');
    $('pw').showModal();
    $('pw-new').focus();
}
$('pw-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!$('pw-new').value) {
        say('pw-message', t('bo.users.passwordEmpty'), 'error');
        return;
    }
    try {
        await api('POST', `/api/v1/admin/users/${encodeURIComponent(pwUser.id)}/password`,
                  {password : $('pw-new').value});
        $('pw-new').value = '';
        $('pw').close();
        say('done', t('bo.users.passwordSet', {login : pwUser.login}), 'ok');
        load();
    } catch (e) {
        say('pw-message', e.status === 400 ? e.message : errorText(e), 'error');
    }
});

// ---- delete ----

let delUser = null;
function openDelete(u)
{
    delUser = u;
    $('del-title').textContent = t('bo.users.deleteTitle', {login : u.login});
    say('del-message', '');
    $('del').showModal();
}
$('del-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
        await api('DELETE', `/api/v1/admin/users/${encodeURIComponent(delUser.id)}`);
        $('del').close();
        say('done', t('bo.users.deleted', {login : delUser.login}), 'ok');
        load();
    } catch (e) {
        say('del-message', e.status === 400 ? e.message : errorText(e), 'error');
    }
});

// ---- import ----

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// POST the file as it is (text/csv); the server answers 202 with the job at once.
async function upload(file, role)
{
    const r = await fetch(`/api/v1/admin/users/import${query({role, name : file.name})}`, {
        method : 'POST',
        credentials : 'same-origin',
        cache : 'no-store',
        headers : {
            'Content-Type' : 'text/csv',
            'X-CSRF-Token' : await csrfToken(),
            Accept : 'application/json'
        },
        body : file,
    });
    const data = await r.json().catch(() => null);
    if (!r.ok) {
        const err = (data && data.error) || {};
        throw new ApiError(r.status, err.code, err.message, data);
    }
    return data.job;
}

async function csrfToken()
{
    const s = await api('GET', '/api/v1/session');
    return s.csrf;
}

function showJob(job)
{
    const phase = t(`bo.users.import.phase.${job.phase}`, {done : job.done, total : job.total});
    $('import-phase').textContent = phase;
    $('import-progress').value = job.percent;
    $('import-progress').setAttribute('aria-valuetext', `${job.percent}% - ${phase}`);
}

function showReport(job)
{
    const problems = (job.report && job.report.invalid) || [];
    const body = $('import-problems');
    body.replaceChildren(
        ...problems.map((p) => el('tr', null, el('td', {class : 'num'}, String(p.line)),
                                  el('td', null, p.message))));
    $('import-problems-box').hidden = problems.length === 0;
    if (job.state === 'done') {
        say('import-status',
            t('bo.users.import.done', {created : job.report.created, updated : job.report.updated}),
            'ok');
    } else {
        say('import-status',
            problems.length ? t('bo.users.import.refusedRows', {n : problems.length})
                            : t('bo.users.import.failed', {message : job.error || ''}),
            'error');
    }
}

$('import-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const file = $('import-file').files[0];
    if (!file) {
        say('import-status', t('bo.users.import.noFile'), 'error');
        $('import-file').focus();
        return;
    }
    $('import-go').disabled = true;
    $('import-problems-box').hidden = true;
    say('import-status', '');
    $('import-progress-box').hidden = false;
    try {
        let job = await upload(file, $('import-role').value);
        showJob(job);
        while (job.state === 'running') {
            await sleep(300);
            job =
                (await api('GET', `/api/v1/admin/users/import/${encodeURIComponent(job.id)}`)).job;
            showJob(job);
        }
        showReport(job);
        if (job.state === 'done')
            load();
    } catch (e) {
        if (e.status === 401) {
            showError('message', e);
            return;
        }
        say('import-status',
            e.status === 400 || e.status === 503 ? e.message || errorText(e) : errorText(e),
            'error');
    } finally {
        $('import-go').disabled = false;
    }
});

if (isSuper) {
    $('new-user').hidden = false;
    $('import').hidden = false;
}
load();
