import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { errorTables } from './error-tables.js';

test('docs/errors.md documents every error and validation code', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const missing: string[] = [];
  for (const t of errorTables)
    for (const code of Object.keys(t.codes))
      if (!doc.includes(`\`${code}\``)) missing.push(`${t.title}: ${code}`);
  assert.deepEqual(missing, [], 'add these to docs/errors.md');
});

test('the README Quick start has exactly two commands', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = /## Quick start\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const block = /```(?:sh|bash)?\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const commands = block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(commands, ['npm start', 'npm test']);
});
