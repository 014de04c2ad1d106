/**
 * Durable homes: every file `init`, enrollment and the node write outside SQLite is written
 * atomically (temporary file, fsync, rename, fsync of the folder), and a home whose file was cut
 * short — as a crash after an fsync-less write leaves it — is refused naming that file.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs, {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { initHome } from './home-init.js';
import { createIdentity } from '../node/identities.js';
import { loadOrCreateEventsSecret } from '../node/events/tokens.js';
import { checkHome, HomeFileError, loadHome, writeFileDurable, writeJson } from '../node/home.js';
import { repoRoot } from '../test-support/paths.js';

const main = join(repoRoot, 'dist', 'cli', 'main.js');
const cliArgs = existsSync(main) ? [main] : ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')];

function filesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesOf(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('durable node homes', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hl-home-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const home = join(tmp, 'home');
  initHome(home, {
    chainId: 'durable',
    orgs: ['st-mary:St Mary', 'city-clinic'],
    host: '127.0.0.1',
    port: 7999,
    nowMs: Date.now(),
  });
  createIdentity(home, {
    orgId: 'st-mary',
    memberId: 'dr-alice',
    role: 'practitioner',
    attributes: {},
    nowMs: Date.now(),
  });
  loadOrCreateEventsSecret(join(home, 'keys', 'events-secret'));

  test('a whole home passes the start-up check and leaves no temporary files', () => {
    checkHome(home);
    assert.deepEqual(
      filesOf(home).filter((f) => f.endsWith('.tmp')),
      [],
    );
    // Keys and identities stay private to their owner.
    for (const f of filesOf(home).filter((f) => /\.key$|identities|events-secret/.test(f)))
      assert.equal(statSync(f).mode & 0o777, 0o600, f);
  });

  // Every file the home holds, cut to nothing and to half, as a crash after a write that was
  // never fsynced leaves it: start-up refuses the home and names exactly that file.
  const files = filesOf(home).map((f) => relative(home, f));
  assert.ok(files.length >= 9, `expected the whole home, got ${files.join(', ')}`);
  for (const rel of files)
    for (const cut of ['empty', 'half'] as const)
      test(`${rel} ${cut === 'empty' ? 'empty' : 'cut in half'}: refused naming the file`, () => {
        const copy = join(tmp, `cut-${rel.replace(/\W/g, '_')}-${cut}`);
        cpSync(home, copy, { recursive: true });
        const path = join(copy, rel);
        truncateSync(path, cut === 'empty' ? 0 : Math.floor(statSync(path).size / 2));
        assert.throws(
          () => loadHome(copy),
          (e: unknown) =>
            e instanceof HomeFileError && e.path === path && e.message.includes('restore') && true,
        );
      });

  test('`healthledger start` on a cut node key exits 2 naming the file, and writes nothing', () => {
    const copy = join(tmp, 'cut-start');
    cpSync(home, copy, { recursive: true });
    truncateSync(join(copy, 'keys', 'node.key'), 0);
    const r = spawnSync(process.execPath, [...cliArgs, 'start', copy], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /keys\/node\.key is empty\. The node home is damaged: restore node\.key from a backup/,
    );
    assert.equal(existsSync(join(copy, 'data', 'ledger.sqlite')), false);
  });

  test('a write is fsynced before its rename, and the folder after it', () => {
    const calls: string[] = [];
    const spy = <K extends 'fsyncSync' | 'renameSync' | 'writeSync'>(name: K) => {
      const orig = fs[name] as (...a: unknown[]) => unknown;
      (fs as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
        calls.push(name);
        return orig(...a);
      };
      return () => ((fs as unknown as Record<string, unknown>)[name] = orig);
    };
    const restore = [spy('fsyncSync'), spy('renameSync'), spy('writeSync')];
    syncBuiltinESMExports();
    try {
      writeJson(join(tmp, 'fresh', 'a.json'), { a: 1 });
    } finally {
      restore.forEach((r) => r());
      syncBuiltinESMExports();
    }
    // new folder fsynced into its parent; data written; file fsynced; renamed; folder fsynced
    assert.deepEqual(calls, ['fsyncSync', 'writeSync', 'fsyncSync', 'renameSync', 'fsyncSync']);
    assert.deepEqual(JSON.parse(readFileSync(join(tmp, 'fresh', 'a.json'), 'utf8')), { a: 1 });
  });

  test('a failed write leaves the previous file whole and no temporary file', () => {
    const path = join(tmp, 'keep.json');
    writeJson(path, { version: 1 });
    const orig = fs.fsyncSync;
    fs.fsyncSync = () => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    };
    syncBuiltinESMExports();
    try {
      assert.throws(() => writeFileDurable(path, JSON.stringify({ version: 2 })), /EIO/);
    } finally {
      fs.fsyncSync = orig;
      syncBuiltinESMExports();
    }
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { version: 1 });
    assert.deepEqual(
      readdirSync(tmp).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  test('a leftover temporary file from an interrupted write is ignored by the check', () => {
    writeFileSync(join(home, 'keys', '.node.key.abc123.tmp'), '{"kty":');
    checkHome(home);
  });
});
