/**
 * Throughput benchmark for Ed25519 verification: libsodium and the precomputed-table addon on
 * the main thread, and {@link VerifyPool} (which uses the addon when built). Not run by the tests (it takes seconds); wired into `npm run bench`.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { publicKeyOf } from '../../protocol/ed25519.js';
import { signNative, verifySodium } from './ed25519-native.js';
import { verifyPrecomputed } from './ed25519-precomputed.js';
import { VerifyPool } from './verify-pool.js';
import type { VerifyItem } from './verify-pool.js';

/** Message size of the synthetic items: about one small signed transaction. */
const MESSAGE_BYTES = 256;
/** Distinct signing keys, so the work is not one key verified over and over. */
const KEYS = 64;

/**
 * Verifies `n` valid signatures (256-byte messages, 64 keys) with `verifySodium` on the main
 * thread, with the precomputed-table addon on the main thread (its 64 key tables built in a
 * warm-up pass, as a node's are for its enrolled keys), and as a single `verifyBatch` on a pool
 * of `threads` workers (pool start-up and a warm-up batch excluded); returns verifications per
 * second for each (`verify_per_s_precomputed` is null without the addon). Throws if any
 * signature fails, so a broken verifier cannot report a fast time.
 *
 * @example const { verify_per_s_single, verify_per_s_pool } = await benchVerify({ n: 50_000, threads: 2 })
 */
export async function benchVerify(opts: { n: number; threads: number }): Promise<{
  verify_per_s_single: number;
  verify_per_s_precomputed: number | null;
  verify_per_s_pool: number;
}> {
  const { n, threads } = opts;
  const keys = Array.from({ length: KEYS }, () => {
    const seed = new Uint8Array(randomBytes(32));
    return { seed, publicKey: publicKeyOf(seed) };
  });
  const items: VerifyItem[] = [];
  for (let i = 0; i < n; i++) {
    const key = keys[i % KEYS]!;
    const message = new Uint8Array(randomBytes(MESSAGE_BYTES));
    items.push({ signature: signNative(message, key.seed), message, publicKey: key.publicKey });
  }

  let t0 = performance.now();
  let ok = 0;
  for (const it of items) if (verifySodium(it.signature, it.message, it.publicKey)) ok++;
  const singleSeconds = (performance.now() - t0) / 1000;
  if (ok !== n) throw new Error(`bench: ${n - ok} signatures failed on the main thread`);

  let precomputed: number | null = null;
  if (verifyPrecomputed) {
    for (const it of items.slice(0, KEYS)) verifyPrecomputed(it.signature, it.message, it.publicKey);
    t0 = performance.now();
    ok = 0;
    for (const it of items) if (verifyPrecomputed(it.signature, it.message, it.publicKey)) ok++;
    precomputed = Math.round(n / ((performance.now() - t0) / 1000));
    if (ok !== n) throw new Error(`bench: ${n - ok} signatures failed with the precomputed verifier`);
  }

  const pool = await VerifyPool.create({ threads });
  try {
    await pool.verifyBatch(items.slice(0, Math.min(n, 1000))); // warm-up (JIT, worker caches)
    t0 = performance.now();
    const flags = await pool.verifyBatch(items);
    const poolSeconds = (performance.now() - t0) / 1000;
    if (flags.some((f) => f !== 1)) throw new Error('bench: the pool rejected a valid signature');
    return {
      verify_per_s_single: Math.round(n / singleSeconds),
      verify_per_s_precomputed: precomputed,
      verify_per_s_pool: Math.round(n / poolSeconds),
    };
  } finally {
    await pool.close();
  }
}
