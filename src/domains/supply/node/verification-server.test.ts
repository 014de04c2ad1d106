/**
 * Verification servers: separate processes that read the node's ledger read-only and answer
 * product verification on a shared port. They must see every commit at once (a recall is never
 * answered from a stale cache) and must not offer any write.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNetwork, type TestNetwork } from '../../../test-support/harness.js';
import { HealthLedgerClient, type Identity } from '../../../sdk/client.js';
import { gs1CheckDigit } from '../core/gs1.js';
import { loadHome } from '../../../node/home.js';

const withCheck = (d: string) => d + String(gs1CheckDigit(d));
const GTIN = withCheck('0061414110734');
const GLN = withCheck('061414100001');
const EXPIRY = '2030-01-31';

describe('verification servers', () => {
  let net: TestNetwork;
  let acme: Identity;
  let vs: HealthLedgerClient;
  let n = 0;

  before(async () => {
    net = await startTestNetwork({ orgs: ['acme:Acme', 'fda:Regulator'], verificationServers: 2 });
    const fda = await net.enroll('fda', 'inspector', 'regulator');
    acme = await net.enroll('acme', 'packer', 'manufacturer');
    const r = await net.client.sendAndVerify(fda, 'supply.register-party', {
      org: 'acme',
      companyPrefixes: ['0614141'],
      glns: [GLN],
    });
    assert.equal(r.code, 'VALID');
    assert.ok(net.verificationUrl, 'the node printed the verification servers’ URL');
    vs = new HealthLedgerClient({ baseUrl: net.verificationUrl, genesis: loadHome(net.dir).genesis });
  });
  after(() => net.destroy());

  const commission = (serials: string[], lot: string) =>
    net.client.sendAndVerify(acme, 'supply.event', {
      eventHash: `ni:///sha-256;${(++n).toString(16).padStart(64, 'a')}?ver=CBV2.0`,
      step: 'commission',
      eventTimeMs: Date.now(),
      location: GLN,
      epcs: serials.map((s) => `sgtin:${GTIN}.${s}`),
      lot: { lot, expiry: EXPIRY },
    });

  test('answers from the ledger, seeing each commit at once (caches dropped on commit)', async () => {
    const q = { gtin: GTIN, serial: '1', lot: 'L1', expiry: EXPIRY };
    assert.deepEqual((await vs.supply.verifyProduct(q)).data, {
      verified: false,
      additionalInfo: 'UNKNOWN_SERIAL',
    });
    const c = await commission(['1', '2'], 'L1');
    assert.equal(c.code, 'VALID');
    // Many requests, so both processes answer; every one after the commit must see it.
    for (let i = 0; i < 20; i++) {
      const r = await vs.supply.verifyProduct(q);
      assert.deepEqual(r.data, { verified: true });
      assert.ok(r.detail.height >= c.height);
    }
    const recall = await net.client.sendAndVerify(acme, 'supply.recall', {
      gtin: GTIN,
      lot: 'L1',
      reason: 'safety',
    });
    assert.equal(recall.code, 'VALID');
    for (let i = 0; i < 20; i++)
      assert.deepEqual((await vs.supply.verifyProduct({ ...q, serial: String(1 + (i % 2)) })).data, {
        verified: false,
        additionalInfo: 'RECALLED',
      });
    const t = await vs.supply.supplyHistory(`sgtin:${GTIN}.1`, { verify: false });
    assert.deepEqual(
      t.timeline.entries.map((e) => e.step),
      ['commission', 'recall'],
    );
  });

  test('offers no writes, and refuses bad input with its code', async () => {
    const post = await fetch(`${net.verificationUrl}/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(post.status, 404);
    assert.equal(((await post.json()) as { error: { code: string } }).error.code, 'ROUTE_NOT_FOUND');
    const bad = await fetch(
      `${net.verificationUrl}/v1/supply/verify/01/${GTIN.slice(0, 13)}${(Number(GTIN[13]) + 1) % 10}/10/L1/21/1?exp=300131`,
    );
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'BAD_GS1_KEY');
  });
});
