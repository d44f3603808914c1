/* mamori console: plain JavaScript, no framework, no build step.
 *
 * Pages by URL hash: #/findings (table, filters, chart), #/finding/ID
 * (detail, playbook, archive, suppress), #/rules (suppression rules =
 * GuardDuty filters), #/lists (threat lists), #/system (the daemon's
 * health: counters, queues, dead letters). Data comes from
 * /console/api/: the session, the findings table (server-side filtering
 * and paging: only the visible page of rows is ever rendered), and
 * GuardDuty's own operations under /console/api/gd/. Every request that
 * changes state carries the session's X-CSRF-Token. Text from findings
 * only ever reaches the page as textContent, never as HTML.
 *
 * Roles (viewer, analyst, admin): the page hides what the user's role
 * cannot do; the server refuses it anyway (403). */
'use strict';

const S = { user: '', csrf: '', det: '', role: 'viewer', page: 0, pageSize: 50, filter: null };
const RANK = { viewer: 1, analyst: 2, admin: 3 };
/* may the signed-in user act at this role's level? */
const can = (role) => (RANK[S.role] || 0) >= RANK[role];
const $ = (sel) => document.querySelector(sel);

/* h('tag.cls#id', {attr: v, onclick: f}, child...) */
function h(spec, attrs, ...kids) {
  const m = spec.match(/^([a-z0-9]+)((?:[.#][\w-]+)*)$/i);
  const el = document.createElement(m[1]);
  (m[2].match(/[.#][\w-]+/g) || []).forEach((p) => {
    if (p[0] === '.') el.classList.add(p.slice(1)); else el.id = p.slice(1);
  });
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

async function api(method, path, body) {
  const opt = { method, credentials: 'same-origin', headers: {} };
  if (method !== 'GET') opt.headers['X-CSRF-Token'] = S.csrf;
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  let j = {};
  try { j = await r.json(); } catch (e) { j = {}; }
  if (r.status === 401 && !path.endsWith('/signin')) { showSignin('Your session has ended: sign in again.'); throw new Error('signed out'); }
  if (!r.ok) throw new Error(j.message || j.Message || ('HTTP ' + r.status));
  return j;
}
const gd = (method, op, body) => api(method, '/console/api/gd/detector/' + encodeURIComponent(S.det) + op, body);

function band(sev) { return sev >= 9 ? 'critical' : sev >= 7 ? 'high' : sev >= 4 ? 'medium' : 'low'; }
function sevBadge(sev) {
  const b = band(sev);
  return h('span.sev.s-' + b, { title: 'severity ' + sev }, b[0].toUpperCase() + b.slice(1) + ' ' + sev);
}
function fmtTime(iso) { return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''; }
function get(o, path) { return path.split('.').reduce((a, k) => (a == null ? undefined : a[k]), o); }

/* ---- sign-in ----------------------------------------------------------- */

function showSignin(msg) {
  $('#top').hidden = true;
  $('#main').replaceChildren();
  $('#signin').hidden = false;
  $('#signin-msg').textContent = msg || '';
  $('#signin-user').focus();
}

function signedIn(j) {
  S.user = j.user; S.csrf = j.csrf; S.det = j.detectorId; S.role = j.role || 'viewer';
  $('#signin').hidden = true;
  $('#top').hidden = false;
  $('#who').textContent = j.user + ' (' + S.role + ')';
  route();
}

$('#signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('#signin-msg').textContent = '';
  try {
    const j = await api('POST', '/console/api/signin', { user: $('#signin-user').value, password: $('#signin-password').value });
    $('#signin-password').value = '';
    signedIn(j);
  } catch (e) {
    $('#signin-msg').textContent = e.message;
  }
});

$('#signout').addEventListener('click', async () => {
  try { await api('POST', '/console/api/signout', {}); } catch (e) { /* signed out either way */ }
  S.csrf = '';
  showSignin('Signed out.');
});

/* ---- routing ----------------------------------------------------------- */

function route() {
  if (!S.csrf) return;
  const hash = location.hash || '#/findings';
  document.querySelectorAll('header nav a').forEach((a) => a.classList.toggle('on', hash.startsWith(a.getAttribute('href'))));
  const m = hash.match(/^#\/finding\/([\w.-]+)$/);
  badge();
  if (m) return pageFinding(m[1]);
  if (hash.startsWith('#/rules')) return pageRules();
  if (hash.startsWith('#/lists')) return pageLists();
  if (hash.startsWith('#/system')) return pageSystem();
  return pageFindings();
}

/* The header's health badge: ok, or degraded (drops, dead letters, errors). */
async function badge(j) {
  const b = $('#health-badge');
  try { j = j || await api('GET', '/console/api/system'); } catch (e) { b.textContent = '?'; return; }
  b.textContent = j.status === 'ok' ? 'Healthy' : 'Degraded';
  b.className = 'health ' + (j.status === 'ok' ? 'h-ok' : 'h-bad');
  b.title = j.status === 'ok' ? 'no drops, dead letters or errors' : 'see System: drops, dead letters or errors';
}
window.addEventListener('hashchange', route);

function fail(where, e) {
  if (e.message === 'signed out') return;
  where.replaceChildren(h('p.msg', {}, e.message));
}

/* ---- findings table ------------------------------------------------------ */

function defaultFilter() {
  return { severity: '', type: '', resource: '', archived: 'active', q: '', sort: 'lastSeen' };
}

/* The filter form as GuardDuty FindingCriteria (severity, type, archived)
 * plus the console's free text and resource substring. */
function criteria(f) {
  const c = {};
  const bands = { low: [0, 4], medium: [4, 7], high: [7, 9], critical: [9, 11] };
  if (bands[f.severity]) c.severity = { gte: bands[f.severity][0], lt: bands[f.severity][1] };
  if (f.type) c.type = { matches: [/[*?]/.test(f.type) ? f.type : '*' + f.type + '*'] };
  if (f.archived === 'active') c['service.archived'] = { eq: ['false'] };
  if (f.archived === 'archived') c['service.archived'] = { eq: ['true'] };
  return { criterion: c };
}

function pageFindings() {
  if (!S.filter) S.filter = defaultFilter();
  const f = S.filter;
  const sel = (id, val, opts) => h('select#' + id, {}, opts.map(([v, t]) => h('option', { value: v, selected: v === val }, t)));
  const form = h('form.filters#filters', {},
    h('label', {}, 'Severity', sel('f-severity', f.severity, [['', 'any'], ['low', 'Low (< 4)'], ['medium', 'Medium (4-6.9)'], ['high', 'High (7-8.9)'], ['critical', 'Critical (9+)']])),
    h('label', {}, 'Type (substring or glob)', h('input#f-type', { value: f.type, placeholder: 'e.g. Recon:* or SSHBrute' })),
    h('label', {}, 'Resource', h('input#f-resource', { value: f.resource, placeholder: 'i-..., eni-..., AKIA...' })),
    h('label', {}, 'Archived', sel('f-archived', f.archived, [['active', 'current (not archived)'], ['archived', 'archived'], ['all', 'all']])),
    h('label', {}, 'Search', h('input#f-q', { value: f.q, placeholder: 'any text in the finding' })),
    h('label', {}, 'Sort', sel('f-sort', f.sort, [['lastSeen', 'last seen'], ['severity', 'severity'], ['count', 'count']])),
    h('button.primary#f-apply', { type: 'submit' }, 'Apply'),
    h('button#f-reset', { type: 'button', onclick: () => { S.filter = defaultFilter(); S.page = 0; pageFindings(); } }, 'Reset'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    S.filter = { severity: $('#f-severity').value, type: $('#f-type').value.trim(), resource: $('#f-resource').value.trim(), archived: $('#f-archived').value, q: $('#f-q').value.trim(), sort: $('#f-sort').value };
    S.page = 0;
    loadTable();
  });
  $('#main').replaceChildren(h('h1', {}, 'Findings'), form, h('div#summary.summary'), h('div#chart.chart'), h('div#table-wrap'));
  loadTable();
}

async function loadTable() {
  const wrap = $('#table-wrap');
  if (!wrap) return;
  const f = S.filter;
  let j;
  try {
    j = await api('POST', '/console/api/findings', { findingCriteria: criteria(f), q: f.q, resource: f.resource, sort: f.sort, order: 'desc', offset: S.page * S.pageSize, limit: S.pageSize, days: 30 });
  } catch (e) { return fail(wrap, e); }
  const c = j.counts;
  $('#summary').replaceChildren(h('b#total', {}, j.total + (j.total === 1 ? ' finding' : ' findings')),
    h('span.chip.s-critical', {}, 'Critical ' + c.critical), h('span.chip.s-high', {}, 'High ' + c.high),
    h('span.chip.s-medium', {}, 'Medium ' + c.medium), h('span.chip.s-low', {}, 'Low ' + c.low));
  $('#chart').replaceChildren(chart(j.chart.days));
  const rows = j.rows.filter((r) => r).map((r) => h('tr.row', { 'data-id': r.id, onclick: () => { location.hash = '#/finding/' + r.id; } },
    h('td', {}, sevBadge(r.severity)),
    h('td', {}, h('a', { href: '#/finding/' + r.id }, r.type), r.archived ? h('span.archived-tag', {}, 'archived') : null, h('div.note', {}, r.title)),
    h('td.mono', {}, r.resource || r.resourceType),
    h('td', {}, r.accountId, h('div.note', {}, r.region)),
    h('td', {}, r.count),
    h('td', {}, fmtTime(r.lastSeen))));
  const pages = Math.max(1, Math.ceil(j.total / S.pageSize));
  const pager = h('div.pager', {},
    h('button#prev', { type: 'button', disabled: S.page === 0, onclick: () => { S.page--; loadTable(); } }, '< Previous'),
    h('span#pageinfo', {}, 'page ' + (S.page + 1) + ' of ' + pages),
    h('button#next', { type: 'button', disabled: S.page + 1 >= pages, onclick: () => { S.page++; loadTable(); } }, 'Next >'));
  wrap.replaceChildren(h('table#findings-table', {},
    h('thead', {}, h('tr', {}, ['Severity', 'Type', 'Resource', 'Account / region', 'Count', 'Last seen'].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6 }, 'No findings match.')))), pager);
}

/* Stacked bars by day (eventLastSeen), one colour per severity band. */
function chart(days) {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 900, H = 150, L = 36, B = 20, T = 8;
  const svg = document.createElementNS(NS, 'svg');
  const el = (tag, a, text) => { const e = document.createElementNS(NS, tag); for (const k in a) e.setAttribute(k, a[k]); if (text !== undefined) e.textContent = text; return e; };
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('width', W);
  svg.setAttribute('height', H);
  svg.id = 'severity-chart';
  svg.append(el('title', {}, 'Findings by day of last activity and severity'));
  if (!days.length) { svg.append(el('text', { x: L, y: H / 2, class: 'axis' }, 'no findings')); return svg; }
  const bands = ['low', 'medium', 'high', 'critical'];
  const max = Math.max(1, ...days.map((d) => bands.reduce((s, b) => s + d[b], 0)));
  const bw = (W - L - 4) / days.length;
  svg.append(el('line', { x1: L, x2: W, y1: H - B, y2: H - B, class: 'grid' }));
  svg.append(el('text', { x: 2, y: T + 8, class: 'axis' }, String(max)));
  svg.append(el('text', { x: 2, y: H - B, class: 'axis' }, '0'));
  days.forEach((d, i) => {
    let y = H - B;
    const x = L + i * bw;
    bands.forEach((b) => {
      if (!d[b]) return;
      const hh = (d[b] / max) * (H - B - T);
      y -= hh;
      const r = el('rect', { x: x + 1, y, width: Math.max(1, bw - 2), height: hh, class: 'b-' + b });
      r.append(el('title', {}, d.day + ': ' + d[b] + ' ' + b));
      svg.append(r);
    });
    const last = days.length - 1;
    if (i % 7 === 0 || (i === last && last % 7 > 3)) svg.append(el('text', { x, y: H - 5, class: 'axis' }, d.day.slice(5)));
  });
  return svg;
}

/* ---- one finding ------------------------------------------------------------ */

function remoteIp(f) {
  const a = get(f, 'service.action') || {};
  for (const k of ['networkConnectionAction', 'awsApiCallAction', 'portProbeAction', 'dnsRequestAction']) {
    if (!a[k]) continue;
    if (a[k].remoteIpDetails) return a[k].remoteIpDetails;
    if (a[k].portProbeDetails && a[k].portProbeDetails[0]) return a[k].portProbeDetails[0].remoteIpDetails;
  }
  return null;
}

/* The resource's criteria field and value, for "suppress findings like this". */
function resourceKey(f) {
  const r = f.resource || {};
  if (get(r, 'instanceDetails.instanceId')) return ['resource.instanceDetails.instanceId', r.instanceDetails.instanceId];
  if (get(r, 'accessKeyDetails.accessKeyId')) return ['resource.accessKeyDetails.accessKeyId', r.accessKeyDetails.accessKeyId];
  return null;
}
function remoteKey(f) {
  const a = get(f, 'service.action') || {};
  if (get(a, 'networkConnectionAction.remoteIpDetails.ipAddressV4')) return ['service.action.networkConnectionAction.remoteIpDetails.ipAddressV4', a.networkConnectionAction.remoteIpDetails.ipAddressV4];
  if (get(a, 'awsApiCallAction.remoteIpDetails.ipAddressV4')) return ['service.action.awsApiCallAction.remoteIpDetails.ipAddressV4', a.awsApiCallAction.remoteIpDetails.ipAddressV4];
  return null;
}

function evidence(f) {
  const s = f.service || {};
  const ev = get(s, 'additionalInfo.evidence') || s.mamoriEvidence || (Array.isArray(s.evidence) ? s.evidence : []);
  return Array.isArray(ev) ? ev : [];
}

function kv(pairs) {
  return h('dl.kv', {}, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v, id]) => [h('dt', {}, k), h('dd', id ? { id } : {}, v)]));
}

async function pageFinding(id) {
  const main = $('#main');
  main.replaceChildren(h('p', {}, 'Loading ' + id + '...'));
  let f, pb;
  try {
    const j = await gd('POST', '/findings/get', { findingIds: [id] });
    f = (j.findings || [])[0];
    if (!f) return main.replaceChildren(h('p.msg', {}, 'No finding ' + id + '.'), h('a', { href: '#/findings' }, 'Back to findings'));
    pb = await api('GET', '/console/api/playbook?type=' + encodeURIComponent(f.type) + '&role=' + encodeURIComponent(get(f, 'service.resourceRole') || ''));
  } catch (e) { return fail(main, e); }
  const s = f.service || {};
  const r = f.resource || {};
  const inst = r.instanceDetails || {};
  const eni = (inst.networkInterfaces || [])[0] || {};
  const ak = r.accessKeyDetails || {};
  const ip = remoteIp(f) || {};
  const tags = (inst.tags || []).map((t) => t.key + '=' + t.value).join(', ');
  const ti = get(s, 'evidence.threatIntelligenceDetails') || [];
  const ev = evidence(f);
  const archived = !!s.archived;
  const msg = h('p#action-msg.ok', {});
  const setArchived = async (on) => {
    try { await gd('POST', on ? '/findings/archive' : '/findings/unarchive', { findingIds: [f.id] }); pageFinding(f.id); } catch (e) { msg.className = 'msg'; msg.textContent = e.message; }
  };
  const feedback = async (fb) => {
    try {
      await gd('POST', '/findings/feedback', { findingIds: [f.id], feedback: fb });
      msg.className = 'ok'; msg.textContent = 'Feedback recorded: ' + (fb === 'USEFUL' ? 'useful' : 'not useful') + '.';
    } catch (e) { msg.className = 'msg'; msg.textContent = e.message; }
  };
  main.replaceChildren(
    h('p', {}, h('a#back', { href: '#/findings' }, '< Findings')),
    h('h1', {}, sevBadge(f.severity), ' ', h('span#detail-type', {}, f.type), archived ? h('span.archived-tag#detail-archived', {}, 'archived') : null),
    h('p', {}, f.title),
    can('analyst') ? h('div.actions', {},
      archived ? h('button#btn-unarchive', { type: 'button', onclick: () => setArchived(false) }, 'Unarchive')
        : h('button#btn-archive', { type: 'button', onclick: () => setArchived(true) }, 'Archive'),
      h('button#btn-suppress', { type: 'button', onclick: () => suppressForm(f) }, 'Suppress findings like this'),
      h('button#btn-useful', { type: 'button', onclick: () => feedback('USEFUL') }, 'Useful'),
      h('button#btn-not-useful', { type: 'button', onclick: () => feedback('NOT_USEFUL') }, 'Not useful'))
      : h('p.note#read-only', {}, 'Read only: your role (' + S.role + ') cannot archive, suppress or give feedback.'),
    msg,
    h('div#suppress-wrap'),
    h('div.card', {}, h('h2', {}, 'Summary'), kv([
      ['Finding id', f.id], ['Description', f.description], ['Account / region', (f.accountId || '') + ' / ' + (f.region || '')],
      ['Count', s.count], ['First seen', fmtTime(s.eventFirstSeen)], ['Last seen', fmtTime(s.eventLastSeen)],
      ['Updated', fmtTime(f.updatedAt)], ['Archived', archived ? 'yes' : 'no', 'detail-archived-state']])),
    h('div.card', {}, h('h2', {}, 'Resource'), kv([
      ['Resource', r.resourceType, 'detail-resource-type'],
      ['Role of the resource', s.resourceRole, 'detail-role'],
      ['Instance', inst.instanceId, 'detail-resource'], ['Tags', tags], ['Instance type', inst.instanceType], ['Image', inst.imageId],
      ['Instance profile', get(inst, 'iamInstanceProfile.arn')],
      ['Interface', eni.networkInterfaceId], ['Private IP', eni.privateIpAddress], ['Public IP', eni.publicIp],
      ['VPC / subnet', eni.vpcId ? eni.vpcId + ' / ' + eni.subnetId : ''],
      ['Security groups', (eni.securityGroups || []).map((g) => g.groupId + ' (' + g.groupName + ')').join(', ')],
      ['Access key', ak.accessKeyId, inst.instanceId ? null : 'detail-resource'], ['Principal', ak.userName ? ak.userName + ' (' + ak.userType + ', ' + ak.principalId + ')' : ''],
      ['S3 buckets', (r.s3BucketDetails || []).map((b) => b.name).join(', ')]])),
    h('div.card', {}, h('h2', {}, 'Action and remote party'), kv([
      ['Action', get(s, 'action.actionType')],
      ['Remote IP', ip.ipAddressV4, 'detail-remote-ip'], ['Organisation', get(ip, 'organization.asnOrg') || get(ip, 'organization.org')],
      ['ASN', get(ip, 'organization.asn')], ['Country', get(ip, 'country.countryName')], ['City', get(ip, 'city.cityName')],
      ['Direction', get(s, 'action.networkConnectionAction.connectionDirection')],
      ['Remote port', get(s, 'action.networkConnectionAction.remotePortDetails.port')],
      ['Local port', get(s, 'action.networkConnectionAction.localPortDetails.port')],
      ['Protocol', get(s, 'action.networkConnectionAction.protocol')],
      ['Domain', get(s, 'action.dnsRequestAction.domain')],
      ['API call', get(s, 'action.awsApiCallAction.api') ? get(s, 'action.awsApiCallAction.serviceName') + ' ' + get(s, 'action.awsApiCallAction.api') : ''],
      ['User agent', get(s, 'action.awsApiCallAction.userAgent')],
      ['Threat lists', ti.map((t) => t.threatListName + ' (' + (t.threatNames || []).join(', ') + ')').join('; ')],
      ['Probes', (get(s, 'action.portProbeAction.portProbeDetails') || []).map((d) => get(d, 'remoteIpDetails.ipAddressV4') + ' -> port ' + get(d, 'localPortDetails.port')).join(', ')],
      ['Actors', (get(s, 'detection.sequence.actors') || []).map((a) => get(a, 'user.name') ? a.user.name + ' (' + a.user.type + ')' : a.id).join(', ')],
      ['Signals', (get(s, 'detection.sequence.signals') || []).map((g) => g.name + ' x' + g.count).join(', ')]])),
    h('div.card', {}, h('h2', {}, 'Evidence records (' + ev.length + ')'),
      ev.length ? h('table#evidence', {}, h('thead', {}, h('tr', {}, h('th', {}, 'File:line'), h('th', {}, 'Time'), h('th', {}, 'Byte offset'))),
        h('tbody', {}, ev.map((e) => h('tr', {}, h('td.mono', {}, e.file + ':' + e.line), h('td', {}, fmtTime(e.time)), h('td', {}, e.offset)))))
        : h('p.note', {}, 'This finding carries no evidence records.')),
    h('div.card#playbook', {}, h('h2', {}, 'Playbook: ' + pb.title), h('ol.playbook', {}, pb.steps.map((t) => h('li', {}, t))),
      h('p.note', {}, 'Advice for a responder; mamori runs none of it.')),
    h('details.card', {}, h('summary', {}, 'Finding JSON'), h('pre#finding-json', {}, JSON.stringify(f, null, 2))));
}

/* "Suppress findings like this": a filter form pre-filled from the finding;
 * it creates an ARCHIVE filter (GuardDuty CreateFilter). */
function suppressForm(f) {
  const rk = resourceKey(f), ip = remoteKey(f);
  const short = f.type.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
  const name = ('suppress-' + short + '-' + Date.now().toString(36)).slice(0, 64);
  const row = (id, label, field, value, on) => h('label.check', {}, h('input#' + id, { type: 'checkbox', checked: on, 'data-field': field, 'data-value': value }), label + ': ', h('span.mono', {}, field + ' = ' + value));
  const msg = h('p.msg#suppress-msg', {});
  const form = h('form.card#suppress-form', {},
    h('h2', {}, 'Suppress findings like this'),
    h('p.note', {}, 'Creates a filter with action ARCHIVE: matching findings are archived as they arrive.'),
    h('label', {}, 'Rule name', h('input#s-name', { value: name, size: 50 })),
    h('label', {}, 'Description', h('input#s-desc', { value: 'Suppress ' + f.type + (rk ? ' on ' + rk[1] : ''), size: 70 })),
    h('div', {}, row('s-type', 'Type', 'type', f.type, true)),
    rk ? h('div', {}, row('s-resource', 'Resource', rk[0], rk[1], true)) : null,
    ip ? h('div', {}, row('s-ip', 'Remote IP', ip[0], ip[1], false)) : null,
    h('label.check', {}, h('input#s-archive-now', { type: 'checkbox', checked: true }), 'also archive this finding now'),
    h('div.actions', {}, h('button.primary#s-create', { type: 'submit' }, 'Create suppression rule'),
      h('button', { type: 'button', onclick: () => form.remove() }, 'Cancel')),
    msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const criterion = {};
    form.querySelectorAll('input[data-field]').forEach((c) => { if (c.checked) criterion[c.dataset.field] = { eq: [c.dataset.value] }; });
    if (!Object.keys(criterion).length) { msg.textContent = 'Choose at least one condition.'; return; }
    try {
      await gd('POST', '/filter', { name: $('#s-name').value.trim(), description: $('#s-desc').value, action: 'ARCHIVE', rank: 1, findingCriteria: { criterion } });
      if ($('#s-archive-now').checked && !get(f, 'service.archived')) await gd('POST', '/findings/archive', { findingIds: [f.id] });
      location.hash = '#/rules';
    } catch (e) { msg.textContent = e.message; }
  });
  $('#suppress-wrap').replaceChildren(form);
  $('#s-name').focus();
}

/* ---- suppression rules ------------------------------------------------------ */

async function pageRules() {
  const main = $('#main');
  const list = h('div#rules-wrap', {}, 'Loading...');
  const msg = h('p.msg#rule-msg', {});
  const form = h('form.card#rule-form', {},
    h('h2', {}, 'New rule'),
    h('div.filters', {},
      h('label', {}, 'Name', h('input#r-name', { placeholder: '3-64 of A-Z a-z 0-9 - _ .' })),
      h('label', {}, 'Action', h('select#r-action', {}, h('option', { value: 'ARCHIVE' }, 'ARCHIVE (suppress)'), h('option', { value: 'NOOP' }, 'NOOP (saved filter)'))),
      h('label', {}, 'Rank', h('input#r-rank', { type: 'number', min: 1, max: 100, value: 1 })),
      h('label', {}, 'Description', h('input#r-desc', { size: 40 }))),
    h('label', {}, 'Finding criteria (GuardDuty FindingCriteria JSON)',
      h('textarea#r-criteria', { rows: 4 }, '{"criterion": {"type": {"eq": ["Recon:EC2/PortProbeUnprotectedPort"]}}}')),
    h('div.actions', {}, h('button.primary#r-create', { type: 'submit' }, 'Create rule')), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    let crit;
    try { crit = JSON.parse($('#r-criteria').value); } catch (e) { msg.textContent = 'The criteria are not JSON: ' + e.message; return; }
    try {
      await gd('POST', '/filter', { name: $('#r-name').value.trim(), action: $('#r-action').value, rank: Number($('#r-rank').value), description: $('#r-desc').value, findingCriteria: crit });
      pageRules();
    } catch (e) { msg.textContent = e.message; }
  });
  main.replaceChildren(h('h1', {}, 'Suppression rules'),
    h('p.note', {}, 'GuardDuty filters: those with action ARCHIVE archive matching findings as they arrive. The AWS CLI sees the same ones (aws guardduty list-filters).'),
    list, can('analyst') ? form : h('p.note', {}, 'Read only: your role (' + S.role + ') cannot change rules.'));
  try {
    const names = [];
    let tok;
    do {
      const j = await gd('GET', '/filter' + (tok ? '?nextToken=' + encodeURIComponent(tok) : ''));
      names.push(...(j.filterNames || []));
      tok = j.nextToken;
    } while (tok && names.length < 1000);
    const rules = await Promise.all(names.map((n) => gd('GET', '/filter/' + encodeURIComponent(n))));
    list.replaceChildren(h('table#rules-table', {},
      h('thead', {}, h('tr', {}, ['Name', 'Action', 'Rank', 'Criteria', 'Description', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, rules.length ? rules.map((r) => h('tr', { 'data-name': r.name },
        h('td.mono', {}, r.name), h('td', {}, r.action), h('td', {}, r.rank),
        h('td.mono', {}, JSON.stringify(r.findingCriteria)), h('td', {}, r.description || ''),
        h('td', {}, can('analyst') ? h('button.danger', { type: 'button', onclick: async () => {
          if (!confirm('Delete rule ' + r.name + '?')) return;
          try { await gd('DELETE', '/filter/' + encodeURIComponent(r.name)); pageRules(); } catch (e) { msg.textContent = e.message; }
        } }, 'Delete') : null)))
        : h('tr', {}, h('td', { colspan: 6 }, 'No rules yet.')))));
  } catch (e) { fail(list, e); }
}

/* ---- threat lists ---------------------------------------------------------------- */

async function setsOf(kind, idsKey) {
  const j = await gd('GET', '/' + kind);
  return Promise.all((j[idsKey] || []).map(async (id) => Object.assign({ id }, await gd('GET', '/' + kind + '/' + encodeURIComponent(id)))));
}

async function pageLists() {
  const main = $('#main');
  main.replaceChildren(h('h1', {}, 'Threat lists'), h('p', {}, 'Loading...'));
  let L, ti, ips;
  try {
    [L, ti, ips] = await Promise.all([api('GET', '/console/api/lists'), setsOf('threatintelset', 'threatIntelSetIds'), setsOf('ipset', 'ipSetIds')]);
  } catch (e) { return fail(main, e); }
  const msg = h('p.msg#set-msg', {});
  const act = async (fn) => { msg.textContent = ''; try { await fn(); pageLists(); } catch (e) { msg.textContent = e.message; } };
  const setTable = (id, kind, sets) => sets.length ? h('table#' + id, {},
    h('thead', {}, h('tr', {}, ['Name', 'Id', 'Format', 'Location', 'Status', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, sets.map((s) => h('tr', { 'data-name': s.name }, h('td', {}, s.name), h('td.mono', {}, s.id), h('td', {}, s.format), h('td.mono', {}, s.location),
      h('td', {}, s.status, s.mamoriError ? h('div.msg', {}, s.mamoriError) : null),
      h('td', {}, !can('admin') ? null : [
        s.status !== 'ERROR' ? h('button', { type: 'button', onclick: () => act(() => gd('POST', '/' + kind + '/' + encodeURIComponent(s.id), { activate: s.status !== 'ACTIVE' })) }, s.status === 'ACTIVE' ? 'Deactivate' : 'Activate') : null,
        ' ',
        h('button.danger', { type: 'button', onclick: () => { if (confirm('Delete ' + s.name + '?')) act(() => gd('DELETE', '/' + kind + '/' + encodeURIComponent(s.id))); } }, 'Delete')])))))
    : h('p.note', {}, 'None.');
  const formats = ['TXT', 'STIX', 'OTX_CSV', 'ALIEN_VAULT', 'PROOF_POINT', 'FIRE_EYE'];
  const form = h('form.card#set-form', {},
    h('h2', {}, 'Add a list'),
    h('div.filters', {},
      h('label', {}, 'Kind', h('select#set-kind', {}, h('option', { value: 'threatintelset' }, 'threat intel set (bad addresses and domains)'), h('option', { value: 'ipset' }, 'IP set (trusted addresses)'))),
      h('label', {}, 'Name', h('input#set-name', { required: true })),
      h('label', {}, 'Format', h('select#set-format', {}, formats.map((f) => h('option', { value: f }, f)))),
      h('label', {}, 'Location (path on the server, or http(s) URL)', h('input#set-location', { size: 50, required: true })),
      h('label.check', {}, h('input#set-activate', { type: 'checkbox', checked: true }), 'active'),
      h('button.primary#set-create', { type: 'submit' }, 'Add')),
    h('p.note', {}, 'The server reads the list from that path or URL when it is added or changed, and reloads its lists.'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => gd('POST', '/' + $('#set-kind').value, { name: $('#set-name').value.trim(), format: $('#set-format').value, location: $('#set-location').value.trim(), activate: $('#set-activate').checked }));
  });
  main.replaceChildren(h('h1', {}, 'Threat lists'),
    h('p.note', {}, 'What this mamori serve loaded. Threat intel sets and IP sets are GuardDuty\'s: managed here or with the AWS CLI (aws guardduty create-threat-intel-set ... --endpoint-url ...). Command-line lists come from serve\'s --threat-list and --trusted-ips options and are read-only here.'),
    msg,
    h('h2', {}, 'Threat intel sets'), setTable('threat-sets', 'threatintelset', ti),
    h('h2', {}, 'IP sets: trusted addresses'), setTable('ip-sets', 'ipset', ips),
    can('admin') ? form : h('p.note', {}, 'Read only: lists and sets are changed by an admin.'),
    h('h2', {}, 'From the command line or config (as serve started)'),
    h('p', {}, L.bundled ? 'Bundled lists (Tor, mining, C2, scanners...): loaded from ' + (L.dataDir || 'the data folder') + '.' : 'Bundled lists: not loaded (--no-default-lists).'),
    L.lists.length ? h('table#cli-lists', {}, h('thead', {}, h('tr', {}, ['Category', 'Name', 'File'].map((t) => h('th', {}, t)))),
      h('tbody', {}, L.lists.map((l) => h('tr', {}, h('td', {}, l.category), h('td', {}, l.name || '(file name)'), h('td.mono', {}, l.path)))))
      : h('p.note', {}, 'No --threat-list options.'),
    L.trusted.length ? h('p', {}, 'Trusted address lists: ', L.trusted.join(', ')) : null);
}

/* ---- system ------------------------------------------------------------------------- */

async function pageSystem() {
  const main = $('#main');
  main.replaceChildren(h('h1', {}, 'System'), h('p', {}, 'Loading...'));
  let j;
  try { j = await api('GET', '/console/api/system'); } catch (e) { return fail(main, e); }
  badge(j);
  const msg = h('p.msg#system-msg', {});
  const n = j.notify, sp = j.spool;
  const retry = async (id) => {
    msg.textContent = '';
    try { await api('POST', '/console/api/deadletters/retry', { id }); pageSystem(); } catch (e) { msg.textContent = e.message; }
  };
  main.replaceChildren(h('h1', {}, 'System'),
    h('p', {}, 'Status: ', h('strong#system-status', {}, j.status === 'ok' ? 'healthy' : 'degraded'), ' - up ' + j.uptimeSeconds + ' s. The same counters are at /metrics (Prometheus).'),
    msg,
    h('div.card', {}, h('h2', {}, 'Ingest'), kv([
      ['Events in: flow logs', String(j.events.flow), 'sys-flow'], ['DNS logs', String(j.events.dns)],
      ['CloudTrail', String(j.events.cloudtrail)], ['Host', String(j.events.host)],
      ['Parse errors (records skipped)', String(j.parseErrors), 'sys-parse-errors'],
      ['Lag (since the last commit)', j.lagSeconds < 0 ? 'no commit yet' : j.lagSeconds.toFixed(1) + ' s', 'sys-lag'],
      ['Last read + commit took', j.lastFlushSeconds.toFixed(3) + ' s'],
      ['Commits', j.flushes.ok + ' ok, ' + j.flushes.error + ' failed'],
      ['Reloads', j.reloads.ok + ' ok, ' + j.reloads.error + ' failed'],
      ['Findings', j.findings.new + ' new, ' + j.findings.updated + ' updated, ' + j.findings.suppressed + ' suppressed']])),
    h('div.card', {}, h('h2', {}, 'Syslog and stdin spool'), sp.enabled ? kv([
      ['Queue depth (bytes waiting)', String(sp.queueBytes), 'sys-spool-bytes'], ['Messages spooled', String(sp.messages)],
      ['UDP drops (spool full)', String(sp.udpDropped), 'sys-udp-dropped'], ['TCP back-pressure (reader pauses)', String(sp.tcpStalls), 'sys-tcp-stalls'],
      ['Messages cut to size', String(sp.cut)], ['TCP connections', String(sp.connections)]])
      : h('p.note', {}, 'No syslog or stdin source.')),
    h('div.card', {}, h('h2', {}, 'Notifications'),
      kv([['Queued (outbox depth)', String(n.queued), 'sys-queued'], ['Failed attempts (retried)', String(n.failedAttempts), 'sys-retries'],
        ['Dead letters', String(n.deadLetterCount), 'sys-dead'], ['Dropped (queue full)', String(n.dropped)]]),
      n.sinks.length ? h('table#sinks-table', {}, h('thead', {}, h('tr', {}, ['Sink', 'Sent', 'Failed attempts', 'Dead letters', 'Dropped', 'Queued'].map((t) => h('th', {}, t)))),
        h('tbody', {}, n.sinks.map((k) => h('tr', {}, h('td', {}, k.name), h('td', {}, k.sent), h('td', {}, k.failedAttempts), h('td', {}, k.deadLetters), h('td', {}, k.dropped), h('td', {}, k.queued)))))
        : h('p.note', {}, 'No notification sinks configured.')),
    h('div.card', {}, h('h2', {}, 'Dead letters (newest ' + n.deadLetters.length + ')'),
      n.deadLetters.length ? h('table#dead-table', {}, h('thead', {}, h('tr', {}, ['Id', 'Sink', 'Finding', 'Attempts', 'Last error', 'Given up', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, n.deadLetters.map((d) => h('tr', { 'data-id': d.id },
          h('td', {}, d.id), h('td', {}, d.sink, d.sinkConfigured ? null : h('div.note', {}, 'removed')),
          h('td.mono', {}, h('a', { href: '#/finding/' + d.findingId }, d.findingId)), h('td', {}, d.attempts),
          h('td.dead-error', {}, d.lastError), h('td', {}, fmtTime(d.at)),
          h('td', {}, can('analyst') ? h('button.retry', { type: 'button', onclick: () => retry(d.id) }, 'Retry') : null)))))
        : h('p.note#no-dead', {}, 'None: every notification was delivered or is still being tried.')));
}

/* ---- start --------------------------------------------------------------------- */

(async () => {
  try {
    const r = await fetch('/console/api/session', { credentials: 'same-origin' });
    if (r.ok) return signedIn(await r.json());
  } catch (e) { /* fall through */ }
  showSignin('');
})();
