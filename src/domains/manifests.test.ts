// Each layer lists the domains in its own manifest (pure or browser-safe code cannot import node
// or CLI code, so one list cannot serve all); this keeps them, and the lint config, in step with
// the folders under src/domains/ (the lint config reads the folders itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../test-support/paths.js';
import { DOMAIN_ERROR_CODES, DOMAIN_ROUTES } from '../core/domains.js';
import { DOMAIN_CONTRACTS } from '../contracts/domains.js';
import { DOMAIN_PROJECTIONS } from '../node/domains.js';
import { DOMAIN_COMMANDS } from '../cli/domains.js';
import { DOMAIN_PLUGINS } from '../api/domains.js';
import { domainActions } from '../sdk/client.js';

const folders = readdirSync(join(repoRoot, 'src', 'domains'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

test('every layer manifest lists exactly the domains under src/domains/', () => {
  const manifests: Record<string, object> = {
    'src/core/domains.ts': DOMAIN_ERROR_CODES,
    'src/core/domains.ts (routes)': DOMAIN_ROUTES,
    'src/contracts/domains.ts': DOMAIN_CONTRACTS,
    'src/node/domains.ts': DOMAIN_PROJECTIONS,
    'src/cli/domains.ts': DOMAIN_COMMANDS,
    'src/api/domains.ts': DOMAIN_PLUGINS,
    'src/sdk/client.ts (domainActions)': domainActions,
  };
  for (const [file, manifest] of Object.entries(manifests))
    assert.deepEqual(Object.keys(manifest).sort(), folders, file);
});
