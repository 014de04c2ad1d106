/**
 * The pure state transition: validation codes, no effect from invalid transactions,
 * membership changes effective from the next block, replay protection within and across blocks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { txIdOf, type SignedTx } from '../protocol/tx.js';
import { T0, consortium, pureLedger, tx as signAt } from '../test-support/ledger-fixture.js';

const c = consortium(['st-mary']);
const admin = c.admin('st-mary');
const alice = c.member('st-mary', 'dr-alice', 'practitioner');
const ledger = () => pureLedger(c.genesis);
const tx = (
  who: { memberId: string; key: Uint8Array },
  type: string,
  payload: Record<string, unknown>,
  over: object = {},
): SignedTx => signAt({ ...who, pem: '' }, type, payload, over);
const anchor = (who = alice, key = 'k') => tx(who, 'anchor.put', { key, commitment: 'ef'.repeat(32) });

test('enrollment takes effect from the next block', () => {
  const l = ledger();
  const out = l.apply([tx(admin, 'member.enroll', { certificate: alice.pem }), anchor()]);
  assert.deepEqual(out.codes, ['VALID', 'UNKNOWN_SIGNER']);
  assert.deepEqual(l.apply([anchor(alice, 'k2')]).codes, ['VALID']);
});

test('revocation takes effect from the next block', () => {
  const l = ledger();
  l.apply([tx(admin, 'member.enroll', { certificate: alice.pem })]);
  const out = l.apply([
    tx(admin, 'member.revoke', { memberId: alice.memberId, reason: 'left' }),
    anchor(alice, 'same-block'),
  ]);
  assert.deepEqual(out.codes, ['VALID', 'VALID']);
  assert.deepEqual(l.apply([anchor(alice, 'next-block')]).codes, ['SIGNER_REVOKED']);
});

test('every envelope failure gets its code and writes nothing', () => {
  const l = ledger();
  l.apply([tx(admin, 'member.enroll', { certificate: alice.pem })]);
  const before = new Map(l.state);
  const good = anchor(alice, 'x');
  const cases: [SignedTx | string, string][] = [
    ['{"not":"a tx"}', 'MALFORMED_TX'],
    ['not json', 'MALFORMED_TX'],
    [JSON.stringify(anchor(alice, 'y'), null, 1), 'MALFORMED_TX'], // not canonical
    [{ ...anchor(alice, 'z'), sig: good.sig }, 'BAD_SIGNATURE'],
    [
      tx(alice, 'anchor.put', { key: 'w', commitment: 'ef'.repeat(32) }, { chainId: 'elsewhere' }),
      'WRONG_CHAIN_ID',
    ],
    [
      tx({ memberId: 'st-mary/nobody', key: alice.key }, 'anchor.put', {
        key: 'v',
        commitment: 'ef'.repeat(32),
      }),
      'UNKNOWN_SIGNER',
    ],
    [tx(alice, 'member.enroll', { certificate: alice.pem }), 'UNAUTHORIZED_ROLE'],
    [tx(alice, 'no.such', {}), 'UNKNOWN_TX_TYPE'],
    [tx(alice, 'anchor.put', { key: '', commitment: 'ef'.repeat(32) }), 'INVALID_PAYLOAD'],
    [
      tx(
        alice,
        'anchor.put',
        { key: 'u', commitment: 'ef'.repeat(32) },
        { timestampMs: T0 + 1000 + 3_600_000 },
      ),
      'TIMESTAMP_OUT_OF_WINDOW',
    ],
    [tx(admin, 'member.enroll', { certificate: admin.pem }), 'MEMBER_EXISTS'],
    [tx(admin, 'member.revoke', { memberId: 'st-mary/ghost', reason: '' }), 'MEMBER_NOT_FOUND'],
    [
      tx(alice, 'anchor.put', { key: 'v2', commitment: 'ef'.repeat(32), expectedVersion: 3 }),
      'ANCHOR_VERSION_CONFLICT',
    ],
  ];
  const out = l.apply(cases.map((c) => c[0]));
  assert.deepEqual(
    out.codes,
    cases.map((c) => c[1]),
  );
  assert.deepEqual(out.writes, []);
  assert.deepEqual(l.state, before);
});

test('a transaction id is accepted once: within a block and across blocks', () => {
  const l = ledger();
  l.apply([tx(admin, 'member.enroll', { certificate: alice.pem })]);
  const t = anchor(alice, 'once');
  const out = l.apply([t, t]);
  assert.deepEqual(out.codes, ['VALID', 'DUPLICATE_TX']);
  assert.deepEqual(out.consumedTxIds, [txIdOf(t.body)]);
  assert.deepEqual(l.apply([t]).codes, ['DUPLICATE_TX']);
});

test('a forged copy (bad signature) does not burn the genuine transaction id', () => {
  const l = ledger();
  l.apply([tx(admin, 'member.enroll', { certificate: alice.pem })]);
  const t = anchor(alice, 'grief');
  const forged = { ...t, sig: anchor(alice, 'other').sig };
  assert.deepEqual(l.apply([forged, t]).codes, ['BAD_SIGNATURE', 'VALID']);
});

test('execution is deterministic: same input, same outcome', () => {
  const txs = [tx(admin, 'member.enroll', { certificate: alice.pem })];
  const a = ledger().apply(txs);
  const b = ledger().apply(txs);
  assert.deepEqual(a, b);
});
