// console.js URL USER PASSWORD ARTEFACT_DIR LIST_FILE VIEWER ANALYST - drives the web console of a
// running `mamori serve` in Debian's headless chromium (playwright-core,
// no browser download) and prints one "ok NAME" / "FAIL NAME: why" line
// per check, for tests/golden/console.sh to count. Every wait is bounded
// (10 s per action, 20 s for a finding to arrive). A screenshot per step
// goes to ARTEFACT_DIR.
'use strict';
const { chromium } = require('playwright-core');
const path = require('path');

// VIEWER and ANALYST: users with those roles and the same PASSWORD (USER is admin)
const [url, user, password, art, listFile, viewer, analyst] = process.argv.slice(2);
let shot = 0;
const results = [];
function ok(name) { results.push(name); console.log('ok   ' + name); }
function bad(name, why) { results.push(name); console.log('FAIL ' + name + ': ' + String(why).replace(/\s+/g, ' ').slice(0, 400)); }
async function check(name, fn) {
  try {
    const r = await fn();
    if (r === false) bad(name, 'condition false'); else ok(name);
  } catch (e) { bad(name, e.message); }
}

(async () => {
  const args = process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [];
  let browser;
  try {
    browser = await chromium.launch({ executablePath: process.env.MAMORI_CHROMIUM || '/usr/bin/chromium', headless: true, args, timeout: 30000 });
  } catch (e) {
    bad('chromium_launch', e.message);
    process.exit(1);
  }
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  page.setDefaultNavigationTimeout(10000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => d.accept());	// "Delete ...?" confirmations
  // expected 401s and 403s show up as 'Failed to load resource': not errors of the page
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
  const snap = async (name) => {
    shot++;
    const f = path.join(art, String(shot).padStart(2, '0') + '-' + name + '.png');
    await page.screenshot({ path: f, fullPage: true }).catch(() => {});
  };
  const T = 'UnauthorizedAccess:EC2/MaliciousIPCaller.Custom';
  const row = () => page.locator('#findings-table tbody tr.row', { hasText: T });

  await check('page_loads_signin_form', async () => {
    await page.goto(url + '/');
    await page.locator('#signin-form').waitFor({ state: 'visible' });
    await snap('signin');
  });

  await check('wrong_password_refused', async () => {
    await page.fill('#signin-user', user);
    await page.fill('#signin-password', 'not-the-password');
    await page.click('#signin-submit');
    await page.locator('#signin-msg', { hasText: 'wrong user name or password' }).waitFor();
    await snap('wrong-password');
    if (await page.locator('#top').isVisible()) throw new Error('signed in with a wrong password');
  });

  await check('sign_in', async () => {
    await page.fill('#signin-user', user);
    await page.fill('#signin-password', password);
    await page.click('#signin-submit');
    await page.locator('#findings-table').waitFor();
  });

  await check('session_cookie_attributes', async () => {
    const c = (await ctx.cookies()).find((k) => k.name === 'mamori_session');
    if (!c) throw new Error('no mamori_session cookie');
    if (!c.httpOnly || c.sameSite !== 'Strict' || c.path !== '/') throw new Error(JSON.stringify(c));
  });

  await check('finding_in_table', async () => {
    // the daemon turns the appended lines into a finding within seconds
    const until = Date.now() + 20000;
    while (Date.now() < until) {
      await page.click('#f-apply');
      await page.waitForTimeout(400);
      if (await row().count() > 0) break;
    }
    await row().first().waitFor({ timeout: 1000 });
    await snap('findings');
  });

  // a second type, so filters have something to leave out: a sample
  // finding (GuardDuty's CreateSampleFindings, through the console's API)
  await check('sample_finding_created', async () => {
    const st = await page.evaluate(async () => {
      const r = await fetch('/console/api/gd/detector/' + S.det + '/findings/create', {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': S.csrf },
        body: JSON.stringify({ findingTypes: ['Recon:EC2/PortProbeUnprotectedPort'] }) });
      return r.status;
    });
    if (st !== 200) throw new Error('status ' + st);
    await page.click('#f-apply');
    await page.locator('#findings-table tbody tr.row', { hasText: 'PortProbeUnprotectedPort' }).first().waitFor();
  });

  await check('chart_drawn', async () => {
    await page.locator('#severity-chart rect').first().waitFor();
  });

  await check('filter_by_type', async () => {
    await page.fill('#f-type', 'MaliciousIPCaller');
    await page.click('#f-apply');
    await page.locator('#findings-table tbody tr.row', { hasText: 'PortProbeUnprotectedPort' }).waitFor({ state: 'detached' });
    if (await row().count() !== 1) throw new Error('want the one finding, got ' + await row().count());
    await snap('filter-type');
  });

  await check('filter_by_severity', async () => {
    await page.fill('#f-type', '');
    await page.selectOption('#f-severity', 'critical');
    await page.click('#f-apply');
    await page.locator('#findings-table tbody', { hasText: 'No findings match' }).waitFor();
    await page.selectOption('#f-severity', 'medium');
    await page.click('#f-apply');
    await row().first().waitFor();
    const sevs = await page.locator('#findings-table tbody tr.row .sev').allTextContents();
    if (!sevs.length || sevs.some((s) => !s.startsWith('Medium'))) throw new Error('severities ' + sevs.join(','));
    await snap('filter-severity');
  });

  await check('free_text_search', async () => {
    await page.selectOption('#f-severity', '');
    await page.fill('#f-q', '203.0.113.7');
    await page.click('#f-apply');
    await page.locator('#findings-table tbody tr.row', { hasText: 'PortProbeUnprotectedPort' }).waitFor({ state: 'detached' });
    await row().first().waitFor();
    await page.fill('#f-q', '');
    await page.click('#f-apply');
  });

  let fid = '';
  await check('finding_detail', async () => {
    await row().first().click();
    await page.locator('#detail-type').waitFor();
    fid = decodeURIComponent(page.url().split('#/finding/')[1] || '');
    const type = await page.locator('#detail-type').textContent();
    if (type !== T) throw new Error('type ' + type);
    const res = await page.locator('#detail-resource-type').textContent();
    if (!res) throw new Error('no resource');
    const ip = await page.locator('#detail-remote-ip').textContent();
    if (ip !== '203.0.113.7') throw new Error('remote ip ' + ip);
    await snap('detail');
  });

  await check('detail_evidence_file_line', async () => {
    const ev = await page.locator('#evidence tbody td.mono').allTextContents();
    if (!ev.length || !ev.every((e) => /a\.log:\d+$/.test(e))) throw new Error('evidence ' + ev.join(' | '));
  });

  await check('detail_playbook', async () => {
    const steps = await page.locator('#playbook li').allTextContents();
    if (steps.length < 3) throw new Error(steps.length + ' steps');
    if (!steps.join(' ').includes('security group')) throw new Error('no isolation step');
  });

  await check('feedback', async () => {
    await page.click('#btn-useful');
    await page.locator('#action-msg', { hasText: 'Feedback recorded: useful' }).waitFor();
  });

  await check('archive', async () => {
    await page.click('#btn-archive');
    await page.locator('#btn-unarchive').waitFor();
    await page.locator('#detail-archived').waitFor();
    await snap('archived-detail');
  });

  await check('archived_gone_from_default_view', async () => {
    await page.click('#back');
    await page.selectOption('#f-archived', 'active');
    await page.click('#f-apply');
    await page.locator('#findings-table tbody tr.row', { hasText: 'PortProbeUnprotectedPort' }).first().waitFor();
    if (await row().count() !== 0) throw new Error('the archived finding is still listed');
  });

  await check('archived_shown_with_archived_filter', async () => {
    await page.selectOption('#f-archived', 'archived');
    await page.click('#f-apply');
    await row().first().waitFor();
    await row().first().locator('.archived-tag').waitFor();
    await snap('archived-list');
  });

  const rule = 'suppress-browser-test';
  await check('suppress_like_this_prefilled', async () => {
    await page.goto(url + '/#/finding/' + fid);
    await page.click('#btn-suppress');
    await page.locator('#suppress-form').waitFor();
    if (!(await page.isChecked('#s-type'))) throw new Error('type not checked');
    const v = await page.getAttribute('#s-type', 'data-value');
    if (v !== T) throw new Error('type value ' + v);
    if (await page.locator('#s-ip').count()) await page.check('#s-ip');
    await page.fill('#s-name', rule);
    await snap('suppress-form');
  });

  await check('suppression_rule_created', async () => {
    await page.click('#s-create');
    await page.locator('#rules-table tbody tr[data-name="' + rule + '"]').waitFor();
    const text = await page.locator('#rules-table tbody tr[data-name="' + rule + '"]').textContent();
    if (!text.includes('ARCHIVE') || !text.includes(T) || !text.includes('203.0.113.7')) throw new Error(text);
    await snap('rules');
  });

  await check('threat_lists_page', async () => {
    await page.click('#nav-lists');
    await page.locator('#cli-lists', { hasText: 'custom' }).waitFor();
  });

  const setRow = () => page.locator('#threat-sets tbody tr[data-name="browser-set"]');
  await check('threat_set_added', async () => {
    await page.fill('#set-name', 'browser-set');
    await page.selectOption('#set-format', 'TXT');
    await page.fill('#set-location', listFile);
    await page.click('#set-create');
    await setRow().waitFor();
    const t = await setRow().textContent();
    if (!t.includes('ACTIVE') || t.includes('INACTIVE')) throw new Error(t);
    await snap('threat-lists');
  });

  await check('threat_set_deactivated_then_deleted', async () => {
    await setRow().locator('button', { hasText: 'Deactivate' }).click();
    await setRow().locator('td', { hasText: 'INACTIVE' }).waitFor();
    await setRow().locator('button', { hasText: 'Delete' }).click();
    await setRow().waitFor({ state: 'detached' });
  });

  // the checks a browser cannot make by itself: requests without the
  // CSRF header, or from another origin, with the session's cookie
  const cookie = (await ctx.cookies()).filter((k) => k.name === 'mamori_session').map((k) => k.name + '=' + k.value).join('');
  const csrf = await page.evaluate(() => S.csrf);
  const post = (hdrs) => fetch(url + '/console/api/findings', { method: 'POST', headers: Object.assign({ Cookie: cookie, 'Content-Type': 'application/json' }, hdrs), body: '{}' });
  await check('no_csrf_header_403', async () => {
    const r = await post({});
    if (r.status !== 403) throw new Error('status ' + r.status);
  });
  await check('wrong_csrf_header_403', async () => {
    const r = await post({ 'X-CSRF-Token': csrf.replace(/^./, csrf[0] === 'a' ? 'b' : 'a') });
    if (r.status !== 403) throw new Error('status ' + r.status);
  });
  await check('other_origin_403', async () => {
    const r = await post({ 'X-CSRF-Token': csrf, Origin: 'http://evil.example' });
    if (r.status !== 403) throw new Error('status ' + r.status);
  });
  await check('archive_without_csrf_403', async () => {
    const det = await page.evaluate(() => S.det);
    const r = await fetch(url + '/console/api/gd/detector/' + det + '/findings/unarchive', { method: 'POST', headers: { Cookie: cookie }, body: JSON.stringify({ findingIds: [fid] }) });
    if (r.status !== 403) throw new Error('status ' + r.status);
  });
  await check('with_csrf_header_200', async () => {
    const r = await post({ 'X-CSRF-Token': csrf });
    if (r.status !== 200) throw new Error('status ' + r.status);
  });

  // the System page: the dead letter of the sink pointed at a closed port
  const deadRow = () => page.locator('#dead-table tbody tr', { hasText: 'closed' });
  await check('system_page_dead_letter', async () => {
    await page.goto(url + '/#/system');
    const until = Date.now() + 20000;
    while (Date.now() < until) {
      await page.locator('#system-status').waitFor();
      if (await deadRow().count() > 0) break;
      await page.waitForTimeout(500);
      await page.evaluate(() => pageSystem());
    }
    await deadRow().first().waitFor({ timeout: 1000 });
    const err = await deadRow().first().locator('.dead-error').textContent();
    if (!err || !err.trim()) throw new Error('no last error shown');
    const st = await page.locator('#system-status').textContent();
    if (st !== 'degraded') throw new Error('status ' + st);
    await snap('system');
  });

  await check('health_badge_degraded', async () => {
    await page.locator('#health-badge', { hasText: 'Degraded' }).waitFor();
  });

  await check('system_page_counters', async () => {
    const flow = Number(await page.locator('#sys-flow').textContent());
    if (!(flow >= 3)) throw new Error('flow events ' + flow);
    const dead = Number(await page.locator('#sys-dead').textContent());
    if (!(dead >= 1)) throw new Error('dead letters ' + dead);
  });

  // the finding was archived above, and an archived finding is not sent
  // (its retry would end "skipped"): unarchived for the retry, archived again after
  const setArchived = (on) => page.evaluate(async ([id, on]) => {
    const x = await fetch('/console/api/gd/detector/' + S.det + '/findings/' + (on ? 'archive' : 'unarchive'), {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': S.csrf },
      body: JSON.stringify({ findingIds: [id] }) });
    return x.status;
  }, [fid, on]);
  await check('dead_letter_retry', async () => {
    if (await setArchived(false) !== 200) throw new Error('unarchive failed');
    const before = Number(await page.locator('#sys-retries').textContent());
    await deadRow().first().locator('button.retry').click();
    // retried: one more failed attempt (the port is still closed), dead again
    const until = Date.now() + 20000;
    let now = before;
    while (Date.now() < until && now <= before) {
      await page.waitForTimeout(400);
      await page.evaluate(() => pageSystem());
      await page.locator('#sys-retries').waitFor();
      now = Number(await page.locator('#sys-retries').textContent());
    }
    if (now <= before) throw new Error('failed attempts still ' + now);
    if (await page.locator('#system-msg').textContent()) throw new Error(await page.locator('#system-msg').textContent());
    await deadRow().first().waitFor();
    if (await setArchived(true) !== 200) throw new Error('archive failed');
  });

  // roles: a viewer sees no triage buttons and is refused by the server;
  // an analyst archives but cannot change threat lists
  const signInAs = async (name) => {
    const c = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const p = await c.newPage();
    p.setDefaultTimeout(10000);
    p.on('pageerror', (e) => errors.push(name + ': ' + e.message));
    await p.goto(url + '/');
    await p.fill('#signin-user', name);
    await p.fill('#signin-password', password);
    await p.click('#signin-submit');
    await p.locator('#findings-table').waitFor();
    return p;
  };
  let vp, ap;
  await check('viewer_signs_in', async () => {
    vp = await signInAs(viewer);
    const who = await vp.locator('#who').textContent();
    if (!who.includes('viewer')) throw new Error('who ' + who);
  });
  await check('viewer_sees_no_archive_button', async () => {
    await vp.goto(url + '/#/finding/' + fid);
    await vp.locator('#detail-type').waitFor();
    await vp.locator('#read-only').waitFor();
    const n = await vp.locator('#btn-archive, #btn-unarchive, #btn-suppress, #btn-useful').count();
    if (n) throw new Error(n + ' triage buttons shown');
    await vp.screenshot({ path: path.join(art, 'viewer-detail.png'), fullPage: true }).catch(() => {});
  });
  await check('viewer_no_retry_or_rule_form', async () => {
    await vp.goto(url + '/#/system');
    await vp.locator('#system-status').waitFor();
    if (await vp.locator('button.retry').count()) throw new Error('retry button shown');
    await vp.goto(url + '/#/rules');
    await vp.locator('#rules-table').waitFor();
    if (await vp.locator('#rule-form').count()) throw new Error('rule form shown');
  });
  await check('viewer_archive_refused_403', async () => {
    const r = await vp.evaluate(async (id) => {
      const x = await fetch('/console/api/gd/detector/' + S.det + '/findings/unarchive', {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': S.csrf },
        body: JSON.stringify({ findingIds: [id] }) });
      return [x.status, (await x.json()).message];
    }, fid);
    if (r[0] !== 403 || !/forbidden: .*analyst/.test(r[1])) throw new Error(JSON.stringify(r));
  });
  await check('analyst_can_archive', async () => {
    ap = await signInAs(analyst);
    await ap.goto(url + '/#/finding/' + fid);
    await ap.locator('#btn-unarchive').click();	// the admin archived it above
    await ap.locator('#btn-archive').waitFor();
    await ap.locator('#btn-archive').click();
    await ap.locator('#btn-unarchive').waitFor();
    await ap.screenshot({ path: path.join(art, 'analyst-archived.png'), fullPage: true }).catch(() => {});
  });
  await check('analyst_no_set_form', async () => {
    await ap.goto(url + '/#/lists');
    await ap.locator('#cli-lists').waitFor();
    if (await ap.locator('#set-form').count()) throw new Error('set form shown');
  });

  await check('sign_out', async () => {
    await page.click('#signout');
    await page.locator('#signin-form').waitFor({ state: 'visible' });
    const r = await post({ 'X-CSRF-Token': csrf });
    if (r.status !== 401) throw new Error('the old session still works: ' + r.status);
    await snap('signed-out');
  });

  await check('no_script_errors', async () => {
    if (errors.length) throw new Error(errors.join(' | '));
  });

  await browser.close();
})().catch((e) => { bad('driver', e.stack || e.message); process.exit(1); });
