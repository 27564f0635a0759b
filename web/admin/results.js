// results.js - the backoffice's results tab (results.html; docs/api.md "Results"): the results
// of one delivery (GET /api/v1/admin/results, filtered, in keyset pages newest first), the
// score distribution drawn here as SVG (GET .../results/distribution), one result with its
// answers, scores and audit log, whose hash chain central verified (GET .../results/{id}), the
// review of a result held for review (POST .../{id}/accept|reject), "decrypt pending" for the
// super-user (POST .../results/decrypt) and the export links (GET .../results/export).
// ?delivery= preselects a delivery.
import {api, el, query, say, showError, startPage, t} from '/admin/bo.js';
import {formatTime} from '/lib.js';

const me = await startPage('results');

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const delivery = $('delivery'), center = $('center'), status = $('status'), state = $('state');
const from = $('from'), to = $('to'), search = $('search');
let shownId = null;

function filters()
{
    return {
        delivery : delivery.value,
        center : center.value,
        status : status.value,
        state : state.value,
        from : from.value,
        to : to.value,
        search : search.value.trim()
    };
}

// A value of a result (a number, a text, a list, a record) as text.
function valueText(v)
{
    if (v === null || v === undefined)
        return '';
    if (typeof v === 'number')
        return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
    if (typeof v === 'string')
        return v;
    if (Array.isArray(v))
        return v.map(valueText).join(', ');
    if (typeof v === 'object')
        return Object.entries(v)
            .map(([ k, x ]) => `${k}: ${valueText(x && x.value !== undefined ? x.value : x)}`)
            .join('; ');
    return String(v);
}

function varsText(o)
{
    return Object.entries(o || {}).map(([ k, v ]) => `${k} = ${valueText(v)}`).join('; ');
}

// An item's responses; a file the test taker gave (an upload, a drawing) as a link that
// downloads it (its bytes are not in the result's JSON the page reads).
function varsCell(id, key, o)
{
    const out = [];
    for (const [k, v] of Object.entries(o || {})) {
        if (out.length)
            out.push('; ');
        if (v && typeof v === 'object' && v.file === true) {
            const href = `/api/v1/admin/results/${encodeURIComponent(id)}/files/${
                encodeURIComponent(key)}/${encodeURIComponent(k)}`;
            out.push(`${k} = `, el('a', {href, download : v.name || 'file', class : 'result-file'},
                                   t('bo.results.file', {
                                       name : v.name || 'file',
                                       type : v.type || '',
                                       size : v.size === undefined ? '?' : v.size
                                   })));
        } else {
            out.push(`${k} = ${valueText(v)}`);
        }
    }
    return out;
}

function scoreText(r)
{
    if (r.score === null || r.score === undefined)
        return '';
    return r.max_score === null || r.max_score === undefined
               ? valueText(r.score)
               : t('bo.results.scoreOf',
                   {score : valueText(r.score), max : valueText(r.max_score)});
}

function statusText(r)
{
    const s = t(`bo.results.st.${r.status}`);
    return r.review ? `${s}, ${t(`bo.results.st.${r.review}`)}` : s;
}

function takerText(r)
{
    const tk = r.test_taker || {};
    if (!tk.login)
        return tk.id;
    return tk.label && tk.label !== tk.login ? `${tk.label} (${tk.login})` : tk.login;
}

function row(r)
{
    const b =
        el('button', {type : 'button', onclick : () => showResult(r.id)}, t('bo.results.open'));
    b.setAttribute('aria-label',
                   t('bo.results.openOf', {who : takerText(r), when : formatTime(r.started_at)}));
    return el('tr', {dataset : {id : r.id}}, el('th', {scope : 'row'}, takerText(r)),
              el('td', null, r.center ? (r.center.label || r.center.id) : ''),
              el('td', null, r.device ? (r.device.label || r.device.id) : ''),
              el('td', null, formatTime(r.started_at)), el('td', null, formatTime(r.ended_at)),
              el('td', null, t(`bo.results.state.${r.state}`)),
              el('td', {class : `result-${r.status}`}, statusText(r)),
              el('td', {class : 'num'}, scoreText(r)),
              el('td', {class : 'outcomes'}, varsText(r.outcomes)), el('td', null, b));
}

function exportHref(format)
{
    return `/api/v1/admin/results/export${query({...filters(), format})}`;
}

// The number of the last load asked for: the server answers in parallel, and the answer of a
// load asked before a filter changed may come after the new one's; it is dropped.
let loads = 0;

async function load(key)
{
    if (!delivery.value)
        return;
    const n = ++loads;
    try {
        const page = await api('GET', `/api/v1/admin/results${query({...filters(), after : key})}`);
        if (n !== loads)
            return;
        $('rows').replaceChildren(...page.results.map(row));
        $('none').hidden = page.results.length > 0;
        if (page.total !== null) /* the first page's; the pages after it keep it */
            $('count').textContent = t('bo.results.count', {n : page.total, delivery : page.delivery.label});
        const more = $('more');
        more.hidden = !page.next;
        more.dataset.next = page.next || '';
        $('first').hidden = !key;
        $('export-csv').href = exportHref('csv');
        $('export-xml').href = exportHref('qti-xml');
        say('message', '');
        if (!key)
            await drawDistribution(n);
    } catch (e) {
        showError('message', e);
    }
}

// ---- the score distribution, drawn as SVG (no library) ----

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children)
{
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {}))
        n.setAttribute(k, String(v));
    for (const c of children)
        n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return n;
}

async function drawDistribution(n)
{
    let d;
    try {
        d = await api('GET',
                      `/api/v1/admin/results/distribution${query({...filters(), buckets : 10})}`);
    } catch (e) {
        showError('message', e);
        return;
    }
    if (n !== loads)
        return; /* a newer load draws it */
    const box = $('dist');
    if (!d.scored) {
        box.hidden = true;
        return;
    }
    const W = 640, H = 240, left = 44, bottom = 40, top = 12, right = 12;
    const max = Math.max(1, ...d.buckets.map((b) => b.count));
    const bw = (W - left - right) / d.buckets.length;
    const y = (n) => top + (H - top - bottom) * (1 - n / max);
    const desc = t('bo.results.distDesc', {
        n : d.scored,
        scored : d.scored,
        min : valueText(d.min),
        max : valueText(d.max),
        mean : valueText(d.mean)
    });
    const chart = svg('svg', {
        viewBox : `0 0 ${W} ${H}`,
        role : 'img',
        'aria-labelledby' : 'dist-svg-title dist-svg-desc',
        class : 'dist-chart',
        width : '100%'
    },
                      svg('title', {id : 'dist-svg-title'}, t('bo.results.distTitle')),
                      svg('desc', {id : 'dist-svg-desc'}, desc));
    // axes
    chart.append(
        svg('line', {x1 : left, y1 : H - bottom, x2 : W - right, y2 : H - bottom, class : 'axis'}));
    chart.append(svg('line', {x1 : left, y1 : top, x2 : left, y2 : H - bottom, class : 'axis'}));
    chart.append(svg('text', {x : left - 6, y : top + 10, 'text-anchor' : 'end', class : 'tick'},
                     String(max)));
    chart.append(
        svg('text', {x : left - 6, y : H - bottom, 'text-anchor' : 'end', class : 'tick'}, '0'));
    d.buckets.forEach((b, i) => {
        const x = left + i * bw;
        const label =
            t('bo.results.bucket', {from : valueText(b.from), to : valueText(b.to), n : b.count});
        const bar = svg('rect', {
            x : x + 2,
            y : y(b.count),
            width : Math.max(1, bw - 4),
            height : H - bottom - y(b.count),
            class : 'bar'
        },
                        svg('title', null, label));
        bar.dataset.count = String(b.count);
        chart.append(bar);
        if (b.count > 0)
            chart.append(
                svg('text',
                    {x : x + bw / 2, y : y(b.count) - 3, 'text-anchor' : 'middle', class : 'tick'},
                    String(b.count)));
        chart.append(svg(
            'text', {x : x + bw / 2, y : H - bottom + 16, 'text-anchor' : 'middle', class : 'tick'},
            valueText(b.from)));
    });
    chart.append(svg('text',
                     {x : (W + left) / 2, y : H - 4, 'text-anchor' : 'middle', class : 'tick'},
                     t('bo.results.axisScore')));
    $('dist-chart').replaceChildren(chart);
    $('dist-summary').textContent = desc;
    box.hidden = false;
}

// ---- one result ----

async function showResult(id)
{
    let r;
    try {
        r = (await api('GET', `/api/v1/admin/results/${encodeURIComponent(id)}`)).result;
    } catch (e) {
        showError('message', e);
        return;
    }
    shownId = id;
    $('detail-title').textContent =
        t('bo.results.resultOf', {who : takerText(r), when : formatTime(r.started_at)});
    const fact = (k, v) => [el('dt', null, t(k)), el('dd', null, v)];
    $('detail-facts')
        .replaceChildren(
            ...fact('bo.results.delivery', r.delivery_label || r.delivery_id),
            ...fact('bo.results.col.center', r.center ? (r.center.label || r.center.id) : ''),
            ...fact('bo.results.col.device', r.device ? (r.device.label || r.device.id) : ''),
            ...fact('bo.results.col.started', formatTime(r.started_at)),
            ...fact('bo.results.col.ended', formatTime(r.ended_at)),
            ...fact('bo.results.col.state',
                    t(`bo.results.state.${r.state}`) +
                        (r.outcome_partial ? ` (${t('bo.results.partial')})` : '')),
            ...fact('bo.results.col.status',
                    statusText(r) + (r.review_reason ? ` — ${r.review_reason}` : '')),
            ...fact('bo.results.col.score', scoreText(r)),
            ...fact('bo.results.col.outcomes', varsText(r.outcomes)),
            ...fact('bo.results.resultId', r.id));
    $('review').hidden = r.review !== 'quarantined';
    const xml = $('detail-xml');
    xml.href = `/api/v1/admin/results/${encodeURIComponent(r.id)}/qti-xml`;
    xml.parentElement.hidden = r.status !== 'decrypted';
    const items = r.items || [];
    $('items-none').hidden = r.items !== null && r.items !== undefined;
    $('items').hidden = !r.items;
    $('item-rows')
        .replaceChildren(...items.map(
            (it) => el(
                'tr', null,
                el('th', {scope : 'row'}, it.identifier ? `${it.key} (${it.identifier})` : it.key),
                el('td', null, varsCell(r.id, it.key, it.responses || it.values)),
                el('td', null, varsText(it.outcomes)))));
    const verdict = $('audit-verdict');
    const audit = r.audit;
    if (!audit) {
        verdict.textContent = t('bo.results.auditNone');
        verdict.className = '';
    } else if (audit.verified) {
        verdict.textContent = t('bo.results.auditOk', {n : audit.entries.length});
        verdict.className = 'audit-ok';
    } else {
        verdict.textContent =
            t('bo.results.auditBroken', {seq : audit.broken_at, why : audit.problem || ''});
        verdict.className = 'audit-broken';
    }
    $('audit').hidden = !audit;
    $('audit-rows').replaceChildren(...(audit ? audit.entries : []).map((a) => {
        const bad = audit && !audit.verified && a.seq >= audit.broken_at;
        return el('tr', {class : bad ? 'audit-bad' : null},
                  el('th', {scope : 'row'}, String(a.seq)), el('td', null, formatTime(a.at)),
                  el('td', null, actorText(a, r)), el('td', null, a.action),
                  el('td', null, a.from ? `${a.from} → ${a.to}` : a.to),
                  el('td', null, typeof a.detail === 'string' ? a.detail : varsText(a.detail)));
    }));
    const box = $('detail');
    box.hidden = false;
    box.focus();
}

// Who did an audit entry: the role's name, then the test taker's login for their own entries
// (the result names them), the user id for anyone else.
function actorText(a, r)
{
    const key = `bo.role.${a.actor_role}`;
    const role = t(key) === key ? a.actor_role : t(key);
    const taker = r.test_taker || {};
    return `${role} ${a.actor_id === taker.id && taker.login ? taker.login : a.actor_id}`;
}

async function review(accept)
{
    if (!shownId)
        return;
    const body = accept ? {} : {reason : $('reason').value};
    try {
        await api(
            'POST',
            `/api/v1/admin/results/${encodeURIComponent(shownId)}/${accept ? 'accept' : 'reject'}`,
            body);
        // decided: the buttons go at once, not after the reload below (no second click)
        $('review').hidden = true;
        say('done', t(accept ? 'bo.results.accepted' : 'bo.results.rejected'));
        const id = shownId;
        await load(null);
        await showResult(id);
    } catch (e) {
        showError('message', e);
    }
}

async function decrypt()
{
    const b = $('decrypt');
    b.disabled = true;
    say('done', t('bo.results.decrypting'));
    try {
        const out = await api('POST', '/api/v1/admin/results/decrypt', {delivery : delivery.value});
        say('done', t('bo.results.decrypted',
                      {n : out.decrypted, damaged : out.damaged, waiting : out.missing_key}));
        await load(null);
    } catch (e) {
        say('done', '');
        showError('message', e);
    } finally {
        b.disabled = false;
    }
}

// The deliveries and, for the center filter, the centers the caller reaches.
async function loadChoices()
{
    try {
        const ds = await api('GET', '/api/v1/admin/deliveries');
        for (const d of ds.deliveries || [])
            delivery.append(el('option', {value : d.id}, d.label));
    } catch (e) {
        showError('message', e);
    }
    try {
        const cs = await api('GET', '/api/v1/admin/centers');
        for (const c of cs.centers || [])
            center.append(el('option', {value : c.id}, c.label));
    } catch (e) {
        /* the filter stays "every center" */
    }
    const wanted = params.get('delivery');
    if (wanted && [...delivery.options ].some((o) => o.value === wanted))
        delivery.value = wanted;
    if (!delivery.options.length) {
        delivery.append(el('option', {value : ''}, t('bo.results.noDelivery')));
    }
}

$('filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    load(null);
});
delivery.addEventListener('change', () => load(null));
$('more').addEventListener('click', (ev) => load(ev.target.dataset.next));
$('first').addEventListener('click', () => load(null));
$('accept').addEventListener('click', () => review(true));
$('reject').addEventListener('click', () => review(false));
$('decrypt').hidden = !me.user.super;
$('decrypt').addEventListener('click', decrypt);
await loadChoices();
await load(null);
