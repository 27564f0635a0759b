// login.js - the login page (index.html): POST /api/v1/session with the login and password,
// then the page of the user's role. A sync manager the device does not know yet is enrolled
// with central by this same login (the server does it; it takes a few seconds).
import { loginPage, say, t, throttledWait } from '/lib.js';

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
  if (e.status === 429) return throttledWait(e);
  if (e.status === 400) return t('login.missing');
  if (e.status === 503 && e.code === 'central_unreachable') return t('login.centralDown');
  if (e.status === 503) return t('login.busy');
  if (e.status === 0) return t('error.network');
  return `${t('login.failed')} ${e.message || ''}`.trim();
}

loginPage({
  already: go,
  done: (s) => {
    if (s.device_enrolled) say('message', t('login.enrolled'), 'ok');
    go(s);
  },
  refusal,
});
