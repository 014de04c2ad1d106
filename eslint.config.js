// Lint rules double as architecture: each layer may import only the layers beneath it
// (protocol → contracts → node → api; sdk on protocol; cli on sdk/api/node), and the
// deterministic core (protocol, contracts) cannot reach the clock, randomness, disk or network.
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
  {
    files: ['src/protocol/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': forbid(
        'protocol/ is the browser-safe base layer: it imports nothing above it and no Node or server package.',
        [
          ...layer('contracts'),
          ...layer('node'),
          ...layer('api'),
          ...layer('sdk'),
          ...layer('cli'),
          ...layer('bench'),
          ...nodeBuiltins,
          ...serverPackages,
        ],
      ),
    },
  },
  {
    files: ['src/fhir/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': forbid(
        'fhir/ is browser-safe FHIR R4 support: it builds on protocol/ and Medplum only.',
        [
          ...layer('contracts'),
          ...layer('node'),
          ...layer('api'),
          ...layer('sdk'),
          ...layer('cli'),
          ...layer('bench'),
          ...nodeBuiltins,
          ...serverPackages,
        ],
      ),
    },
  },
  {
    files: ['src/supply/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': forbid(
        'supply/ is browser-safe GS1/EPCIS support: it builds on protocol/ and ajv only.',
        [
          ...layer('contracts'),
          ...layer('node'),
          ...layer('api'),
          ...layer('sdk'),
          ...layer('cli'),
          ...layer('bench'),
          ...nodeBuiltins,
          ...serverPackages,
        ],
      ),
    },
  },
  {
    files: ['src/contracts/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': forbid('contracts/ are pure and deterministic: they import only protocol/.', [
        ...layer('fhir'),
        ...layer('node'),
        ...layer('api'),
        ...layer('sdk'),
        ...layer('cli'),
        ...layer('bench'),
        ...nodeBuiltins,
        ...serverPackages,
      ]),
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'No randomness in contracts.' },
      ],
    },
  },
  {
    files: ['src/sdk/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': forbid('sdk/ runs in browsers: it builds on protocol/ only.', [
        ...layer('contracts'),
        ...layer('node'),
        ...layer('api'),
        ...layer('cli'),
        ...layer('bench'),
        ...nodeBuiltins,
        ...serverPackages,
      ]),
    },
  },
  {
    files: ['src/node/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': forbid('node/ sits below api/, sdk/ and cli/.', [
        ...layer('api'),
        ...layer('sdk'),
        ...layer('cli'),
        ...layer('bench'),
        'fastify',
        '@fastify/*',
        'commander',
      ]),
    },
  },
  {
    files: ['src/api/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': forbid('api/ sits below sdk/ and cli/.', [
        ...layer('cli'),
        ...layer('bench'),
        'commander',
      ]),
    },
  },
);
