/** The real CLI as a user runs it: demo, init, start, identity, tx, proof, verify — with --json. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, testdataDir } from '../test-support/paths.js';
import { freePort } from '../bench/ledger-bench.js';

const main = join(repoRoot, 'dist', 'cli', 'main.js');
const cliArgs = existsSync(main) ? [main] : ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')];
const run = (...args: string[]) =>
  spawnSync(process.execPath, [...cliArgs, ...args], { encoding: 'utf8', timeout: 120_000 });
const json = <T>(r: { stdout: string; stderr: string; status: number | null }): T => {
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return JSON.parse(r.stdout) as T;
};

describe('healthledger CLI', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hl-cli-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('demo --once seeds a consortium, serves it, and the store verifies', async () => {
    const port = await freePort();
    const r = run('demo', '--dir', join(tmp, 'demo'), '--port', String(port), '--once');
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /7 organizations: st-mary, city-clinic, corner-pharmacy, acme-payer, novapharm, medsupply, health-authority/,
    );
    // 2 custodian bootstrap + 15 membership and anchors + 8 records and consent + 1 disclosure (the release) + 4 parties + 9 EPCIS events + 5 glucose readings
    assert.match(r.stdout, /verify: OK \(\d+ blocks, 44 transactions\)/);
    // A run stopped while seeding leaves its marker: the next run starts afresh and seeds everything.
    writeFileSync(join(tmp, 'demo', '.demo-seeding'), '');
    const again = run('demo', '--dir', join(tmp, 'demo'), '--port', String(port), '--once');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /stopped while seeding .*: starting afresh/);
    assert.match(again.stdout, /verify: OK \(\d+ blocks, 44 transactions\)/);
    assert.equal(existsSync(join(tmp, 'demo', '.demo-seeding')), false);
  });

  describe('against a started node', () => {
    const dir = join(tmp, 'node');
    let child: ChildProcess;
    before(async () => {
      const port = await freePort();
      const init = json<{ nodeId: string; admins: string[] }>(
        run(
          'init',
          dir,
          '--chain',
          'cli-test',
          '--org',
          'st-mary:St Mary',
          '--org',
          'city-clinic',
          '--port',
          String(port),
          '--json',
        ),
      );
      assert.equal(init.nodeId, 'st-mary-node1');
      assert.deepEqual(init.admins, ['st-mary/admin', 'city-clinic/admin']);
      assert.equal(statSync(join(dir, 'keys', 'node.key')).mode & 0o077, 0, 'node key readable by others');
      child = spawn(process.execPath, [...cliArgs, 'start', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('api.listening') && resolve());
        child.once('exit', (c) => reject(new Error(`node exited ${c}`)));
      });
    });
    after(async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    });

    test('init refuses to overwrite a home', () => {
      const r = run('init', dir);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /refusing to overwrite/);
    });

    test('enroll, anchor, receipt, consistency, revoke, verify', () => {
      const e = json<{ memberId: string; code: string }>(
        run(
          'identity',
          'enroll',
          dir,
          '--id',
          'dr-alice',
          '--role',
          'practitioner',
          '--attr',
          'licence=MD-1',
          '--attr',
          'specialty=endocrinology',
          '--json',
        ),
      );
      assert.deepEqual([e.memberId, e.code], ['st-mary/dr-alice', 'VALID']);
      const m = json<{ role: string; attributes: Record<string, string> }>(
        run('identity', 'show', dir, 'st-mary/dr-alice', '--json'),
      );
      assert.deepEqual([m.role, m.attributes['specialty']], ['practitioner', 'endocrinology']);
      const a = json<{ txId: string; code: string; checkpoint: { checkpoint: { logSize: number } } }>(
        run(
          'tx',
          'anchor',
          dir,
          '--as',
          'st-mary/dr-alice',
          '--key',
          'doc-1',
          '--commitment',
          'ab'.repeat(32),
          '--json',
        ),
      );
      assert.equal(a.code, 'VALID');
      const rc = json<{ txId: string; code: string }>(run('tx', 'receipt', dir, a.txId, '--json'));
      assert.deepEqual([rc.txId, rc.code], [a.txId, 'VALID']);
      const bad = run(
        'tx',
        'anchor',
        dir,
        '--as',
        'st-mary/dr-alice',
        '--key',
        'doc-2',
        '--commitment',
        'nothex',
      );
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /error INVALID_PAYLOAD/);
      const cp = json<{ checkpoint: { logSize: number } }>(run('proof', 'checkpoint', dir, '--json'));
      const c = json<{ proof: string[] }>(
        run('proof', 'consistency', dir, '--from', '1', '--to', String(cp.checkpoint.logSize), '--json'),
      );
      assert.ok(Array.isArray(c.proof));
      const rv = json<{ code: string }>(
        run('identity', 'revoke', dir, 'st-mary/dr-alice', '--reason', 'test', '--json'),
      );
      assert.equal(rv.code, 'VALID');
      const after = run(
        'tx',
        'anchor',
        dir,
        '--as',
        'st-mary/dr-alice',
        '--key',
        'doc-3',
        '--commitment',
        'ab'.repeat(32),
      );
      assert.match(after.stderr, /error SIGNER_REVOKED/);
      // Records: a patient with an encryption key, a Synthea bundle imported with a progress bar.
      json(run('identity', 'enroll', dir, '--id', 'p-synthea', '--role', 'patient', '--json'));
      json(run('identity', 'enroll', dir, '--id', 'dr-bob', '--role', 'practitioner', '--json'));
      json(run('identity', 'encryption-key', dir, '--as', 'st-mary/p-synthea', '--json'));
      const bundleFile = join(
        testdataDir,
        'synthea-r4',
        readdirSync(join(testdataDir, 'synthea-r4'))
          .filter((f) => f.endsWith('.json'))
          .sort()[0]!,
      );
      const imp = run('import', dir, bundleFile, '--as', 'st-mary/dr-bob', '--patient', 'st-mary/p-synthea');
      assert.equal(imp.status, 0, imp.stderr);
      assert.match(imp.stdout, /imported \d+ resources from 1 bundle/);
      assert.match(imp.stderr, /importing \[/, 'progress bar');
      const v = json<{ ok: boolean; height: number }>(run('verify', dir, '--json'));
      assert.equal(v.ok, true);
      assert.ok(v.height >= 9, `height ${v.height}`);
    });
  });
});
