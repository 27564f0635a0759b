// login.js - the login page (index.html): POST /api/v1/session with the login and password,
// then the page of the user's role. A sync manager the device does not know yet is enrolled
// with central by this same login (the server does it; it takes a few seconds).
import { api, loadStrings, say, setCsrf, t } from '/lib.js';

// The page of each role; a role without one (test center administrators) stays here.
const PAGES = { test_taker: '/take.html', proctor: '/proctor.html', sync_manager: '/sync.html' };

function pageFor(session) {
  const roles = (session && session.user && session.user.roles) || [];
  for (const r of roles) if (PAGES[r]) return PAGES[r];
  return null;
}

function go(session) {
  const page = pageFor(session);
  if (page) {
    location.assign(page);
    return true;
  }
  say('message', t('login.noPage'), 'warn');
  return false;
}

// The words for a refused login: never the server's own message for a wrong password (one
// answer for a wrong login and a wrong password), the wait for a throttled one.
function refusal(e) {
  if (e.status === 401) return t('login.wrong');
  if (e.status === 429) {
    const m = /(\d+) seconds/.exec(e.message || '');
    const minutes = m ? Math.max(1, Math.ceil(Number(m[1]) / 60)) : 15;
    return t('login.throttled', { minutes });
  }
  if (e.status === 400) return t('login.missing');
  if (e.status === 503 && e.code === 'central_unreachable') return t('login.centralDown');
  if (e.status === 503) return t('login.busy');
  if (e.status === 0) return t('error.network');
  return `${t('login.failed')} ${e.message || ''}`.trim();
}

async function main() {
  await loadStrings();
  const form = document.getElementById('login-form');
  const login = document.getElementById('login');
  const password = document.getElementById('password');
  const submit = document.getElementById('submit');

  // already logged in (another tab, a reload): straight to the page
  try {
    const s = await api('GET', '/api/v1/session');
    setCsrf(s.csrf);
    if (go(s)) return;
  } catch (e) {
    /* not logged in: the form */
  }
  // sent here by a page whose session is gone (lib.js toLogin adds ?next=)
  if (new URLSearchParams(location.search).has('next')) say('message', t('login.again'), 'warn');
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
      const s = await api('POST', '/api/v1/session', { login: login.value.trim(), password: password.value });
      setCsrf(s.csrf);
      password.value = '';
      if (s.device_enrolled) say('message', t('login.enrolled'), 'ok');
      go(s);
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
