// bo.js - the shell every backoffice page shares (docs/web-pages.md, "Central's backoffice"):
// the session (back to the login page when there is none), the navigation, the header with
// the user and logout, and small helpers for lists. A page is web/admin/NAME.html with
// <nav id="bo-nav"> in its header and a module that starts with
//     const me = await startPage('NAME');   // NAME: one of PAGES below
// then fills <main>. Strings come from web/i18n/en.json ("bo.*" keys).
import {api, el, loadStrings, logout, say, setCsrf, t} from '/lib.js';

export const BO_HOME = '/admin/users.html';

// The pages of the navigation, in order: [name, path, string key].
export const PAGES = [
    [ 'users', '/admin/users.html', 'bo.nav.users' ],
    [ 'centers', '/admin/centers.html', 'bo.nav.centers' ],
    [ 'eligibilities', '/admin/eligibilities.html', 'bo.nav.eligibilities' ],
    [ 'deliveries', '/admin/deliveries.html', 'bo.nav.deliveries' ],
    [ 'devices', '/admin/devices.html', 'bo.nav.devices' ],
    [ 'sync-history', '/admin/sync-history.html', 'bo.nav.syncHistory' ],
    [ 'results', '/admin/results.html', 'bo.nav.results' ],
];

// A ?next= value that is one of our own pages (never another site), or null.
export function safeNext(v)
{
    if (!v || typeof v !== 'string')
        return null;
    return /^\/admin\/[a-z0-9-]+\.html(\?[^#]*)?$/.test(v) ? v : null;
}

export function toLogin()
{
    const next = location.pathname + location.search;
    location.assign(`/admin/index.html?next=${encodeURIComponent(next)}`);
}

// Builds the navigation into <nav id="bo-nav">, the current page marked aria-current.
function buildNav(current)
{
    const nav = document.getElementById('bo-nav');
    if (!nav)
        return;
    nav.setAttribute('aria-label', t('bo.nav.label'));
    const ul = el('ul', {class : 'bo-nav'});
    for (const [name, path, key] of PAGES) {
        const a = el('a', {href : path}, t(key));
        if (name === current)
            a.setAttribute('aria-current', 'page');
        ul.append(el('li', null, a));
    }
    nav.replaceChildren(ul);
}

// The caller ({user: {id, login, label, role, super}, centers: [ids]}) once the page is set
// up; the login page when there is no session (never returns then).
export async function startPage(name)
{
    await loadStrings();
    let s;
    try {
        s = await api('GET', '/api/v1/session');
    } catch (e) {
        toLogin();
        return new Promise(() => {});
    }
    setCsrf(s.csrf);
    let me;
    try {
        me = await api('GET', '/api/v1/admin/me');
    } catch (e) {
        if (e.status === 401) {
            toLogin();
            return new Promise(() => {});
        }
        throw e;
    }
    buildNav(name);
    const who = document.getElementById('who');
    if (who)
        who.textContent = me.user.label || me.user.login;
    const out = document.getElementById('logout');
    if (out)
        out.addEventListener('click', async () => { await logout(); });
    for (const b of document.querySelectorAll('dialog .dialog-cancel')) {
        b.addEventListener('click', () => b.closest('dialog').close('cancel'));
    }
    return me;
}

// The words for an API error in a page's status region.
export function errorText(e)
{
    if (!e)
        return '';
    if (e.status === 0)
        return t('bo.error.network');
    if (e.status === 401)
        return t('error.session');
    if (e.status === 403)
        return t('error.forbidden');
    if (e.status === 409)
        return t('error.conflict');
    return t('error.generic', {message : e.message || e.code || String(e.status)});
}

// Shows an API error in the status region `id` (and goes to the login page on 401).
export function showError(id, e)
{
    if (e && e.status === 401) {
        toLogin();
        return;
    }
    say(id, errorText(e), 'error');
}

// A query string from an object, leaving out empty values.
export function query(params)
{
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) {
        if (v !== undefined && v !== null && v !== '')
            q.set(k, String(v));
    }
    const s = q.toString();
    return s ? `?${s}` : '';
}

export {api, el, say, t};
