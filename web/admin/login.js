// login.js - the backoffice's login page (admin/index.html): POST /api/v1/session on central,
// then the page the person came from (?next=) or the users page. Test takers, proctors and
// sync managers are refused by the server (403 not_backoffice) and told where to go instead.
import {loginPage, t, throttledWait} from '/lib.js';
import {BO_HOME, safeNext} from '/admin/bo.js';

function refusal(e)
{
    if (e.status === 401)
        return t('login.wrong');
    if (e.status === 403 && e.code === 'not_backoffice')
        return t('bo.login.notBackoffice');
    if (e.status === 429)
        return throttledWait(e);
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

loginPage({
    already : () => {
        goOn();
        return true;
    },
    done : goOn,
    refusal,
});
