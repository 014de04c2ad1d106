// Regenerates the fuzzer's seed corpus (native/ed25519/fuzz/corpus/): every Wycheproof Ed25519
// vector as a mode-0 input (pk | sig | msg), plus hand-made seeds for the structured modes 1-3
// (see fuzz_verify.c for the input layouts). Usage: node native/ed25519/fuzz/make-corpus.mjs
// (Wycheproof from ../shared/testdata beside the repository, or $HEALTHLEDGER_TESTDATA).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'corpus');
mkdirSync(out, { recursive: true });
const write = (name, bytes) => writeFileSync(join(out, name), Buffer.from(bytes));
const seed = (n) => Array.from({ length: 32 }, (_, i) => (i * 7 + n * 13) & 0xff);
const msg = [...Buffer.from('healthledger')];

const testdata =
  process.env.HEALTHLEDGER_TESTDATA ?? resolve(here, '..', '..', '..', '..', 'shared', 'testdata');
const file = join(testdata, 'wycheproof', 'ed25519_test.json');
if (existsSync(file)) {
  const w = JSON.parse(readFileSync(file, 'utf8'));
  for (const g of w.testGroups)
    for (const t of g.tests) {
      const sig = Buffer.from(t.sig, 'hex');
      if (sig.length !== 64) continue; // the harness fixes the lengths
      write(`wycheproof-${t.tcId}`, [
        0,
        ...Buffer.from(g.publicKey.pk, 'hex'),
        ...sig,
        ...Buffer.from(t.msg, 'hex'),
      ]);
    }
} else console.warn(`no Wycheproof file at ${file}: writing the hand-made seeds only`);

// Mode 1: a valid signature (no ops), then one seed per mutation op.
write('signed-valid', [1, ...seed(1), 0, ...msg]);
for (let op = 0; op < 12; op++) write(`signed-op${op}`, [1, ...seed(op + 2), 1, op, 3, 5, ...msg]);
// Mode 2: each torsion component of A, with and without the search for an accepted mixed-order key.
for (let ta = 0; ta < 8; ta++)
  for (const flags of [0, 1, 2, 3])
    write(`torsion-a${ta}-f${flags}`, [2, ...seed(ta), ta, (8 - ta) % 8, flags, 0, ...msg]);
// Mode 3: small-order A/R, non-canonical encodings, edge S values.
for (let i = 0; i < 16; i++)
  write(`edges-${i}`, [3, i * 4, (i * 5 + 1) % 64, i, ...seed(i), ...seed(i + 1), ...msg]);
