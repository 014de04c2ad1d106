// Runs the test files with node's built-in test runner, by lane:
//   unit         everything in-process (pure code, stores, in-process nodes and HTTP via inject);
//                runs from source through tsx, so it needs no native, tsc or vite build
//   integration  real processes: the CLI, kill -9 crash recovery, etcd clusters, TLS to etcd
//   browser      the portal in Debian's Chromium (needs the built portal)
// Usage: node scripts/run-tests.mjs [--lane=unit|integration|browser|all] [--from-source] [substring…]
// Default: every lane, compiled (dist/), as `npm test` runs after its build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** Test files (path below src/ or dist/, without extension) that belong to a lane other than unit. */
const LANES = {
  integration: [
    'cli/cli.test',
    'cli/home-durable.test',
    'cli/network.test',
    'node/crash.test',
    'node/verify-chain.test',
    'node/ordering/etcd.test',
    'node/ordering/etcd-tls.test',
  ],
  browser: ['e2e/portal.test'],
};
const laneOf = (rel) =>
  Object.entries(LANES).find(([, list]) => list.includes(rel.replace(/\.(ts|js)$/, '')))?.[0] ?? 'unit';

const args = process.argv.slice(2);
const lane = (args.find((a) => a.startsWith('--lane='))?.slice(7) ?? 'all').trim();
const fromSource = args.includes('--from-source');
const filters = args.filter((a) => !a.startsWith('--'));
if (!['unit', 'integration', 'browser', 'all'].includes(lane)) {
  console.error(`unknown lane ${lane}: use unit, integration, browser or all`);
  process.exit(2);
}

const root = fromSource ? 'src' : 'dist';
const suffix = fromSource ? '.test.ts' : '.test.js';
function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}
if (!existsSync(root)) {
  console.error(`no ${root}/ folder (run \`npm run build\` first, or use --from-source)`);
  process.exit(1);
}
// A lane named in LANES must exist: a renamed test would otherwise silently move to unit.
for (const rel of Object.values(LANES).flat())
  if (!existsSync(join(root, rel + suffix.slice('.test'.length)))) {
    console.error(`scripts/run-tests.mjs names ${rel}, which no longer exists under ${root}/`);
    process.exit(1);
  }
const files = find(root)
  .filter((f) => lane === 'all' || laneOf(f.slice(root.length + 1)) === lane)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files found under ${root}/ for lane ${lane}`);
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  [
    ...(fromSource ? ['--import', 'tsx'] : []),
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=1',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
