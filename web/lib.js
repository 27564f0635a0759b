// lib.js - what every page of the device shares: translated strings (web/i18n/LANG.json),
// calls to the JSON API under /api/v1 with the session's CSRF token, and a small helper that
// builds DOM nodes (the pages never assign HTML strings to innerHTML).

let strings = {};
let csrf = null;

// Loads the strings of the device's language (the lang attribute the server writes on <html>,
// "en" otherwise), falling back to English for a missing file or key.
export async function loadStrings() {
  const lang = (document.documentElement.lang || 'en').replace(/[^a-zA-Z-]/g, '') || 'en';
  const get = async (l) => {
    const r = await fetch(`/i18n/${l}.json`, { credentials: 'same-origin' });
    if (!r.ok) throw new Error(`strings ${l}: ${r.status}`);
    return r.json();
  };
  const en = await get('en');
  let own = {};
  if (lang !== 'en') {
    try { own = await get(lang); } catch (e) { own = {}; }
  }
  strings = Object.assign({}, en, own);
  translatePage(document);
  return strings;
}

// The string `key` with {name} placeholders replaced from `vars`; the key itself when missing
// (a visible sign that a string is missing, never an empty control).
export function t(key, vars) {
  // a text counting {n} may have its singular as KEY.one ("1 result", not "1 results")
  if (vars && vars.n === 1 && Object.prototype.hasOwnProperty.call(strings, `${key}.one`)) key = `${key}.one`;
  let s = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  if (vars) {
    s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined || vars[k] === null ? m : String(vars[k])));
  }
  return s;
}

// Fills the static strings of a page: data-i18n (text), data-i18n-label (aria-label),
// data-i18n-title (title), data-i18n-placeholder.
export function translatePage(root) {
  for (const n of root.querySelectorAll('[data-i18n]')) n.textContent = t(n.dataset.i18n);
  for (const n of root.querySelectorAll('[data-i18n-label]')) n.setAttribute('aria-label', t(n.dataset.i18nLabel));
  for (const n of root.querySelectorAll('[data-i18n-title]')) n.title = t(n.dataset.i18nTitle);
  for (const n of root.querySelectorAll('[data-i18n-placeholder]')) n.placeholder = t(n.dataset.i18nPlaceholder);
  if (document.title && strings[document.title]) document.title = t(document.title);
}

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

// Calls the API: JSON in and out, the CSRF token on every change. Throws ApiError.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (csrf) headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', t('error.network'));
  }
  let data = null;
  const text = await r.text();
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!r.ok) {
    const err = data && (data.error || data);
    const code = err && typeof err === 'object' ? err.code : undefined;
    const msg = err && typeof err === 'object' ? err.message : undefined;
    throw new ApiError(r.status, code, msg, data);
  }
  return data;
}

// The signed-in user ({user, csrf}), or a redirect to the login page when there is none or
// it lacks `role`.
export async function requireSession(role) {
  let s;
  try {
    s = await api('GET', '/api/v1/session');
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      toLogin();
      return new Promise(() => {});
    }
    throw e;
  }
  csrf = s.csrf || null;
  const roles = (s.user && s.user.roles) || [];
  if (role && !roles.includes(role)) {
    toLogin();
    return new Promise(() => {});
  }
  return s;
}

export function setCsrf(token) { csrf = token; }

// The session's CSRF token, for a request made without api() (an upload by XMLHttpRequest).
export function csrfToken() { return csrf; }

export function toLogin() {
  const next = location.pathname.replace(/^\//, '');
  location.assign(`/index.html?next=${encodeURIComponent(next)}`);
}

export async function logout() {
  try { await api('DELETE', '/api/v1/session'); } catch (e) { /* gone already */ }
  location.assign('/index.html');
}

// Wires the page header: user's name and the logout button (ids "who" and "logout").
export function wireHeader(session) {
  // The Cancel button of every dialog closes it (type=button, so that Enter in a field
  // submits with the dialog's Confirm button).
  for (const b of document.querySelectorAll('dialog .dialog-cancel')) {
    b.addEventListener('click', () => b.closest('dialog').close('cancel'));
  }
  const who = document.getElementById('who');
  if (who && session && session.user) who.textContent = session.user.label || session.user.login || '';
  const out = document.getElementById('logout');
  if (out) out.addEventListener('click', () => logout());
}

// el('button', {class: 'x', onclick: f, 'aria-label': '..'}, 'text', child, ...)
export function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') n.addEventListener(k.slice(2), v);
      else if (k === 'class') n.className = v;
      else if (k === 'text') n.textContent = v;
      else if (k === 'dataset') Object.assign(n.dataset, v);
      else if (k in n && typeof v !== 'string') n[k] = v;
      else n.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return n;
}

// "12:05" or "1:02:03" from seconds.
export function formatDuration(secs) {
  if (secs === null || secs === undefined || !isFinite(secs)) return '';
  const s = Math.max(0, Math.floor(secs));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const p = (x) => String(x).padStart(2, '0');
  return h ? `${h}:${p(m)}:${p(r)}` : `${m}:${p(r)}`;
}

export function formatBytes(n) {
  if (n === null || n === undefined) return '';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0, v = Number(n);
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return `${i ? v.toFixed(1) : v} ${u[i]}`;
}

export function formatTime(v) {
  if (v === null || v === undefined || v === '') return '';
  const d = typeof v === 'number' ? new Date(v * 1000) : new Date(v);
  return isNaN(d) ? String(v) : d.toLocaleString();
}

// Polls `fn` every `ms` while the page is visible; returns a stop function.
export function poll(fn, ms) {
  let timer = null, stopped = false;
  const tick = async () => {
    if (stopped) return;
    try { await fn(); } catch (e) { /* the page shows its own error */ }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

// Sets a live status region's text (role="status" or "alert" in the page).
export function say(id, text, kind) {
  const n = document.getElementById(id);
  if (!n) return;
  n.textContent = text || '';
  n.dataset.kind = kind || '';
  n.hidden = !text;
}

// The login form of index.html and admin/index.html (#login-form, #login, #password,
// #submit, #message): a session already open goes on at once (opts.already(session) returns
// true when it went somewhere); else the form, checked before it is sent, then
// POST /api/v1/session and opts.done(session); a refusal is said with opts.refusal(error)
// (never the server's words for a wrong password) and the password is cleared.
export async function loginPage(opts) {
  await loadStrings();
  const form = document.getElementById('login-form');
  const login = document.getElementById('login');
  const password = document.getElementById('password');
  const submit = document.getElementById('submit');
  try {
    const s = await api('GET', '/api/v1/session');
    setCsrf(s.csrf);
    if (opts.already(s)) return;
  } catch (e) {
    /* not logged in: the form */
  }
  // sent here by a page whose session is gone (toLogin adds ?next=)
  if (new URLSearchParams(location.search).has('next')) say('message', t('login.again'), 'warn');
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
      opts.done(s);
    } catch (e) {
      say('message', opts.refusal(e), 'error');
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
  // The button is off in the HTML until the form is listened to: pressed before, the browser
  // would send the form itself, the password in the address (GET). The focus says it is ready.
  submit.disabled = false;
  login.focus();
}

// The words for a throttled login (429): the wait in minutes, from the server's seconds.
export function throttledWait(e) {
  const m = /(\d+) seconds/.exec(e.message || '');
  const minutes = m ? Math.max(1, Math.ceil(Number(m[1]) / 60)) : 15;
  return t('login.throttled', { minutes });
}
