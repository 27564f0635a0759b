// eligibilities.js - the backoffice's eligibilities (eligibilities.html; docs/web-pages.md):
// which test takers may sit which delivery at which test center, proctored or not. Lists
// those of the caller's centers (filtered by center and delivery), sets one (creating it, or
// replacing the test takers of the existing one) and deletes one. The server checks every
// login and says which are wrong (docs/api.md, "Backoffice: eligibilities").
import {api, el, query, say, showError, startPage, t} from '/admin/bo.js';

await startPage('eligibilities');
let rows = [];

function options(select, list, all)
{
    const opts = all ? [ el('option', {value : ''}, all) ] : [];
    for (const x of list)
        opts.push(el('option', {value : x.id}, x.label));
    const keep = select.value;
    select.replaceChildren(...opts);
    if ([...select.options].some((o) => o.value === keep))
        select.value = keep;
}

function render()
{
    const body = document.querySelector('#eligibilities tbody');
    body.replaceChildren(...rows.map((r) => el(
        'tr', null, el('th', {scope : 'row'}, r.center_label), el('td', null, r.delivery_label),
        el('td', null, r.proctored ? t('bo.common.yes') : t('bo.common.no')),
        el('td', null, r.test_takers.length ? r.test_takers.join(', ') : '-'),
        el('td', {class : 'actions'},
           el('button', {type : 'button', onclick : () => edit(r),
                         'aria-label' : t('bo.eligibilities.editOf', {center : r.center_label,
                                                                      delivery : r.delivery_label})},
              t('bo.common.edit')),
           el('button', {type : 'button', class : 'danger', onclick : () => remove(r),
                         'aria-label' : t('bo.eligibilities.deleteOf', {center : r.center_label,
                                                                        delivery : r.delivery_label})},
              t('bo.common.delete'))))));
    document.getElementById('empty').hidden = rows.length > 0;
}

async function load()
{
    try {
        const q = query({center : document.getElementById('f-center').value,
                         delivery : document.getElementById('f-delivery').value});
        rows = (await api('GET', `/api/v1/admin/eligibilities${q}`)).eligibilities;
        render();
    } catch (e) {
        showError('message', e);
    }
}

async function loadChoices()
{
    try {
        const [c, d] = await Promise.all(
            [ api('GET', '/api/v1/admin/centers'), api('GET', '/api/v1/admin/deliveries') ]);
        const centers = c.centers.map((x) => ({id : x.id, label : `${x.label} (${x.org_id})`}));
        const deliveries = d.deliveries.map(
            (x) => ({id : x.id, label : x.status === 'withdrawn' ? t('bo.eligibilities.withdrawn', {label : x.label}) : x.label}));
        options(document.getElementById('set-center'), centers);
        options(document.getElementById('set-delivery'), deliveries);
        options(document.getElementById('f-center'), centers, t('bo.eligibilities.allCenters'));
        options(document.getElementById('f-delivery'), deliveries, t('bo.eligibilities.allDeliveries'));
    } catch (e) {
        showError('message', e);
    }
}

// The logins typed: separated by commas, semicolons, spaces or lines; each once.
function logins(text)
{
    return [...new Set(text.split(/[\s,;|]+/).filter((s) => s))];
}

function edit(r)
{
    document.getElementById('set-center').value = r.center_id;
    document.getElementById('set-delivery').value = r.delivery_id;
    document.getElementById('set-takers').value = r.test_takers.join(', ');
    document.getElementById('set-proctored').value = r.proctored ? 'yes' : 'no';
    document.getElementById('set-takers').focus();
}

document.getElementById('set-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say('message', '');
    const p = document.getElementById('set-proctored').value;
    const body = {
        center : document.getElementById('set-center').value,
        delivery : document.getElementById('set-delivery').value,
        test_takers : logins(document.getElementById('set-takers').value),
        proctored : p === '' ? null : p === 'yes',
    };
    try {
        const r = await api('PUT', '/api/v1/admin/eligibilities', body);
        const el_ = r.eligibility;
        say('done', t(`bo.eligibilities.${el_.outcome}`, {center : el_.center_label,
                                                          delivery : el_.delivery_label,
                                                          n : el_.test_takers.length}), 'ok');
        await load();
    } catch (e) {
        showError('message', e);
        document.getElementById('set-takers').focus();
    }
});

async function remove(r)
{
    if (!window.confirm(t('bo.eligibilities.confirmDelete', {center : r.center_label,
                                                             delivery : r.delivery_label})))
        return;
    try {
        await api('DELETE', `/api/v1/admin/eligibilities/${encodeURIComponent(r.id)}`);
        say('done', t('bo.eligibilities.deleted', {center : r.center_label,
                                                   delivery : r.delivery_label}), 'ok');
        await load();
    } catch (e) {
        showError('message', e);
    }
}

for (const id of [ 'f-center', 'f-delivery' ])
    document.getElementById(id).addEventListener('change', load);
await loadChoices();
await load();
