// A bounded run of the coverage-guided differential fuzzer of the native Ed25519 verifier against
// libsodium (native/ed25519/fuzz/fuzz_verify.c, scripts/fuzz-ed25519.mjs, docs/fuzzing.md), and
// proof that it catches a broken verifier. Needs clang and libsodium-dev (`.ci/run` installs
// them); skipped, visibly, only when they are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../test-support/paths.js';

const script = join(repoRoot, 'scripts', 'fuzz-ed25519.mjs');
const SKIPPED = 77;

function fuzz(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [script, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

test('fuzz: native Ed25519 verifier agrees with libsodium for 25 s of fuzzing', { timeout: 300_000 }, (t) => {
  const corpus = mkdtempSync(join(tmpdir(), 'hl-fuzz-'));
  try {
    const { status, output } = fuzz(['--seconds', '25', '--corpus', corpus]);
    if (status === SKIPPED) {
      t.skip(output.match(/SKIPPED: .*/)?.[0] ?? 'fuzzer toolchain missing');
      return;
    }
    t.diagnostic(output.match(/executions: [\s\S]*?peak RSS: .*/)?.[0] ?? output);
    assert.equal(status, 0, `the fuzzer reported a failure:\n${output}`);
    const executions = Number(output.match(/executions: (\d+)/)?.[1] ?? 0);
    assert.ok(executions > 1000, `only ${executions} executions:\n${output}`);
  } finally {
    rmSync(corpus, { recursive: true, force: true });
  }
});

test('fuzz: the harness catches a verifier without the small-order-R check', { timeout: 300_000 }, (t) => {
  // Built against a copy of verify.c with the check removed, from an empty corpus: the fuzzer must
  // construct a signature libsodium refuses and the mutant accepts, and say so.
  const { status, output } = fuzz(['--mutant', 'r', '--no-seeds', '--seconds', '90', '--seed', '1']);
  if (status === SKIPPED) {
    t.skip(output.match(/SKIPPED: .*/)?.[0] ?? 'fuzzer toolchain missing');
    return;
  }
  assert.equal(status, 0, `the mutant was not caught:\n${output}`);
  assert.match(output, /DISAGREEMENT \(single path\): libsodium=invalid single=1/);
});
