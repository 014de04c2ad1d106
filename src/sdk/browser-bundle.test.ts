/**
 * The SDK is browser-safe: it bundles for `platform: 'browser'` with no Node builtins, and the
 * bundle signs a transaction and verifies a real receipt inside a bare JavaScript context that
 * has no `process`, `Buffer` or `require` — only what browsers also have.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { webcrypto } from 'node:crypto';
import { build } from 'esbuild';
import { repoRoot } from '../test-support/paths.js';
import { startTestNetwork, type TestNetwork } from '../test-support/harness.js';

let net: TestNetwork;
before(async () => {
  net = await startTestNetwork();
});
after(async () => net.destroy());

test('the SDK bundles for browsers and verifies receipts without Node APIs', async () => {
  const entry = `
    import { HealthLedgerClient } from ${JSON.stringify(join(repoRoot, 'src/sdk/client.ts'))};
    import { verifyReceipt } from ${JSON.stringify(join(repoRoot, 'src/protocol/receipt.ts'))};
    import { fromBase64Url } from ${JSON.stringify(join(repoRoot, 'src/protocol/bytes.ts'))};

    globalThis.run = (genesisJson, receiptJson, seed) => {
      const genesis = JSON.parse(genesisJson);
      const receipt = JSON.parse(receiptJson);
      const client = new HealthLedgerClient({ baseUrl: 'http://unused.invalid', genesis, fetch: () => { throw new Error('no network'); }, now: () => 1 });
      const tx = client.sign({ memberId: 'st-mary/admin', privateKey: fromBase64Url(seed) }, 'anchor.put', { key: 'k', commitment: 'ab'.repeat(32) });
      verifyReceipt(receipt, client.trusted, client.chainId);
      let tamperedRejected = false;
      try { verifyReceipt({ ...receipt, code: 'BAD_SIGNATURE' }, client.trusted, client.chainId); } catch { tamperedRejected = true; }
      return { sig: tx.sig, tamperedRejected };
    };`;
  const out = await build({
    stdin: { contents: entry, resolveDir: repoRoot, loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  assert.doesNotMatch(code, /require\(["']node:/, 'bundle must not need Node builtins');

  const admin = net.id('st-mary/admin');
  const c = await net.client.submitAndWait(
    net.client.sign(admin, 'anchor.put', { key: 'browser', commitment: 'ab'.repeat(32) }),
  );
  const receipt = await net.client.receipt(c.txId);
  const genesis = ((await (await fetch(`${net.url}/v1/genesis`)).json()) as { genesis: unknown }).genesis;
  const { readIdentity } = await import('../node/home.js');
  const seed = readIdentity(net.dir, 'st-mary/admin').privateKey;

  // A bare context: only what a browser page has (crypto.getRandomValues, TextEncoder, URL).
  const ctx = createContext({ crypto: webcrypto, URL, console });
  // The context's own UTF-8 codecs: ones passed in from this realm would return this realm's
  // Uint8Array, which a browser (one realm) never sees.
  runInContext(
    `globalThis.TextEncoder = class {
       encode(s) { const b = unescape(encodeURIComponent(s)); const u = new Uint8Array(b.length); for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i); return u; }
       encodeInto(s, dest) { const u = this.encode(s); if (u.length > dest.length) throw new Error('test codec: destination too small'); dest.set(u); return { read: s.length, written: u.length }; }
     };
     globalThis.TextDecoder = class { constructor(_l, o) { this.fatal = !!(o && o.fatal); } decode(u) { let b = ''; for (const x of u) b += String.fromCharCode(x); return decodeURIComponent(escape(b)); } };`,
    ctx,
  );
  runInContext(code, ctx);
  assert.equal(runInContext('typeof process', ctx), 'undefined');
  const result = (
    ctx['run'] as (g: unknown, r: unknown, s: string) => { sig: string; tamperedRejected: boolean }
  )(JSON.stringify(genesis), JSON.stringify(receipt), seed); // strings, parsed in the context (no cross-realm objects)
  assert.match(result.sig, /^[A-Za-z0-9_-]{86}$/);

  assert.equal(result.tamperedRejected, true);
});

test('a bundle of the core and one supply action carries no other action (tree-shaking)', async () => {
  const entry = `
    import { LedgerCore } from ${JSON.stringify(join(repoRoot, 'src/sdk/core.ts'))};
    import { verifyProduct } from ${JSON.stringify(join(repoRoot, 'src/domains/supply/sdk/index.ts'))};
    globalThis.run = (genesis) => verifyProduct(new LedgerCore({ baseUrl: 'http://unused.invalid', genesis }), {});`;
  const out = await build({
    stdin: { contents: entry, resolveDir: repoRoot, loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  // Messages only the actions themselves hold (error codes and routes are tables, bundled whole).
  assert.match(code, /corrUUID: q\.corrUUID/);
  assert.doesNotMatch(code, /txId detail differs|fhir\.consents|event hash differs/);
});
