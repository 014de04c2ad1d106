// Installs dependencies on a fresh clone so the README's two commands work as they are.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const marker = 'node_modules/.package-lock.json';
if (!existsSync(marker) || !existsSync('node_modules/better-sqlite3/build/Release/better_sqlite3.node')) {
  console.error(
    'healthledger: installing dependencies (first run; better-sqlite3 compiles from source, ~2 min)…',
  );
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
