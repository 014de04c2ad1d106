/**
 * `npm run bench [-- --json] [--only embedded|supply|network] [--txs N] [--batch B] [--concurrency C] [--supply-serials N]
 * [--network-batch B] [--network-concurrency C | --network-rate R] [--network-warmup N]`: benchmarks the embedded
 * node and, in the same run on the same machine, Ed25519 verification, so throughput can be
 * read as a ratio of the machine's signature-checking capacity. Prints one JSON line with --json.
 * @module
 */
import { availableParallelism, cpus } from 'node:os';
import { benchVerify } from '../node/crypto/verify-pool.bench.js';
import { benchLedger } from './ledger-bench.js';
import { DEFAULT_POLICIES } from '../protocol/genesis.js';
import { benchRecords } from './records-bench.js';
import { benchTrail } from '../node/events/event-index.bench.js';
import { benchSupply } from './supply-bench.js';
import { benchNetwork } from './network-bench.js';

/** The named fields of `o`, in the order given (for JSON output). */
function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const json = process.argv.includes('--json');
const cores = availableParallelism();
const say = (s: string): void => {
  if (!json) process.stderr.write(s + '\n');
};

// `--only supply` runs just the supply-chain verification bench (its fixture takes a while to build).
if (process.argv.includes('--only') && process.argv[process.argv.indexOf('--only') + 1] === 'supply') {
  const supply = await benchSupply({
    serials: arg('supply-serials', 10_000_000),
    requests: arg('supply-requests', 200_000),
    concurrency: arg('supply-concurrency', 32),
    servers: arg('supply-servers', 2),
    fresh: process.argv.includes('--supply-fresh'),
    say,
  });
  process.stdout.write(
    JSON.stringify({ bench: 'supply', ...supply, cores, cpu: cpus()[0]?.model ?? 'unknown' }) + '\n',
  );
  process.exit(0);
}

/**
 * The network bench's load: by default open loop — 5,000 tx/s offered (#4's target) in requests of
 * 400, whatever is in flight, so latency is the system's own; `--network-rate 0` switches to closed
 * loop (`--network-concurrency` requests in flight per node). The first `--network-warmup`
 * transactions (20,000) are sent the same way and not counted.
 */
function networkOptions(): Parameters<typeof benchNetwork>[0] {
  const rate = arg('network-rate', 5_000);
  return {
    orgs: arg('network-orgs', 3),
    txs: arg('network-txs', 100_000),
    batch: arg('network-batch', 400),
    concurrency: arg('network-concurrency', 2),
    warmup: arg('network-warmup', 20_000),
    ...(rate > 0 ? { rate } : {}),
  };
}

// `--only network` runs just the three-organization network bench.
if (process.argv.includes('--only') && process.argv[process.argv.indexOf('--only') + 1] === 'network') {
  const network = await benchNetwork(networkOptions());
  process.stdout.write(
    JSON.stringify({ bench: 'network', ...network, cores, cpu: cpus()[0]?.model ?? 'unknown' }) + '\n',
  );
  process.exit(0);
}

say(
  `HealthLedger benchmark on ${cores} cores (${cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}`,
);
say('Ed25519 verification (strict RFC 8032, libsodium rules)…');
const verify = await benchVerify({ n: arg('verify-n', 40_000), threads: cores });
// The node's own verifier: the precomputed-table addon when built (ADR 0010), else libsodium.
const nodeVerifyPerS = verify.verify_per_s_precomputed ?? verify.verify_per_s_single;
say(
  `  libsodium ${verify.verify_per_s_single}/s on one thread; precomputed tables ${verify.verify_per_s_precomputed ?? 'n/a'}/s on one thread; ${verify.verify_per_s_pool}/s on the node's ${cores}-thread pool`,
);
say('Embedded node: signed anchor.put transactions, HTTP batches, wait for commit…');
const ledger = await benchLedger({
  txs: arg('txs', 200_000),
  batch: arg('batch', 1000),
  concurrency: arg('concurrency', 8),
  signers: arg('signers', 32),
  verifyThreads: arg('verify-threads', cores),
  singleTxs: arg('single-txs', 3000),
  singleConcurrency: arg('single-concurrency', 16),
  maxBlockTxs: arg('block-txs', DEFAULT_POLICIES.maxBlockTxs),
  blockTimeoutMs: arg('block-timeout-ms', DEFAULT_POLICIES.blockTimeoutMs),
});
const verifyFields = {
  verify_backend: verify.verify_per_s_precomputed === null ? 'libsodium' : 'precomputed',
  verify_per_s: nodeVerifyPerS,
  verify_per_s_libsodium: verify.verify_per_s_single,
  verify_per_s_pool: verify.verify_per_s_pool,
  tps_over_verify_per_s: Math.round((ledger.tps / nodeVerifyPerS) * 1000) / 1000,
  tps_over_libsodium_verify_per_s: Math.round((ledger.tps / verify.verify_per_s_single) * 1000) / 1000,
};
// `--only embedded`: verification and the embedded node only (the other parts take minutes).
if (process.argv.includes('--only') && process.argv[process.argv.indexOf('--only') + 1] === 'embedded') {
  process.stdout.write(
    JSON.stringify({
      bench: 'embedded-node',
      ...pick(ledger, ['tps', 'p50_ms', 'p99_ms']),
      ...verifyFields,
      ...pick(ledger, [
        'single_p50_ms',
        'single_p99_ms',
        'committed',
        'seconds',
        'node_cpu_cores',
        'client_cpu_cores',
      ]),
      cores,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
    }) + '\n',
  );
  process.exit(0);
}
// The network runs before the records and supply parts: the supply part writes a ~4 GB ledger, and
// the network's latency hangs on fsyncs that the kernel's writeback of it could delay.
say('Three organizations: three etcd members and three nodes on this machine…');
const network = await benchNetwork(networkOptions());
say(
  `  ${network.tps} tx/s committed of ${network.offered_tps ?? 'as many as possible'} offered, p50 ${network.p50_ms} ms, p99 ${network.p99_ms} ms (agreed: ${network.agreed})`,
);
say('Records: consented read and emergency summary (1,000 resources)…');
const records = await benchRecords({
  reads: arg('reads', 200),
  summaryResources: arg('summary-resources', 1000),
  summaryReads: arg('summary-reads', 50),
});
say(
  `  consented read p50 ${records.consented_read_p50_ms} ms, p99 ${records.consented_read_p99_ms} ms; emergency summary (${records.emergency_summary_records} of ${records.patient_resources}) p50 ${records.emergency_summary_p50_ms} ms, p99 ${records.emergency_summary_p99_ms} ms`,
);
const trailEntries = arg('trail-entries', 1_000_000);
say(`Audit trail: page reads with ${trailEntries} entries in the index…`);
const trail = benchTrail({ entries: trailEntries, patients: Math.max(1, Math.round(trailEntries / 200)) });
say(`  trail page p50 ${trail.p50_ms} ms, p99 ${trail.p99_ms} ms (${trail.reads} reads)`);
const supplySerials = arg('supply-serials', 10_000_000);
say(`Supply chain: product verification (VRS) with ${supplySerials.toLocaleString()} serials on the ledger…`);
const supply = await benchSupply({
  serials: supplySerials,
  requests: arg('supply-requests', 200_000),
  concurrency: arg('supply-concurrency', 32),
  servers: arg('supply-servers', 2),
  fresh: process.argv.includes('--supply-fresh'),
  say,
});
say(
  `  ${supply.verify_rps} verifications/s, p50 ${supply.verify_p50_ms} ms, p99 ${supply.verify_p99_ms} ms (${supply.concurrency} in flight)`,
);
const result = {
  bench: 'embedded-node',
  network_orgs: network.orgs,
  network_tps: network.tps,
  network_p50_ms: network.p50_ms,
  network_p99_ms: network.p99_ms,
  network_agreed: network.agreed,
  network_offered_tps: network.offered_tps,
  network_warmup_txs: network.warmup_txs,
  network_batch: network.batch,
  network_races_lost_per_batch: network.races_lost_per_batch,
  network_cpu_us_per_tx: network.cpu_us_per_tx,
  supply_serials: supply.serials,
  supply_build_serials_per_s: supply.build_serials_per_s,
  supply_verify_rps: supply.verify_rps,
  supply_verify_p50_ms: supply.verify_p50_ms,
  supply_verify_p99_ms: supply.verify_p99_ms,
  supply_verify_concurrency: supply.concurrency,
  supply_verification_servers: supply.verification_servers,
  supply_verified_share: supply.verified_share,
  supply_ledger_bytes: supply.ledger_bytes,
  ...records,
  trail_entries: trail.entries,
  trail_page_p50_ms: trail.p50_ms,
  trail_page_p99_ms: trail.p99_ms,
  tps: ledger.tps,
  p50_ms: ledger.p50_ms,
  p99_ms: ledger.p99_ms,
  ...verifyFields,
  single_p50_ms: ledger.single_p50_ms,
  single_p99_ms: ledger.single_p99_ms,
  single_tps: ledger.single_tps,
  committed: ledger.committed,
  seconds: ledger.seconds,
  blocks: ledger.blocks,
  node_cpu_cores: ledger.node_cpu_cores,
  client_cpu_cores: ledger.client_cpu_cores,
  batch: ledger.batch,
  concurrency: ledger.concurrency,
  signers: ledger.signers,
  block_txs: arg('block-txs', DEFAULT_POLICIES.maxBlockTxs),
  block_timeout_ms: arg('block-timeout-ms', DEFAULT_POLICIES.blockTimeoutMs),
  cores,
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
};
if (json) process.stdout.write(JSON.stringify(result) + '\n');
else {
  say(
    `  ${ledger.tps} tx/s committed (${ledger.committed} in ${ledger.seconds} s, ${ledger.blocks} blocks); latency p50 ${ledger.p50_ms} ms, p99 ${ledger.p99_ms} ms`,
  );
  say(
    `  single transactions at light load (16 in flight): p50 ${ledger.single_p50_ms} ms, p99 ${ledger.single_p99_ms} ms, ${ledger.single_tps} tx/s`,
  );
  say(
    `  ratio: ${result.tps_over_verify_per_s} committed tx per single-thread verification (${result.tps_over_libsodium_verify_per_s} per libsodium verification)`,
  );
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
