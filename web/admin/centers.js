// centers.js - the backoffice's test centers (centers.html; docs/web-pages.md): the centers
// the caller reaches with their organisation id, parent and staff; add one (the super-user a
// top-level one too, an administrator a sub-center of theirs), edit its label, organisation
// id and parent (with the version read: a change made meanwhile is refused, 409, and the
// list read again), delete it, assign and unassign administrators and proctors. The server
// decides who may do what (docs/api.md, "Backoffice: test centers").
import {api, el, say, showError, startPage, t} from '/admin/bo.js';

const me = await startPage('centers');
let centers = [];
let editing = null; // the center being edited or staffed

// Fills a parent <select>: "none" (the super-user only, or the center's own state), then
// every center but `except`.
function fillParents(select, except, current)
{
    const opts = [];
    if (me.user.super || current === null)
        opts.push(el('option', {value : ''}, t('bo.centers.noParent')));
    for (const c of centers) {
        if (c.id !== except)
            opts.push(el('option', {value : c.id}, `${c.label} (${c.org_id})`));
    }
    select.replaceChildren(...opts);
    select.value = current || '';
}

function staffText(list)
{
    return list.length ? list.join(', ') : '-';
}

function render()
{
    const body = document.querySelector('#centers tbody');
    body.replaceChildren(...centers.map((c) => el(
        'tr', null, el('th', {scope : 'row'}, c.label), el('td', null, c.org_id),
        el('td', null, c.parent_label || '-'), el('td', null, staffText(c.admins)),
        el('td', null, staffText(c.proctors)),
        el('td', {class : 'actions'},
           el('button', {type : 'button', onclick : () => openEdit(c),
                         'aria-label' : t('bo.centers.editOf', {label : c.label})},
              t('bo.common.edit')),
           el('button', {type : 'button', onclick : () => openStaff(c),
                         'aria-label' : t('bo.centers.staffOf', {label : c.label})},
              t('bo.centers.staff')),
           el('button', {type : 'button', class : 'danger', onclick : () => remove(c),
                         'aria-label' : t('bo.centers.deleteOf', {label : c.label})},
              t('bo.common.delete'))))));
    document.getElementById('empty').hidden = centers.length > 0;
    fillParents(document.getElementById('add-parent'), null, me.user.super ? '' : centers.length ? centers[0].id : '');
}

async function load()
{
    try {
        centers = (await api('GET', '/api/v1/admin/centers')).centers;
        render();
    } catch (e) {
        showError('message', e);
    }
}

document.getElementById('add-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say('message', '');
    const parent = document.getElementById('add-parent').value;
    const body = {
        label : document.getElementById('add-label').value.trim(),
        org_id : document.getElementById('add-org').value.trim(),
        parent_id : parent || null,
    };
    try {
        const r = await api('POST', '/api/v1/admin/centers', body);
        say('done', t('bo.centers.added', {label : r.center.label}), 'ok');
        document.getElementById('add-form').reset();
        await load();
    } catch (e) {
        showError('message', e);
    }
});

function openEdit(c)
{
    editing = c;
    say('edit-message', '');
    document.getElementById('edit-label').value = c.label;
    document.getElementById('edit-org').value = c.org_id;
    fillParents(document.getElementById('edit-parent'), c.id, c.parent_id);
    document.getElementById('edit').showModal();
    document.getElementById('edit-label').focus();
}

document.getElementById('edit-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const c = editing;
    const body = {version : c.version};
    const label = document.getElementById('edit-label').value.trim();
    const org = document.getElementById('edit-org').value.trim();
    const parent = document.getElementById('edit-parent').value;
    if (label !== c.label)
        body.label = label;
    if (org !== c.org_id)
        body.org_id = org;
    if (parent !== (c.parent_id || ''))
        body.parent_id = parent || null;
    if (Object.keys(body).length === 1) {
        document.getElementById('edit').close();
        return;
    }
    try {
        const r = await api('PUT', `/api/v1/admin/centers/${encodeURIComponent(c.id)}`, body);
        document.getElementById('edit').close();
        say('done', t('bo.centers.saved', {label : r.center.label}), 'ok');
        await load();
    } catch (e) {
        showError('edit-message', e);
        if (e.status === 409)
            await load(); /* changed meanwhile: the list shows it as it is now */
    }
});

function renderStaff(c)
{
    document.getElementById('staff-heading').textContent = t('bo.centers.staffOf', {label : c.label});
    const items = [];
    for (const [duty, list] of [[ 'admin', c.admins ], [ 'proctor', c.proctors ]]) {
        for (const login of list) {
            const role = duty === 'admin' ? t('bo.centers.dutyAdmin') : t('bo.centers.dutyProctor');
            items.push(el('li', null, `${login} (${role}) `,
                          el('button', {type : 'button', onclick : () => unassign(c, login, duty),
                                        'aria-label' : t('bo.centers.unassignOf', {login, role})},
                             t('bo.centers.unassign'))));
        }
    }
    if (!items.length)
        items.push(el('li', null, t('bo.centers.noStaff')));
    document.getElementById('staff-list').replaceChildren(...items);
}

function openStaff(c)
{
    editing = c;
    say('staff-message', '');
    renderStaff(c);
    document.getElementById('staff').showModal();
    document.getElementById('staff-login').focus();
}

document.getElementById('staff-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const c = editing;
    const body = {
        login : document.getElementById('staff-login').value.trim(),
        duty : document.getElementById('staff-duty').value,
    };
    try {
        const r = await api('POST', `/api/v1/admin/centers/${encodeURIComponent(c.id)}/staff`, body);
        editing = r.center;
        renderStaff(r.center);
        document.getElementById('staff-login').value = '';
        say('staff-message', t('bo.centers.assigned', {login : body.login}), 'ok');
        await load();
    } catch (e) {
        showError('staff-message', e);
    }
});

async function unassign(c, login, duty)
{
    try {
        const r = await api('DELETE', `/api/v1/admin/centers/${encodeURIComponent(c.id)}/staff/${
                                          duty}/${encodeURIComponent(login)}`);
        editing = r.center;
        renderStaff(r.center);
        say('staff-message', t('bo.centers.unassigned', {login}), 'ok');
        await load();
    } catch (e) {
        showError('staff-message', e);
    }
}

async function remove(c)
{
    if (!window.confirm(t('bo.centers.confirmDelete', {label : c.label})))
        return;
    try {
        await api('DELETE', `/api/v1/admin/centers/${encodeURIComponent(c.id)}`);
        say('done', t('bo.centers.deleted', {label : c.label}), 'ok');
        await load();
    } catch (e) {
        showError('message', e);
    }
}

await load();
