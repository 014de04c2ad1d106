/**
 * The portal in a real browser (Debian's Chromium driven by playwright-core) against the demo node:
 * the records-and-consent story through the UI — a patient signs in with her keys, grants a
 * consent; a physician at another organization reads under her travel consent; a dermatologist is
 * denied and then revoked; an emergency physician breaks the glass; the patient's trail shows every
 * entry with its inclusion proof verified in the browser and a live notification. Screenshots of
 * each view go to `test-artifacts/portal/`. The pages talk only to the node's API, no request
 * carries a private key, and the node's log holds no health data or key.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from '../test-support/paths.js';
import { freePort } from '../bench/ledger-bench.js';

const CHROMIUM = process.env['HEALTHLEDGER_CHROMIUM'] ?? '/usr/bin/chromium';
const shots = join(repoRoot, 'test-artifacts', 'portal');

describe('web portal (Chromium)', () => {
  let dir: string;
  let node: ChildProcess;
  let url: string;
  let log = '';
  let browser: Browser;
  const requests: { page: string; url: string; body: string }[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    mkdirSync(shots, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'hl-portal-'));
    const port = await freePort();
    node = spawn(
      process.execPath,
      [join(repoRoot, 'dist', 'cli', 'main.js'), 'demo', '--dir', join(dir, 'demo'), '--port', String(port)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        log += d.toString();
        if (log.includes('Press Ctrl-C')) resolve();
      };
      node.stdout!.on('data', onData);
      node.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      node.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${log}`)));
    });
    url = `http://127.0.0.1:${port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    node?.kill('SIGTERM');
    if (node) await new Promise((r) => node.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  });

  const identity = (memberId: string, ext = '.json') => join(dir, 'demo', 'identities', `${memberId}${ext}`);

  /** A browser profile signed in as `memberId` (its identity files imported into the vault). */
  async function signIn(memberId: string, opts: { withRecordKey: boolean; width?: number }): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: opts.width ?? 1100, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('request', (r) => requests.push({ page: memberId, url: r.url(), body: r.postData() ?? '' }));
    await page.goto(`${url}/portal/`);
    const form = page.locator('form', {
      has: page.getByRole('heading', { name: 'Use identity files from your organization' }),
    });
    await form.locator('input[name=identity]').setInputFiles(identity(memberId));
    if (opts.withRecordKey)
      await form.locator('input[name=encryption]').setInputFiles(identity(memberId, '.enc.json'));
    await form.locator('input[name=passphrase]').fill('correct horse battery');
    await form.getByRole('button', { name: 'Import and unlock' }).click();
    await page.locator('.who', { hasText: memberId }).waitFor();
    return page;
  }

  test('the whole story through the UI, with screenshots of each view', async () => {
    // The patient signs in; her trail loads with proofs verified in the browser.
    const dana = await signIn('st-mary/patient-dana', { withRecordKey: true });
    await dana.getByRole('heading', { name: 'My health' }).waitFor();
    await dana.getByRole('button', { name: 'Open my records' }).click();
    await dana.getByText('Blood glucose').waitFor();
    await dana
      .getByRole('heading', { name: /diabetes/i })
      .first()
      .waitFor();
    await dana.screenshot({ path: join(shots, '01-patient-records.png'), fullPage: true });

    // She grants dr-bob (dermatology) treatment access to medications for 24 h.
    const grant = dana.getByRole('form', { name: 'Grant a consent' });
    await grant.locator('select[name=actorKind]').selectOption('member');
    await grant.locator('input[name=actor]').fill('st-mary/dr-bob');
    await grant.locator('input[name=categories]').fill('medications');
    await grant.locator('select[name=hours]').selectOption('24');
    await grant.getByRole('button', { name: 'Grant consent' }).click();
    await dana.getByText('Consent granted.').waitFor();
    const consents = dana.getByRole('list', { name: 'Consents' });
    await consents.getByText('st-mary/dr-bob').waitFor();
    await dana.screenshot({ path: join(shots, '02-patient-consents.png'), fullPage: true });

    // A physician at another organization reads under her travel consent; she is told at once.
    const erin = await signIn('city-clinic/dr-erin', { withRecordKey: true });
    await erin.getByRole('heading', { name: 'Patients' }).waitFor();
    await erin.locator('input[name=patient]').fill('st-mary/patient-dana');
    await erin.getByRole('button', { name: 'Request access' }).click();
    await erin.getByRole('heading', { name: 'Access granted' }).waitFor();
    await erin
      .getByRole('list', { name: 'Released records' })
      .getByText(/Glucose|Hemoglobin A1c/)
      .first()
      .waitFor();
    await erin.screenshot({ path: join(shots, '03-clinician-granted.png'), fullPage: true });
    await dana.getByRole('status').filter({ hasText: 'Access granted — city-clinic/dr-erin' }).waitFor();
    await dana.screenshot({ path: join(shots, '04-patient-live-notification.png'), fullPage: true });

    // The dermatologist asks for research: denied, and told why.
    const bob = await signIn('st-mary/dr-bob', { withRecordKey: false });
    await bob.locator('input[name=patient]').fill('st-mary/patient-dana');
    await bob.locator('select[name=purpose]').selectOption('research');
    await bob.getByRole('button', { name: 'Request access' }).click();
    await bob.getByRole('heading', { name: 'Access denied' }).waitFor();
    await bob.getByText('PURPOSE_NOT_PERMITTED').waitFor();
    await bob.screenshot({ path: join(shots, '05-clinician-denied.png'), fullPage: true });

    // Dana revokes his consent in one click; his next request is denied as revoked.
    const bobConsent = consents.locator('li', { hasText: 'st-mary/dr-bob' });
    await bobConsent.getByRole('button', { name: /Revoke consent/ }).click();
    await dana.getByText(/revoked: it stops working/).waitFor();
    await bob.locator('select[name=purpose]').selectOption('treatment');
    await bob.getByRole('button', { name: 'Request access' }).click();
    await bob.getByText('CONSENT_REVOKED').waitFor();

    // Break-glass: the emergency physician states a reason and a time limit.
    const bg = erin.getByRole('form', { name: 'Emergency access (break-glass)' });
    await bg.locator('textarea[name=reason]').fill('Unconscious on arrival, suspected hypoglycaemia');
    await bg.locator('select[name=hours]').selectOption('1');
    await bg.getByRole('button', { name: 'Break the glass' }).click();
    await erin.getByRole('heading', { name: 'Emergency access granted' }).waitFor();
    await erin.getByText(/Access ends .* min\s*left/).waitFor();
    await erin.screenshot({ path: join(shots, '06-clinician-break-glass.png'), fullPage: true });

    // The patient's trail: every access, denial and break-glass, each proof verified in her browser.
    const trail = dana.getByRole('list', { name: 'Access trail' });
    await dana.getByRole('status').filter({ hasText: 'Emergency access (break-glass)' }).waitFor();
    await trail.locator('li[data-kind="break-glass"]').waitFor();
    await trail.locator('li[data-kind="access.denied"]').first().waitFor();
    const entries = trail.locator('li[data-kind]');
    await dana.waitForFunction(
      () => document.querySelectorAll('[aria-label="Access trail"] .badge.pending').length === 0,
    );
    const n = await entries.count();
    assert.ok(n >= 5, `trail has ${n} entries`);
    assert.equal(await trail.locator('.badge.verified').count(), n, 'every entry’s proof verified');
    assert.equal(await trail.locator('.badge.failed').count(), 0);
    await dana.getByText('Accesses per day').waitFor();
    await dana.screenshot({ path: join(shots, '07-patient-trail-verified.png'), fullPage: true });

    // The explorer: blocks with validation codes, a verified checkpoint, a consistency check.
    await dana.getByRole('button', { name: 'Explorer' }).click();
    await dana.getByText('✓ Signature verified').waitFor();
    await dana.getByRole('button', { name: 'Check consistency' }).click();
    await dana.getByText(/✓ Consistent/).waitFor();
    await dana.locator('table button.link').first().click();
    await dana.getByRole('heading', { name: /^Block \d+$/ }).waitFor();
    await dana.screenshot({ path: join(shots, '08-explorer.png'), fullPage: true });

    // Phone width: the patient view in one column.
    const phone = await signIn('st-mary/patient-dana', { withRecordKey: true, width: 390 });
    await phone.getByRole('heading', { name: 'My health' }).waitFor();
    await phone.screenshot({ path: join(shots, '09-patient-phone.png'), fullPage: true });
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal scrolling at phone width (${overflow}px)`);
  });

  test('keys: created in the browser, enrolled by public key, backed up encrypted, unlocked by passphrase', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    contexts.push(context);
    const page = await context.newPage();
    page.on('request', (r) => requests.push({ page: 'new-patient', url: r.url(), body: r.postData() ?? '' }));
    await page.goto(`${url}/portal/`);
    const create = page.locator('form', { has: page.getByRole('heading', { name: 'Create a new key' }) });
    await create.locator('input[name=memberId]').fill('st-mary/p-new');
    await create.locator('input[name=passphrase]').fill('a long passphrase');
    await create.getByRole('button', { name: 'Create key' }).click();
    const command = (await page.locator('pre.mono').innerText()).trim();
    const publicKey = /--public-key ([A-Za-z0-9_-]{43})$/.exec(command)?.[1];
    assert.ok(publicKey, command);
    const download = page.waitForEvent('download');
    await create.getByRole('button', { name: 'Download encrypted backup' }).click();
    const backup = JSON.parse(readFileSync((await (await download).path())!, 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(backup['memberId'], 'st-mary/p-new');
    assert.deepEqual(Object.keys(backup).sort(), ['ciphertext', 'iv', 'kdf', 'memberId', 'v']);
    await page.screenshot({ path: join(shots, '10-keys-created.png'), fullPage: true });

    // The organization certifies the public key (the private key never left the browser).
    const enroll = spawn(
      process.execPath,
      [
        join(repoRoot, 'dist', 'cli', 'main.js'),
        'identity',
        'enroll',
        join(dir, 'demo'),
        '--id',
        'p-new',
        '--role',
        'patient',
        '--org',
        'st-mary',
        '--public-key',
        publicKey,
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    enroll.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    assert.equal(await new Promise((r) => enroll.once('exit', r)), 0, out);
    assert.equal((JSON.parse(out) as { code: string }).code, 'VALID');

    // Unlock: a wrong passphrase is refused; the right one signs the person in.
    const unlock = page.locator('form', { has: page.getByRole('heading', { name: 'Unlock' }) });
    await unlock.locator('select[name=memberId]').selectOption('st-mary/p-new');
    await unlock.locator('input[name=passphrase]').fill('not the passphrase');
    await unlock.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong passphrase' }).waitFor();
    await unlock.locator('input[name=passphrase]').fill('a long passphrase');
    await unlock.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'My health' }).waitFor();
    await page.locator('.who', { hasText: 'st-mary/p-new' }).waitFor();
    // Every form control has a label a screen reader announces.
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll('input, select, textarea'))
        .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label'))
        .map((el) => el.outerHTML),
    );
    assert.deepEqual(unlabelled, []);

    // Erasure, with its explanation, from the patient's own view.
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Request erasure' }).click();
    // The explanation (an alert); a live notification toast of the same event may appear beside it.
    await page
      .getByRole('alert')
      .filter({ hasText: /Erasure requested/ })
      .waitFor();
    await page.screenshot({ path: join(shots, '11-patient-erasure.png'), fullPage: true });
  });

  test('the pages talk only to the node’s API, and no key or health data leaves or is logged', () => {
    assert.ok(requests.length > 20, `${requests.length} requests seen`);
    const allowed = /^\/(portal\/|v1\/|fhir\/|health$)/;
    const outside = requests.filter((r) => {
      const u = new URL(r.url);
      return u.origin !== url || !allowed.test(u.pathname);
    });
    assert.deepEqual(
      outside.map((r) => r.url),
      [],
    );
    for (const memberId of ['st-mary/patient-dana', 'city-clinic/dr-erin', 'st-mary/dr-bob']) {
      const { privateKey } = JSON.parse(readFileSync(identity(memberId), 'utf8')) as { privateKey: string };
      const secrets = [privateKey];
      if (memberId !== 'st-mary/dr-bob')
        secrets.push(
          (JSON.parse(readFileSync(identity(memberId, '.enc.json'), 'utf8')) as { privateKey: string })
            .privateKey,
        );
      for (const secret of secrets) {
        assert.ok(
          !requests.some((r) => r.url.includes(secret) || r.body.includes(secret)),
          `${memberId}: key sent`,
        );
        assert.ok(!log.includes(secret), `${memberId}: key in the node's log`);
      }
    }
    for (const phi of ['Glucose', 'Hemoglobin', 'Insulin', 'Penicillin', 'hypoglycaemia'])
      assert.ok(!log.includes(phi), `health data in the node's log: ${phi}`);
  });
});
