/**
 * Paths used by tests: the repository root and the shared third-party vectors beside it.
 * Tests run from dist/, so both are found relative to this file, not the working directory.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

/** The repository root (the folder holding package.json). */
export const repoRoot = findRepoRoot();

/** `../shared/testdata` beside the repository, or `$HEALTHLEDGER_TESTDATA`. */
export const testdataDir =
  process.env['HEALTHLEDGER_TESTDATA'] ?? resolve(repoRoot, '..', 'shared', 'testdata');

/** A path inside the shared test data; throws a clear error if the data is missing. */
export function testdata(...parts: string[]): string {
  const p = join(testdataDir, ...parts);
  if (!existsSync(p))
    throw new Error(`shared test data missing: ${p} (expected ../shared/testdata beside the repo)`);
  return p;
}
