/**
 * The API through the SDK and raw HTTP: the happy path with locally verified proofs, and every
 * kind of bad input rejected with its documented code while the ledger stays unchanged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiErrorCodes, HealthLedgerError } from '../protocol/errors.js';
import { createTxBody, signTx, type SignedTx } from '../protocol/tx.js';
import { generateKeyPair } from '../protocol/ed25519.js';
import { ProofVerificationError, verifyReceipt } from '../protocol/receipt.js';
import { buildApp } from './server.js';
import { startTestNetwork, type TestNetwork } from '../test-support/harness.js';
import type { Identity } from '../sdk/client.js';

const COMMITMENT = 'ab'.repeat(32);

describe('HTTP API and SDK', () => {
  let net: TestNetwork;
  let alice: Identity;

  before(async () => {
    net = await startTestNetwork();
    alice = await net.enroll('st-mary', 'dr-alice', 'practitioner', {
      licence: 'MD-1',
      specialty: 'endocrinology',
    });
  });
  after(async () => net.destroy());

  /** Ledger fingerprint: must be identical before and after any rejected request. */
  const snapshot = () => {
    const n = net.running.node;
    return JSON.stringify({
      head: n.chainHead(),
      pending: n.pendingCount,
      alice: n.getMember('st-mary/dr-alice'),
    });
  };

  const post = async (url: string, body: unknown, raw = false) => {
    const res = await net.app.inject({
      method: 'POST',
      url,
      payload: raw ? (body as string) : JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    return {
      status: res.statusCode,
      body: res.json() as { error?: { code: string; message: string } } & Record<string, unknown>,
    };
  };

  async function expectRejected(tx: unknown, code: keyof typeof ApiErrorCodes, raw = false): Promise<void> {
    const before = snapshot();
    const r = await post('/v1/transactions?wait=true', tx, raw);
    assert.equal(r.body.error?.code, code, JSON.stringify(r.body));
    assert.equal(r.status, ApiErrorCodes[code].status);
    // Let any block in flight land, then check nothing changed.
    await new Promise((res) => setTimeout(res, 30));
    assert.equal(snapshot(), before, 'a rejected request changed the ledger');
  }

  const sign = (
    id: Identity,
    type: string,
    payload: Record<string, unknown>,
    over: Partial<SignedTx['body']> = {},
  ): SignedTx =>
    signTx(
      {
        ...createTxBody({
          chainId: 'hl-test',
          type,
          payload: payload as never,
          signer: id.memberId,
          nowMs: Date.now(),
        }),
        ...over,
      },
      id.privateKey,
    );

  test('submit and wait, then a receipt that verifies locally against a genesis node key', async () => {
    const tx = net.client.sign(alice, 'anchor.put', { key: 'doc-1', commitment: COMMITMENT });
    const c = await net.client.submitAndWait(tx);
    assert.equal(c.code, 'VALID');
    const receipt = await net.client.verifiedReceipt(c.txId);
    assert.equal(receipt.tx.body.signer, 'st-mary/dr-alice');
    assert.equal(receipt.height, c.height);
    const block = await net.client.block(c.height);
    assert.equal(block.codes[c.index], 'VALID');
    assert.equal(block.hash, receipt.checkpoint.checkpoint.blockHash);
  });

  test('a receipt altered in any field is rejected by the SDK verifier', async () => {
    const c = await net.client.submitAndWait(
      net.client.sign(alice, 'anchor.put', { key: 'doc-2', commitment: COMMITMENT }),
    );
    const r = await net.client.receipt(c.txId);
    const { trusted, chainId } = net.client;
    const broken: [string, object][] = [
      ['code changed', { ...r, code: 'BAD_SIGNATURE' }],
      ['height changed', { ...r, height: r.height + 1 }],
      [
        'payload changed',
        { ...r, tx: { ...r.tx, body: { ...r.tx.body, payload: { key: 'doc-3', commitment: COMMITMENT } } } },
      ],
      [
        'proof hash flipped',
        {
          ...r,
          proof: r.proof.length
            ? [r.proof[0]!.replace(/^./, (ch) => (ch === '0' ? '1' : '0')), ...r.proof.slice(1)]
            : ['00'.repeat(32)],
        },
      ],
      [
        'checkpoint root changed',
        {
          ...r,
          checkpoint: {
            ...r.checkpoint,
            checkpoint: { ...r.checkpoint.checkpoint, logRoot: '00'.repeat(32) },
          },
        },
      ],
      [
        'checkpoint from an unknown node',
        {
          ...r,
          checkpoint: { ...r.checkpoint, checkpoint: { ...r.checkpoint.checkpoint, nodeId: 'mallory-node' } },
        },
      ],
    ];
    assert.doesNotThrow(() => verifyReceipt(r, trusted, chainId));
    for (const [name, bad] of broken)
      assert.throws(() => verifyReceipt(bad as never, trusted, chainId), ProofVerificationError, name);
  });

  test('consistency proof between two checkpoints verifies; a forged one does not', async () => {
    const a = await net.client.latestCheckpoint();
    await net.client.submitAndWait(
      net.client.sign(alice, 'anchor.put', { key: 'doc-4', commitment: COMMITMENT }),
    );
    const b = await net.client.latestCheckpoint();
    const r = await net.client.verifiedConsistency(a.checkpoint.logSize, b.checkpoint.logSize);
    assert.ok(r.proof.length > 0);
    const res = await net.app.inject({
      url: `/v1/proofs/consistency?from=${a.checkpoint.logSize}&to=${b.checkpoint.logSize}`,
    });
    const body = res.json() as typeof r;
    const { verifyCheckpointConsistency } = await import('../protocol/receipt.js');
    assert.throws(() =>
      verifyCheckpointConsistency(
        body.from,
        body.to,
        body.proof.map(() => '11'.repeat(32)),
        net.client.trusted,
        'hl-test',
      ),
    );
  });

  test('batch submission reports each transaction separately', async () => {
    const good = net.client.sign(alice, 'anchor.put', { key: 'batch-1', commitment: COMMITMENT });
    const bad = {
      ...net.client.sign(alice, 'anchor.put', { key: 'batch-2', commitment: COMMITMENT }),
      sig: good.sig,
    };
    const results = await net.client.submitBatch([good, bad, good], { wait: true });
    assert.equal(results[0]?.status, 'committed');
    assert.equal(results[1]?.status === 'rejected' && results[1].error.code, 'BAD_SIGNATURE');
    assert.equal(results[2]?.status === 'rejected' && results[2].error.code, 'DUPLICATE_TX');
  });

  test('malformed JSON', () => expectRejected('{"body": ', 'MALFORMED_REQUEST', true));
  test('missing signature', () =>
    expectRejected({ body: sign(alice, 'anchor.put', {}).body }, 'MALFORMED_REQUEST'));
  test('extra envelope field', () =>
    expectRejected(
      { ...sign(alice, 'anchor.put', { key: 'k', commitment: COMMITMENT }), extra: 1 },
      'MALFORMED_REQUEST',
    ));
  test('non-canonical signature encoding', () => {
    const tx = sign(alice, 'anchor.put', { key: 'k', commitment: COMMITMENT });
    // 86 base64url chars carry 516 bits; setting the 4 spare bits gives a second encoding of the same bytes.
    const last = tx.sig.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const bumped = alphabet[(alphabet.indexOf(last) & ~3) | 1]!;
    return expectRejected({ ...tx, sig: tx.sig.slice(0, -1) + bumped }, 'MALFORMED_TX');
  });
  test('oversized transaction', () =>
    expectRejected(
      sign(alice, 'anchor.put', { key: 'k', commitment: COMMITMENT, pad: 'x'.repeat(70_000) }),
      'TX_TOO_LARGE',
    ));
  test('bad signature', () => {
    const tx = sign(alice, 'anchor.put', { key: 'k1', commitment: COMMITMENT });
    const other = sign(alice, 'anchor.put', { key: 'k2', commitment: COMMITMENT });
    return expectRejected({ body: tx.body, sig: other.sig }, 'BAD_SIGNATURE');
  });
  test('signed by a key that is not the enrolled one', () => {
    const impostor = { memberId: alice.memberId, privateKey: generateKeyPair().privateKey };
    return expectRejected(
      sign(impostor, 'anchor.put', { key: 'k', commitment: COMMITMENT }),
      'BAD_SIGNATURE',
    );
  });
  test('wrong chain id', () =>
    expectRejected(
      sign(alice, 'anchor.put', { key: 'k', commitment: COMMITMENT }, { chainId: 'other-chain' }),
      'WRONG_CHAIN_ID',
    ));
  test('unknown signer', () => {
    const ghost = { memberId: 'st-mary/ghost', privateKey: generateKeyPair().privateKey };
    return expectRejected(sign(ghost, 'anchor.put', { key: 'k', commitment: COMMITMENT }), 'UNKNOWN_SIGNER');
  });
  test('role not allowed for the type', () =>
    expectRejected(
      sign(alice, 'member.revoke', { memberId: 'st-mary/admin', reason: 'x' }),
      'UNAUTHORIZED_ROLE',
    ));
  test('unknown transaction type', () => expectRejected(sign(alice, 'nothing.here', {}), 'UNKNOWN_TX_TYPE'));
  test('invalid payload', () =>
    expectRejected(sign(alice, 'anchor.put', { key: 'k', commitment: 'not-hex' }), 'INVALID_PAYLOAD'));
  test('client timestamp outside the window', () =>
    expectRejected(
      sign(
        alice,
        'anchor.put',
        { key: 'k', commitment: COMMITMENT },
        { timestampMs: Date.now() - 3_600_000 },
      ),
      'TIMESTAMP_OUT_OF_WINDOW',
    ));

  test('replay of a committed transaction', async () => {
    const tx = sign(alice, 'anchor.put', { key: 'replay', commitment: COMMITMENT });
    const first = await post('/v1/transactions?wait=true', tx);
    assert.equal(first.status, 200);
    await expectRejected(tx, 'DUPLICATE_TX');
  });

  test('revoked signer, from the next block on', async () => {
    const bob = await net.enroll('st-mary', 'dr-bob', 'practitioner');
    const ok = await net.client.submitAndWait(
      net.client.sign(bob, 'anchor.put', { key: 'before', commitment: COMMITMENT }),
    );
    assert.equal(ok.code, 'VALID');
    const r = await net.client.sendAndVerify(net.id('st-mary/admin'), 'member.revoke', {
      memberId: 'st-mary/dr-bob',
      reason: 'left',
    });
    assert.equal(r.code, 'VALID');
    await expectRejected(sign(bob, 'anchor.put', { key: 'after', commitment: COMMITMENT }), 'SIGNER_REVOKED');
  });

  test('an admin cannot enroll into or revoke from another organization', async () => {
    const r = await net.client.sendAndVerify(net.id('city-clinic/admin'), 'member.revoke', {
      memberId: 'st-mary/dr-alice',
      reason: 'x',
    });
    assert.equal(r.code, 'WRONG_ORGANIZATION');
    assert.equal(net.running.node.getMember('st-mary/dr-alice')?.revokedAtHeight, null);
  });

  test('request body over the server limit', async () => {
    const small = await buildApp(net.running.node, { bodyLimit: 1024 });
    const res = await small.inject({
      method: 'POST',
      url: '/v1/transactions',
      payload: JSON.stringify({ pad: 'x'.repeat(4096) }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.statusCode, 413);
    assert.equal((res.json() as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
    await small.close();
  });

  test('reads: unknown tx, malformed id, missing block, bad range, unknown route', async () => {
    const cases: [string, number, string][] = [
      [`/v1/transactions/${'00'.repeat(32)}`, 404, 'NOT_FOUND'],
      ['/v1/transactions/xyz', 400, 'MALFORMED_REQUEST'],
      ['/v1/blocks/999999', 404, 'NOT_FOUND'],
      ['/v1/blocks/-1', 400, 'MALFORMED_REQUEST'],
      ['/v1/proofs/consistency?from=5&to=2', 400, 'INVALID_RANGE'],
      ['/v1/members/st-mary/nobody', 404, 'NOT_FOUND'],
      ['/v1/nope', 404, 'ROUTE_NOT_FOUND'],
    ];
    for (const [url, status, code] of cases) {
      const res = await net.app.inject({ url });
      assert.equal(res.statusCode, status, url);
      assert.equal((res.json() as { error: { code: string } }).error.code, code, url);
    }
  });

  test('no client input produces a 500', async () => {
    const bodies: string[] = [
      '',
      'null',
      '[]',
      '{}',
      '"x"',
      '1e999',
      '{"txs": []}',
      '{"txs": [null, 1, "a", {}]}',
      '{"body": {}, "sig": ""}',
      '\u0000',
      '{"__proto__": {"x": 1}}',
      JSON.stringify({ txs: new Array(5001).fill({}) }),
    ];
    for (const url of ['/v1/transactions', '/v1/transactions/batch', '/v1/transactions?wait=maybe']) {
      for (const payload of bodies) {
        const res = await net.app.inject({
          method: 'POST',
          url,
          payload,
          headers: { 'content-type': 'application/json' },
        });
        assert.ok(res.statusCode < 500, `${url} ${payload.slice(0, 40)} → ${res.statusCode}`);
        // A batch of junk is a 200 whose every item is rejected; any other refusal carries a code.
        const body = res.json() as { error?: { code: string }; results?: { status: string }[] };
        if (res.statusCode >= 400)
          assert.ok(body.error?.code, `${url} ${payload.slice(0, 40)}: error carries a code`);
        else
          assert.ok(
            body.results?.every((r) => r.status === 'rejected'),
            `${url} ${payload.slice(0, 40)}: junk accepted`,
          );
      }
    }
    const text = await net.app.inject({
      method: 'POST',
      url: '/v1/transactions',
      payload: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    assert.ok(text.statusCode < 500);
  });

  test('health, metrics and OpenAPI', async () => {
    const h = await net.client.nodeHealth();
    assert.equal(h.status, 'ok');
    const m = await net.app.inject({ url: '/metrics' });
    assert.match(m.body, /healthledger_block_height \d+/);
    assert.match(m.body, /healthledger_tx_committed_total\{code="VALID"\} \d+/);
    const o = (await net.app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    assert.ok(o.paths['/v1/transactions'] && o.paths['/v1/proofs/consistency']);
  });

  test('SDK surfaces API errors as HealthLedgerError with the code', async () => {
    await assert.rejects(
      net.client.receipt('00'.repeat(32)),
      (e: unknown) => e instanceof HealthLedgerError && e.code === 'NOT_FOUND',
    );
  });
});
