// Builds and runs the differential fuzzer of the native Ed25519 verifier against libsodium
// (native/ed25519/fuzz/fuzz_verify.c, docs/fuzzing.md). One process, so one core.
//
//   node scripts/fuzz-ed25519.mjs --seconds 30        bounded by time
//   node scripts/fuzz-ed25519.mjs --runs 1000000      bounded by executions
//   options: --corpus DIR   working corpus (default build/fuzz/corpus; the seeds in
//                           native/ed25519/fuzz/corpus are always read, never written)
//            --no-seeds     start without the seed corpus
//            --fast         build without AddressSanitizer (libFuzzer + UBSan, -O2): several
//                           times the executions per second, for long runs; the default build
//                           has ASan + UBSan
//            --seed N       libFuzzer's random seed
//            --mutant r|s   build against a copy of verify.c without its small-order-R check (r)
//                           or its S < L check (s) and expect the fuzzer to catch it: exits 0
//                           only if it reports a disagreement with libsodium
//
// Prints executions, exec/s and coverage. Exit status: 0 clean run, 1 disagreement or sanitizer
// error (or, with --mutant, the mutant not caught), 2 usage or build error, 77 skipped because
// clang, libsodium-dev, OpenSSL's libcrypto or Node's headers are missing (the message says which).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
function option(name) {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) usage(`${name} needs a value`);
  return value;
}
function usage(message) {
  console.error(`fuzz-ed25519: ${message}`);
  console.error(
    'usage: node scripts/fuzz-ed25519.mjs (--seconds S | --runs N) [--corpus DIR] [--no-seeds] [--seed N] [--mutant r|s] [--fast]',
  );
  process.exit(2);
}
const known = new Set(['--seconds', '--runs', '--corpus', '--seed', '--no-seeds', '--mutant', '--fast']);
for (const a of args) if (a.startsWith('--') && !known.has(a)) usage(`unknown option ${a}`);
const seconds = option('--seconds');
const runs = option('--runs');
if (!seconds && !runs) usage('give --seconds or --runs (runs are bounded)');
for (const [n, v] of [
  ['--seconds', seconds],
  ['--runs', runs],
  ['--seed', option('--seed')],
])
  if (v !== undefined && !/^\d+$/.test(v)) usage(`${n} must be a non-negative integer`);
const mutant = option('--mutant');
const fast = args.includes('--fast');
const MUTANTS = {
  r: [
    'no small-order-R check',
    'if (!sc_is_canonical(sig + 32) || has_small_order(sig)) return 0;',
    'if (!sc_is_canonical(sig + 32)) return 0;',
  ],
  s: [
    'no S < L check',
    'if (!sc_is_canonical(sig + 32) || has_small_order(sig)) return 0;',
    'if (has_small_order(sig)) return 0;',
  ],
};
if (mutant !== undefined && !MUTANTS[mutant]) usage('--mutant takes r or s');

const skip = (reason) => {
  console.log(`fuzz-ed25519: SKIPPED: ${reason}`);
  process.exit(77);
};

// ---- Tools. ----
const cc = process.env.FUZZ_CC ?? 'clang';
if (spawnSync(cc, ['--version'], { encoding: 'utf8' }).status !== 0)
  skip(`${cc} not found (Debian: apt-get install clang)`);
const nodeHeaders = [
  join(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].find((d) => existsSync(join(d, 'node_api.h')));
if (!nodeHeaders) skip("Node's headers (node_api.h) not found");

const buildDir = join(root, 'build', 'fuzz');
mkdirSync(buildDir, { recursive: true });
// Only Node-API's headers from Node's include folder: its bundled OpenSSL headers must not shadow
// the system's, whose libcrypto the fuzzer links (the addon uses the OpenSSL inside Node).
const inc = join(buildDir, 'inc');
mkdirSync(inc, { recursive: true });
for (const h of ['node_api.h', 'node_api_types.h', 'js_native_api.h', 'js_native_api_types.h']) {
  rmSync(join(inc, h), { force: true });
  symlinkSync(join(nodeHeaders, h), join(inc, h));
}
const probe = join(buildDir, 'probe.c');
writeFileSync(
  probe,
  '#include <sodium.h>\n#include <openssl/sha.h>\nint main(void) { return sodium_init() < 0; }\n',
);
const probed = spawnSync(cc, [probe, '-lsodium', '-lcrypto', '-o', join(buildDir, 'probe')], {
  encoding: 'utf8',
});
if (probed.status !== 0)
  skip(
    `cannot build against libsodium and libcrypto (Debian: apt-get install libsodium-dev libssl-dev): ${probed.stderr.trim().split('\n')[0]}`,
  );

// ---- Build. ----
const harness = join(root, 'native', 'ed25519', 'fuzz', 'fuzz_verify.c');
let verifySource = join(root, 'native', 'ed25519', 'verify.c');
if (mutant) {
  const original = readFileSync(verifySource, 'utf8');
  const [, check, replacement] = MUTANTS[mutant];
  if (!original.includes(check)) {
    console.error(
      `fuzz-ed25519: --mutant: verify.c no longer contains \`${check}\`; update the mutant in this script`,
    );
    process.exit(2);
  }
  verifySource = join(buildDir, `verify-mutant-${mutant}.c`);
  writeFileSync(verifySource, original.replace(check, replacement));
}
const binary = join(
  buildDir,
  `${mutant ? `fuzz_verify_mutant_${mutant}` : 'fuzz_verify'}${fast ? '_fast' : ''}`,
);
const newest = Math.max(
  statSync(harness).mtimeMs,
  statSync(verifySource).mtimeMs,
  statSync(fileURLToPath(import.meta.url)).mtimeMs,
);
const flags = fast
  ? ['-g', '-O2', '-fsanitize=fuzzer,undefined', '-fno-sanitize-recover=undefined']
  : ['-g', '-O1', '-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=undefined'];
if (!existsSync(binary) || statSync(binary).mtimeMs < newest) {
  const built = spawnSync(
    cc,
    [...flags, `-I${inc}`, `-DVERIFY_C="${verifySource}"`, harness, '-lsodium', '-lcrypto', '-o', binary],
    { stdio: 'inherit' },
  );
  if (built.status !== 0) {
    rmSync(binary, { force: true });
    console.error(`fuzz-ed25519: building the harness with ${cc} failed`);
    process.exit(2);
  }
}
const version = spawnSync(cc, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];

// ---- Run. ----
const corpus = resolve(option('--corpus') ?? join(buildDir, mutant ? `corpus-mutant-${mutant}` : 'corpus'));
if (mutant) rmSync(corpus, { recursive: true, force: true }); // a fresh search each time
mkdirSync(corpus, { recursive: true });
const artifacts = join(buildDir, 'artifacts');
mkdirSync(artifacts, { recursive: true });
const fuzzArgs = [
  '-print_final_stats=1',
  '-rss_limit_mb=2048',
  '-timeout=20',
  `-artifact_prefix=${artifacts}/`,
  ...(seconds ? [`-max_total_time=${seconds}`] : []),
  ...(runs ? [`-runs=${runs}`] : []),
  ...(option('--seed') ? [`-seed=${option('--seed')}`] : []),
  corpus,
  ...(args.includes('--no-seeds') ? [] : [join(root, 'native', 'ed25519', 'fuzz', 'corpus')]),
];
console.log(
  `fuzz-ed25519: ${version}; ${mutant ? `MUTANT (${MUTANTS[mutant][0]}) ` : ''}${binary} ${fuzzArgs.join(' ')}`,
);
const started = Date.now();
const child = spawn(binary, fuzzArgs, { stdio: ['ignore', 'inherit', 'pipe'] });
let log = '';
child.stderr.on('data', (chunk) => {
  log += chunk;
  if (log.length > 4_000_000) log = log.slice(-2_000_000);
  if (process.env.FUZZ_VERBOSE) process.stderr.write(chunk);
});
const status = await new Promise((done) =>
  child.on('close', (code, signal) => done(code ?? (signal ? 128 : 1))),
);
const elapsed = (Date.now() - started) / 1000;

const stat = (name) => log.match(new RegExp(`stat::${name}:\\s+(\\d+)`))?.[1];
const last = [...log.matchAll(/#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)\/(\d+)b/g)].at(-1);
const pcs = log.match(/PC tables \((\d+) PCs\)/)?.[1];
const executions = Number(stat('number_of_executed_units') ?? last?.[1] ?? 0);
console.log(
  [
    `executions: ${executions}`,
    `time: ${elapsed.toFixed(1)} s`,
    `exec/s: ${stat('average_exec_per_sec') ?? Math.round(executions / elapsed)}`,
    `coverage: ${last ? `${last[2]} of ${pcs ?? '?'} instrumented edges (harness + verify.c), ${last[3]} features` : 'unknown'}`,
    `corpus: ${last ? `${last[4]} inputs, ${last[5]} bytes` : 'unknown'} (${corpus})`,
    `peak RSS: ${stat('peak_rss_mb') ?? '?'} MB`,
  ].join('\n'),
);

const found = log.match(/fuzz_verify: DISAGREEMENT[^\n]*(\n(pk|sig|msg)[^\n]*)*/)?.[0];
const sanitizer = log.match(/(ERROR: (AddressSanitizer|libFuzzer)[^\n]*|runtime error:[^\n]*)/)?.[0];
const artifact = log.match(/Test unit written to (\S+)/)?.[1];
if (status !== 0) {
  console.log(
    `fuzz-ed25519: ${found ? 'DISAGREEMENT with libsodium' : 'FAILURE'} (libFuzzer exit ${status})`,
  );
  if (found) console.log(found);
  else console.log(sanitizer ?? log.split('\n').slice(-30).join('\n'));
  if (artifact) console.log(`reproduce: ${binary} ${artifact}`);
  if (mutant && !found) console.log('fuzz-ed25519: the mutant failed, but not with a disagreement');
  if (mutant && found) {
    console.log('fuzz-ed25519: the mutant was caught, as it must be');
    process.exit(0);
  }
  process.exit(1);
}
if (mutant) {
  console.log(`fuzz-ed25519: the mutant (${MUTANTS[mutant][0]}) was NOT caught within the bound`);
  process.exit(1);
}
console.log('fuzz-ed25519: no disagreement, no sanitizer error');
