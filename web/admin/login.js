// login.js - the backoffice's login page (admin/index.html): POST /api/v1/session on central,
// then the page the person came from (?next=) or the users page. Test takers, proctors and
// sync managers are refused by the server (403 not_backoffice) and told where to go instead.
import {api, loadStrings, say, setCsrf, t} from '/lib.js';
import {BO_HOME, safeNext} from '/admin/bo.js';

function refusal(e)
{
    if (e.status === 401)
        return t('login.wrong');
    if (e.status === 403 && e.code === 'not_backoffice')
        return t('bo.login.notBackoffice');
    if (e.status === 429) {
        const m = /(\d+) seconds/.exec(e.message || '');
        const minutes = m ? Math.max(1, Math.ceil(Number(m[1]) / 60)) : 15;
        return t('login.throttled', {minutes});
    }
    if (e.status === 400)
        return t('login.missing');
    if (e.status === 503)
        return t('bo.login.busy');
    if (e.status === 0)
        return t('bo.error.network');
    return `${t('login.failed')} ${e.message || ''}`.trim();
}

function goOn()
{
    location.assign(safeNext(new URLSearchParams(location.search).get('next')) || BO_HOME);
}

async function main()
{
    await loadStrings();
    const form = document.getElementById('login-form');
    const login = document.getElementById('login');
    const password = document.getElementById('password');
    const submit = document.getElementById('submit');
    try {
        const s = await api('GET', '/api/v1/session');
        setCsrf(s.csrf);
        goOn();
        return;
    } catch (e) {
        /* not logged in: the form */
    }
    if (new URLSearchParams(location.search).has('next'))
        say('message', t('login.again'), 'warn');
    login.focus();
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        login.removeAttribute('aria-invalid');
        password.removeAttribute('aria-invalid');
        if (!login.value.trim() || !password.value) {
            const empty = !login.value.trim() ? login : password;
            empty.setAttribute('aria-invalid', 'true');
            say('message', t('login.missing'), 'error');
            empty.focus();
            return;
        }
        submit.disabled = true;
        say('message', t('login.checking'), '');
        try {
            const s = await api('POST', '/api/v1/session',
                                {login : login.value.trim(), password : password.value});
            setCsrf(s.csrf);
            password.value = '';
            goOn();
        } catch (e) {
            say('message', refusal(e), 'error');
            password.value = '';
            if (e.status === 401) {
                login.setAttribute('aria-invalid', 'true');
                password.setAttribute('aria-invalid', 'true');
            }
            password.focus();
        } finally {
            submit.disabled = false;
        }
    });
}

main();
