// Lint rules double as architecture: each layer may import only the layers it names below
// (protocol → contracts → node → api; a domain's core on protocol; sdk on protocol and core;
// cli and bench on everything), browser-safe layers reach no Node or server package, the
// deterministic core (contracts, shared and per domain) cannot reach the clock, randomness, disk
// or network, and a domain reaches another only through its public index files.
import { readdirSync } from 'node:fs';
import tseslint from 'typescript-eslint';

const layer = (name) => [`**/${name}/**`, `../${name}`, `../../${name}`];
const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/*',
  'net',
  'http',
  'https',
  'crypto',
  'child_process',
  'os',
  'path',
  'worker_threads',
];
const serverPackages = [
  'better-sqlite3',
  'fastify',
  '@fastify/*',
  'sodium-native',
  'commander',
  'cli-progress',
];

// Globals that would make execution non-deterministic or impure.
const impureGlobals = [
  { name: 'Date', message: 'Time comes from the block (BlockContext.timestampMs), never the clock.' },
  { name: 'performance', message: 'No clock in the deterministic core.' },
  { name: 'setTimeout', message: 'No timers in the deterministic core.' },
  { name: 'setInterval', message: 'No timers in the deterministic core.' },
  { name: 'process', message: 'No process or environment access in the deterministic core.' },
  { name: 'fetch', message: 'No network in the deterministic core.' },
  { name: 'crypto', message: 'Use protocol/ primitives; no ambient randomness in contracts.' },
];

/**
 * Every layer and the layers it may import; anything else is refused. A layer is a shared folder of
 * src/ (`src/node/`) and the same-named role folder of every domain (`src/domains/health/node/`),
 * so one rule keeps both: a domain's contracts are as pure as the shared ones, its node code sits
 * below the API, and so on. `core` is a domain's browser-safe pure part (vocabulary, codes, schemas,
 * route definitions, FHIR or GS1 support).
 */
const LAYERS = {
  protocol: {
    may: [],
    browserSafe: true,
    alsoForbid: ['**/domains/**'],
    why: 'protocol/ is the browser-safe base layer: it imports nothing above it and no domain.',
  },
  core: {
    may: ['protocol'],
    browserSafe: true,
    why: "A domain's core/ is browser-safe and pure: it builds on protocol/ (and Medplum, ajv).",
  },
  portal: {
    may: ['protocol', 'core', 'sdk'],
    browserSafe: true,
    why: 'portal/ is the browser app: it reaches the node only through sdk/ (and browser-safe protocol/, core/).',
  },
  contracts: {
    may: ['protocol', 'core'],
    browserSafe: true,
    why: 'contracts/ are pure and deterministic: they import only protocol/ and domain core/.',
  },
  sdk: {
    may: ['protocol', 'core'],
    browserSafe: true,
    why: 'sdk/ runs in browsers: it builds on protocol/ and domain core/.',
  },
  node: {
    may: ['protocol', 'core', 'contracts'],
    alsoForbid: ['fastify', '@fastify/*', 'commander'],
    why: 'node/ sits below api/, sdk/ and cli/.',
  },
  api: {
    may: ['protocol', 'core', 'contracts', 'node', 'sdk'],
    alsoForbid: ['commander'],
    why: 'api/ sits below cli/.',
  },
};
const ALL_LAYERS = [...Object.keys(LAYERS), 'cli', 'bench', 'e2e'];
/** The domains: the folders under src/domains/ (one imports another only through its role index files). */
const DOMAINS = readdirSync(new URL('./src/domains/', import.meta.url), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

/** Inside domain `d`, another domain is reached only through `<other>/<role>/index.js`. */
const isolation = (d) =>
  DOMAINS.filter((o) => o !== d).map((o) => ({
    regex: `(^|/)${o}/[a-z-]+/(?!index\\.js$)`,
    message: `domain ${d} reaches domain ${o} only through ${o}/<role>/index.js (its public surface)`,
  }));

/** One config per shared layer folder and per domain role folder (rules of one key do not merge). */
function boundaries(name, spec) {
  const forbidden = ALL_LAYERS.filter((l) => l !== name && !spec.may.includes(l)).flatMap(layer);
  if (spec.browserSafe) forbidden.push(...nodeBuiltins, ...serverPackages);
  forbidden.push(...(spec.alsoForbid ?? []));
  const entry = (files, extra) => ({
    files,
    ignores: ['src/**/*.test.ts', 'src/portal/vite.config.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message: spec.why }, ...extra] }],
    },
  });
  return [
    entry([`src/${name}/**/*.ts`, `src/${name}/**/*.tsx`], []),
    ...DOMAINS.map((d) =>
      entry([`src/domains/${d}/${name}/**/*.ts`, `src/domains/${d}/${name}/**/*.tsx`], isolation(d)),
    ),
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'portal/dist/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  ...Object.entries(LAYERS).flatMap(([name, spec]) => boundaries(name, spec)),
  {
    files: ['src/contracts/**/*.ts', 'src/domains/*/contracts/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'No randomness in contracts.' },
      ],
    },
  },
);
