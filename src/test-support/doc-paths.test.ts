/** Every source path the README and docs name exists, so a move cannot leave the docs pointing nowhere. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

test('README.md and docs/ name only paths that exist', () => {
  const docs = [
    'README.md',
    ...readdirSync(join(repoRoot, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
    ...readdirSync(join(repoRoot, 'docs', 'adr')).map((f) => `docs/adr/${f}`),
  ];
  const missing: string[] = [];
  for (const doc of docs) {
    const text = readFileSync(join(repoRoot, doc), 'utf8');
    // `src/…` paths in code spans or tables; a trailing `/` names a folder.
    for (const m of text.matchAll(/(?<![\w./-])(src\/[\w./-]*[\w/])/g)) {
      const path = m[1]!.replace(/\/$/, '');
      if (path.includes('*')) continue;
      if (!existsSync(join(repoRoot, path))) missing.push(`${doc}: ${m[1]}`);
    }
  }
  assert.deepEqual(missing, [], 'fix these paths in the docs');
});
