// Lint rules double as architecture: each layer may import only the layers it names below
// (protocol → contracts → node → api; fhir and supply on protocol; sdk on protocol and fhir;
// cli and bench on everything), browser-safe layers reach no Node or server package, and the
// deterministic core (contracts) cannot reach the clock, randomness, disk or network.
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

function forbid(message, groups) {
  return ['error', { patterns: [{ group: groups, message }] }];
}

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

/** Every layer (a folder of src/) and the layers it may import; anything else is refused. */
const LAYERS = {
  protocol: {
    may: [],
    browserSafe: true,
    why: 'protocol/ is the browser-safe base layer: it imports nothing above it.',
  },
  fhir: {
    may: ['protocol'],
    browserSafe: true,
    why: 'fhir/ is browser-safe FHIR R4 support on protocol/ (and Medplum).',
  },
  supply: {
    may: ['protocol'],
    browserSafe: true,
    why: 'supply/ is browser-safe GS1/EPCIS support on protocol/ (and ajv).',
  },
  portal: {
    may: ['protocol', 'fhir', 'supply', 'sdk'],
    browserSafe: true,
    why: 'portal/ is the browser app: it reaches the node only through sdk/ (and browser-safe protocol/, fhir/).',
  },
  contracts: {
    may: ['protocol', 'supply'],
    browserSafe: true,
    why: 'contracts/ are pure and deterministic: they import only protocol/ and supply/ (GS1 keys).',
  },
  sdk: {
    may: ['protocol', 'fhir', 'supply'],
    browserSafe: true,
    why: 'sdk/ runs in browsers: it builds on protocol/, fhir/ and supply/.',
  },
  node: {
    may: ['protocol', 'fhir', 'supply', 'contracts'],
    alsoForbid: ['fastify', '@fastify/*', 'commander'],
    why: 'node/ sits below api/, sdk/ and cli/.',
  },
  api: {
    may: ['protocol', 'fhir', 'supply', 'contracts', 'node', 'sdk'],
    alsoForbid: ['commander'],
    why: 'api/ sits below cli/.',
  },
};
const ALL_LAYERS = [...Object.keys(LAYERS), 'cli', 'bench', 'e2e'];

function boundary(name, spec) {
  const forbidden = ALL_LAYERS.filter((l) => l !== name && !spec.may.includes(l)).flatMap(layer);
  if (spec.browserSafe) forbidden.push(...nodeBuiltins, ...serverPackages);
  forbidden.push(...(spec.alsoForbid ?? []));
  return {
    files: [`src/${name}/**/*.ts`, `src/${name}/**/*.tsx`],
    ignores: ['src/**/*.test.ts', 'src/portal/vite.config.ts'],
    rules: { 'no-restricted-imports': forbid(spec.why, forbidden) },
  };
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
  ...Object.entries(LAYERS).map(([name, spec]) => boundary(name, spec)),
  {
    files: ['src/contracts/**/*.ts'],
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
