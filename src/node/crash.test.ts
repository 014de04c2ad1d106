/**
 * Crash safety: the real CLI node (`healthledger start`) in a child process, killed with SIGKILL
 * at random moments while several clients submit single transactions and small batches. After
 * every restart each acknowledged transaction (HTTP 200, status `committed`) must have a locally
 * verified receipt with the acknowledged position and code; unacknowledged ones, resubmitted
 * byte for byte, must commit or answer DUPLICATE_TX — never commit twice. At the end the raw
 * store holds each acknowledged id exactly once and `healthledger verify` passes.
 *
 * Reproduce a failure with the printed seed: `HL_CRASH_SEED=<seed> node --test dist/node/crash.test.js`
 * (the seed fixes the kill delays and resubmission picks; the exact interleaving with the node still
 * varies). `HL_CRASH_ITERATIONS` changes the number of kills; the home folder is kept on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { createIdentity, initHome } from '../cli/home-init.js';
import { homePaths, loadHome, readIdentity } from './home.js';
import { HealthLedgerError } from '../protocol/errors.js';
import { verify as verifyEd25519, type Ed25519Verify } from '../protocol/ed25519.js';
import { verifyReceipt, type Receipt } from '../protocol/receipt.js';
import type { SubmitResultWire } from '../protocol/api.js';
import { txIdOf, type SignedTx } from '../protocol/tx.js';
import { HealthLedgerClient, identityFromFile, type Identity } from '../sdk/client.js';
import { repoRoot } from '../test-support/paths.js';

const ITERATIONS = Number(process.env['HL_CRASH_ITERATIONS'] ?? 20);
const SEED = Number(process.env['HL_CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
const LOAD_LOOPS = 4;
/** Run `healthledger verify` while the node is down after these kills (1-based), and at the end. */
const VERIFY_AFTER = new Set([5, 10, 15]);

/** mulberry32: small, seedable, good enough to make a kill schedule reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How to run the CLI: compiled output when built (the suite runs from dist/), else through tsx. */
function cliCommand(): string[] {
  const compiled = join(repoRoot, 'dist', 'cli', 'main.js');
  if (existsSync(compiled)) return [compiled];
  return ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')];
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

interface Child {
  proc: ChildProcessWithoutNullStreams;
  url: string;
  exited: Promise<Exit>;
  /** Last lines of output, for failure messages. */
  tail(): string;
}

/** Starts `healthledger start DIR --port 0` and resolves once it prints its URL. */
async function startChild(dir: string): Promise<Child> {
  const proc = spawn(process.execPath, [...cliCommand(), 'start', dir, '--port', '0'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as unknown as ChildProcessWithoutNullStreams;
  const lines: string[] = [];
  const keep = (prefix: string) => (line: string) => {
    lines.push(prefix + line);
    if (lines.length > 40) lines.shift();
  };
  createInterface({ input: proc.stderr }).on('line', keep('stderr: '));
  const exited = new Promise<Exit>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const tail = () => lines.join('\n');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start within 20 s\n${tail()}`)), 20_000);
    createInterface({ input: proc.stdout }).on('line', (line) => {
      keep('stdout: ')(line);
      let ev: { event?: string; url?: string };
      try {
        ev = JSON.parse(line) as typeof ev;
      } catch {
        return;
      }
      if (ev.event === 'api.listening' && typeof ev.url === 'string') {
        clearTimeout(timer);
        resolve(ev.url);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`node exited during startup (code ${code}, signal ${signal})\n${tail()}`));
    });
  });
  return { proc, url, exited, tail };
}

async function waitHealthy(client: HealthLedgerClient, child: Child): Promise<{ height: number }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const h = await client.nodeHealth();
      if (h.status === 'ok') return h.head;
      throw new Error(`node is ${h.status}: ${JSON.stringify(h)}`);
    } catch (e) {
      if (Date.now() > deadline)
        throw new Error(`node not healthy: ${(e as Error).message}\n${child.tail()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function runVerify(dir: string): {
  status: number | null;
  out: { ok?: boolean } & Record<string, unknown>;
  raw: string;
} {
  const r = spawnSync(process.execPath, [...cliCommand(), 'verify', dir, '--json'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const raw = `${r.stdout}${r.stderr}`;
  let out: { ok?: boolean } & Record<string, unknown> = {};
  try {
    out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as typeof out;
  } catch {
    // reported through raw
  }
  return { status: r.status, out, raw };
}

/** Ed25519 verification remembering successes, so a block's checkpoint signature is checked once. */
const verifiedSignatures = new Set<string>();
const memoVerify: Ed25519Verify = (signature, message, publicKey) => {
  const key = `${Buffer.from(signature).toString('hex')}|${Buffer.from(message).toString('hex')}|${Buffer.from(publicKey).toString('hex')}`;
  if (verifiedSignatures.has(key)) return true;
  const ok = verifyEd25519(signature, message, publicKey);
  if (ok) verifiedSignatures.add(key);
  return ok;
};

/**
 * `client.verifiedReceipt` with the same checks (checkpoint signed by a genesis node, tx id,
 * inclusion proof), but each checkpoint signature verified once across the many receipts of its block.
 */
async function memoVerifiedReceipt(client: HealthLedgerClient, txId: string): Promise<Receipt> {
  const r = await client.receipt(txId);
  if (r.txId !== txId) throw new Error('node returned a receipt for another transaction');
  return verifyReceipt(r, client.trusted, client.chainId, memoVerify);
}

/** What the node acknowledged for a transaction. */
interface Ack {
  height: number;
  index: number;
  seq: number;
  code: string;
  iteration: number;
  how: 'single' | 'batch' | 'resubmit';
}

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

test(
  `SIGKILL at random moments under load, ${ITERATIONS} times: acknowledged transactions survive exactly once and verify passes`,
  { timeout: 240_000 },
  async (t) => {
    // Two streams: the kill schedule (delays, resubmission picks) does not depend on how many
    // transactions the load loops happened to sign, so a seed reproduces the same kill delays.
    const schedule = prng(SEED);
    const rnd = prng(SEED ^ 0x9e3779b9);
    t.diagnostic(`seed ${SEED} (rerun with HL_CRASH_SEED=${SEED})`);
    const dir = mkdtempSync(join(tmpdir(), 'hl-crash-'));
    const where = () => `[seed ${SEED}, home ${dir}]`;
    initHome(dir, {
      chainId: 'hl-crash',
      orgs: ['st-mary:St Mary Hospital'],
      host: '127.0.0.1',
      port: 0,
      nowMs: Date.now(),
      // Short block timeout: many small blocks, so kills land in every phase of a commit.
      policies: { blockTimeoutMs: 10 },
    });
    const paths = homePaths(dir);
    const { genesis, config } = loadHome(dir);
    writeFileSync(paths.nodeConfig, JSON.stringify({ ...config, verifyThreads: 1 }, null, 2) + '\n');

    let child: Child | undefined;
    let passed = false;
    const acked = new Map<string, Ack>();
    /** Unacknowledged transactions found committed on resubmission (DUPLICATE_TX): id → code. */
    const committedUnacked = new Map<string, string>();
    /** Signed transactions sent but never acknowledged (the kill cut them off). */
    const unacked = new Map<string, SignedTx>();
    const anomalies: string[] = [];
    const timing = { restart: 0, receipts: 0, verify: 0 };
    const stats = {
      kills: 0,
      single: 0,
      batch: 0,
      lost: 0,
      resubmitted: 0,
      resubmitCommitted: 0,
      resubmitDuplicate: 0,
      verifies: 0,
    };

    try {
      // First run: enroll the practitioner whose transactions make the load.
      child = await startChild(dir);
      let client = new HealthLedgerClient({ baseUrl: child.url, genesis });
      await waitHealthy(client, child);
      const file = createIdentity(dir, {
        orgId: 'st-mary',
        memberId: 'dr-crash',
        role: 'practitioner',
        attributes: { licence: 'MD-9' },
        nowMs: Date.now(),
      });
      const admin = identityFromFile(readIdentity(dir, 'st-mary/admin'));
      const enrolled = await client.sendAndVerify(admin, 'member.enroll', { certificate: file.certificate });
      assert.equal(enrolled.code, 'VALID', 'enrollment');
      acked.set(enrolled.txId, {
        height: enrolled.height,
        index: enrolled.index,
        seq: enrolled.seq,
        code: enrolled.code,
        iteration: 0,
        how: 'single',
      });
      const dr: Identity = identityFromFile(readIdentity(dir, file.memberId));
      let keyCounter = 0;
      const newTx = (): SignedTx =>
        client.sign(dr, 'anchor.put', {
          key: `doc-${keyCounter++ % 50}`,
          commitment: Math.floor(rnd() * 2 ** 32)
            .toString(16)
            .padStart(8, '0')
            .repeat(8),
        });

      for (let iteration = 1; iteration <= ITERATIONS; iteration++) {
        const at = (txId: string) => `tx ${txId} (iteration ${iteration}) ${where()}`;

        // 1. Every acknowledged transaction is there, at the acknowledged position, with its code.
        if (iteration > 1) {
          let t0 = performance.now();
          child = await startChild(dir);
          client = new HealthLedgerClient({ baseUrl: child.url, genesis });
          await waitHealthy(client, child);
          timing.restart += performance.now() - t0;
          t0 = performance.now();
          const c = client;
          await pool([...acked], 8, async ([txId, ack]) => {
            let r;
            try {
              r = await memoVerifiedReceipt(c, txId);
            } catch (e) {
              assert.fail(
                `acknowledged ${at(txId)} (acked in iteration ${ack.iteration} as ${ack.how}) lost after restart: ${(e as Error).message}`,
              );
            }
            assert.deepEqual(
              { height: r.height, index: r.index, seq: r.seq, code: r.code },
              { height: ack.height, index: ack.index, seq: ack.seq, code: ack.code },
              `receipt of acknowledged ${at(txId)} differs from the acknowledgement`,
            );
          });

          timing.receipts += performance.now() - t0;

          // 2. Resubmit some unacknowledged transactions, byte for byte: committed once, or DUPLICATE_TX.
          const picks = [...unacked.values()].filter(() => schedule() < 0.5).slice(0, 12);
          for (const tx of picks) {
            const txId = txIdOf(tx.body);
            stats.resubmitted++;
            unacked.delete(txId);
            try {
              const r = await client.submit(tx, { wait: true, timeoutMs: 10_000 });
              assert.equal(r.status, 'committed', `resubmitted ${at(txId)}: ${JSON.stringify(r)}`);
              if (r.status !== 'committed') continue;
              acked.set(txId, {
                height: r.height,
                index: r.index,
                seq: r.seq,
                code: r.code,
                iteration,
                how: 'resubmit',
              });
              stats.resubmitCommitted++;
            } catch (e) {
              if (!(e instanceof HealthLedgerError) || e.code !== 'DUPLICATE_TX')
                assert.fail(
                  `resubmitted ${at(txId)}: expected committed or DUPLICATE_TX, got ${(e as Error).message}`,
                );
              const r = await client.verifiedReceipt(txId);
              committedUnacked.set(txId, r.code);
              stats.resubmitDuplicate++;
            }
          }
          // A replay of an acknowledged transaction is refused.
          const someAcked = [...acked.keys()][Math.floor(schedule() * acked.size)];
          if (someAcked !== undefined) {
            const r = await client.receipt(someAcked);
            await assert.rejects(
              client.submit(r.tx, { wait: true, timeoutMs: 5_000 }),
              (e: unknown) => e instanceof HealthLedgerError && e.code === 'DUPLICATE_TX',
              `replay of acknowledged ${at(someAcked)} was not refused as DUPLICATE_TX`,
            );
          }
        }
        const live: Child = child!;
        const c = client;

        // 3. Load, then SIGKILL after a random delay.
        let killed = false;
        const loop = async (): Promise<void> => {
          while (!killed) {
            const batch = rnd() < 0.4;
            const txs = Array.from({ length: batch ? 2 + Math.floor(rnd() * 6) : 1 }, newTx);
            let results: SubmitResultWire[];
            try {
              results = batch
                ? await c.submitBatch(txs, { wait: true, timeoutMs: 10_000 })
                : [await c.submit(txs[0]!, { wait: true, timeoutMs: 10_000 })];
            } catch (e) {
              // No answer (the kill): not acknowledged. A coded answer from a live node would be a bug.
              if (e instanceof HealthLedgerError)
                anomalies.push(
                  `iteration ${iteration}: ${batch ? 'batch' : 'single'} rejected ${e.code}: ${e.message}`,
                );
              for (const tx of txs) unacked.set(txIdOf(tx.body), tx);
              stats.lost += txs.length;
              continue;
            }
            txs.forEach((tx, i) => {
              const r = results[i];
              const txId = txIdOf(tx.body);
              if (r?.status === 'committed') {
                assert.equal(r.txId, txId, `iteration ${iteration}: result ${i} names another transaction`);
                acked.set(txId, {
                  height: r.height,
                  index: r.index,
                  seq: r.seq,
                  code: r.code,
                  iteration,
                  how: batch ? 'batch' : 'single',
                });
                if (batch) stats.batch++;
                else stats.single++;
              } else {
                anomalies.push(
                  `iteration ${iteration}: ${txId} answered ${JSON.stringify(r)} by a live node`,
                );
                unacked.set(txId, tx);
              }
            });
          }
        };
        const loops = Array.from({ length: LOAD_LOOPS }, loop);
        const delay = 50 + Math.floor(schedule() * 350);
        await new Promise((r) => setTimeout(r, delay));
        killed = true;
        live.proc.kill('SIGKILL');
        const exit: Exit = await live.exited;
        await Promise.all(loops);
        stats.kills++;
        assert.equal(
          exit.signal,
          'SIGKILL',
          `iteration ${iteration}: node exited on its own before the kill (code ${exit.code})\n${live.tail()}`,
        );
        child = undefined;
        assert.deepEqual(anomalies, [], `unexpected answers from a live node ${where()}`);

        // 4. Now and then, the whole chain verifies while the node is down.
        if (VERIFY_AFTER.has(iteration)) {
          const t0 = performance.now();
          const v = runVerify(dir);
          timing.verify += performance.now() - t0;
          stats.verifies++;
          assert.equal(v.status, 0, `healthledger verify after kill ${iteration} ${where()}: ${v.raw}`);
          assert.equal(v.out.ok, true, `healthledger verify after kill ${iteration} ${where()}: ${v.raw}`);
        }
      }

      // Final: a clean start (acknowledged receipts checked once more), then SIGTERM.
      child = await startChild(dir);
      client = new HealthLedgerClient({ baseUrl: child.url, genesis });
      await waitHealthy(client, child);
      const last = client;
      await pool([...acked], 8, async ([txId, ack]) => {
        const r = await last.verifiedReceipt(txId);
        assert.deepEqual(
          { height: r.height, index: r.index, seq: r.seq, code: r.code },
          { height: ack.height, index: ack.index, seq: ack.seq, code: ack.code },
          `final receipt of acknowledged tx ${txId} (iteration ${ack.iteration}) ${where()}`,
        );
      });
      child.proc.kill('SIGTERM');
      const exit: Exit = await child.exited;
      assert.equal(exit.code, 0, `node did not stop cleanly on SIGTERM\n${child.tail()}`);
      child = undefined;

      // The raw store: each acknowledged id exactly once, consumed; contiguous heights.
      const db = new Database(paths.store, { readonly: true, fileMustExist: true });
      try {
        const rows = db.prepare<[Buffer], { n: number; consumed: number }>(
          'SELECT count(*) AS n, coalesce(sum(consumed), 0) AS consumed FROM txs WHERE tx_id = ?',
        );
        for (const [txId, ack] of [
          ...acked,
          ...[...committedUnacked].map(([id, code]) => [id, { code, iteration: -1 }] as const),
        ]) {
          const r = rows.get(Buffer.from(txId, 'hex'))!;
          assert.deepEqual(
            r,
            { n: 1, consumed: 1 },
            `tx ${txId} (acknowledged in iteration ${ack.iteration}, code ${ack.code}) is not stored exactly once ${where()}`,
          );
        }
        const twice = db
          .prepare(
            'SELECT hex(tx_id) AS id, count(*) AS n FROM txs GROUP BY tx_id HAVING count(*) > 1 LIMIT 5',
          )
          .all();
        assert.deepEqual(twice, [], `transactions stored more than once ${where()}`);
        const b = db
          .prepare('SELECT count(*) AS n, min(height) AS lo, max(height) AS hi FROM blocks')
          .get() as { n: number; lo: number; hi: number };
        assert.equal(b.lo, 1, 'first block height');
        assert.equal(
          b.n,
          b.hi,
          `block heights are not contiguous: ${b.n} blocks, max height ${b.hi} ${where()}`,
        );
        const cp = db.prepare('SELECT count(*) AS n FROM checkpoints').get() as { n: number };
        assert.equal(cp.n, b.n, 'one checkpoint per block');
        t.diagnostic(`store: ${b.n} blocks`);
      } finally {
        db.close();
      }
      const v = runVerify(dir);
      stats.verifies++;
      assert.equal(v.status, 0, `final healthledger verify ${where()}: ${v.raw}`);
      assert.equal(v.out.ok, true, `final healthledger verify ${where()}: ${v.raw}`);
      t.diagnostic(`verify: ${JSON.stringify(v.out)}`);
      t.diagnostic(
        `acknowledged ${acked.size} (single ${stats.single}, batched ${stats.batch}); ${JSON.stringify(stats)}`,
      );
      t.diagnostic(
        `time (ms): ${JSON.stringify(timing, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`,
      );
      passed = true;
    } finally {
      if (child) {
        child.proc.kill('SIGKILL');
        await child.exited;
      }
      if (passed) rmSync(dir, { recursive: true, force: true });
      else t.diagnostic(`kept ${dir} for inspection; seed ${SEED}`);
    }
  },
);
