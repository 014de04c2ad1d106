/**
 * `verify` on an intact store passes; any single altered byte anywhere in the store is caught
 * and the first bad block named — both through the library and the real CLI's exit code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { startTestNetwork, type TestNetwork } from '../test-support/harness.js';
import { repoRoot } from '../test-support/paths.js';
import { homePaths } from './home.js';
import { VerifyPool } from './crypto/verify-pool.js';
import { verifyChain } from './verify-chain.js';

describe('healthledger verify', () => {
  let net: TestNetwork;
  let pool: VerifyPool;
  let work: string;
  let txHeight = 0;

  before(async () => {
    net = await startTestNetwork();
    const alice = await net.enroll('st-mary', 'dr-alice', 'practitioner');
    for (let i = 0; i < 5; i++) {
      const c = await net.client.submitAndWait(
        net.client.sign(alice, 'anchor.put', { key: `doc-${i}`, commitment: 'cd'.repeat(32) }),
      );
      txHeight = c.height;
    }
    await net.stop();
    pool = await VerifyPool.create({ threads: 1 });
    work = mkdtempSync(join(tmpdir(), 'hl-verify-'));
  });
  after(async () => {
    await pool.close();
    await net.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  /** A copy of the store with one alteration applied through raw SQL. */
  function tampered(name: string, sql: string, ...params: unknown[]): string {
    const path = join(work, `${name}.sqlite`);
    copyFileSync(homePaths(net.dir).store, path);
    const db = new Database(path);
    db.prepare(sql).run(...params);
    db.close();
    return path;
  }

  test('an intact store verifies', async () => {
    const r = await verifyChain({ storePath: homePaths(net.dir).store, verifier: pool });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.ok(r.ok && r.txCount >= 6);
  });

  // A different first character whatever the signature starts with (a fixed one was a no-op for 1 in 64).
  const FLIP_FIRST_CHAR =
    "(CASE WHEN substr(signature, 1, 1) = 'A' THEN 'B' ELSE 'A' END) || substr(signature, 2)";
  const cases: [string, string, unknown[], number | null][] = [
    [
      'payload byte',
      "UPDATE txs SET raw = replace(raw, 'doc-3', 'doc-9') WHERE raw LIKE '%doc-3%'",
      [],
      null,
    ],
    ['validation code', "UPDATE txs SET code = 'INVALID_PAYLOAD' WHERE raw LIKE '%doc-1%'", [], null],
    ['replay flag', "UPDATE txs SET consumed = 0 WHERE raw LIKE '%doc-2%'", [], null],
    [
      'block timestamp',
      'UPDATE blocks SET header = replace(header, \'"timestampMs":\', \'"timestampMs":1\') WHERE height = 2',
      [],
      2,
    ],
    ['block signature', `UPDATE blocks SET signature = ${FLIP_FIRST_CHAR} WHERE height = 3`, [], 3],
    [
      'merkle node',
      'UPDATE merkle SET hash = zeroblob(32) WHERE id = (SELECT max(id) FROM merkle)',
      [],
      null,
    ],
    ['checkpoint signature', `UPDATE checkpoints SET signature = ${FLIP_FIRST_CHAR} WHERE height = 1`, [], 1],
    [
      'state value',
      "UPDATE state SET value = replace(value, 'practitioner', 'org-admin') WHERE key = 'member/st-mary/dr-alice'",
      [],
      null,
    ],
    ['deleted block', 'DELETE FROM blocks WHERE height = 2', [], 2],
  ];
  for (const [name, sql, params, height] of cases) {
    test(`an altered ${name} is caught`, async () => {
      const r = await verifyChain({
        storePath: tampered(name.replace(/ /g, '-'), sql, ...params),
        verifier: pool,
      });
      assert.equal(r.ok, false, `${name}: tampering not detected`);
      if (!r.ok && height !== null) assert.equal(r.badHeight, height, r.reason);
      if (!r.ok && height === null) assert.ok(r.reason.length > 0);
    });
  }

  test('a payload edit names the block that holds it', async () => {
    const r = await verifyChain({
      storePath: tampered(
        'named',
        "UPDATE txs SET raw = replace(raw, 'doc-4', 'doc-8') WHERE raw LIKE '%doc-4%'",
      ),
      verifier: pool,
    });
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.badHeight === txHeight, JSON.stringify(r));
  });

  test('the CLI exits 0 on an intact store and non-zero naming the block when altered', () => {
    const cli = join(repoRoot, 'dist', 'cli', 'main.js');
    const args = existsSync(cli) ? [cli] : ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')];
    const ok = spawnSync(process.execPath, [...args, 'verify', net.dir, '--json'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { ok: boolean }).ok, true);
    const bad = tampered(
      'cli',
      'UPDATE blocks SET header = replace(header, \'"txCount":1\', \'"txCount":2\') WHERE height = 4',
    );
    const r = spawnSync(process.execPath, [...args, 'verify', net.dir, '--store', bad], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAILED at block 4/);
  });
});
