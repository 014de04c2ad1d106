/**
 * The patient event index against a real node: the story's health transactions — granted and
 * denied alike — become exactly the expected events, in order, for that patient only; a restart
 * loses and duplicates nothing; a deleted index is rebuilt from the ledger with the same cursors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { startTestNetwork, type TestNetwork } from '../../test-support/harness.js';
import type { Identity } from '../../sdk/client.js';
import type { PatientEventWire } from '../../protocol/api.js';
import { eventsPaths } from './events-service.js';

const H = 3600_000;
const REASON = 'unconscious on arrival, hypoglycaemia suspected';

/** Polls `read` until `done` holds (or 5 s pass), returning the last value. */
async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('patient event index', () => {
  let net: TestNetwork;
  const who: Record<string, Identity> = {};
  let dana = '';
  let bob = '';
  const txIds: string[] = [];

  const send = async (id: Identity, type: string, payload: Record<string, unknown>) => {
    const r = await net.client.sendAndVerify(id, type, payload as never);
    txIds.push(r.txId);
    return r;
  };
  const trail = async (patient: string, identity: Identity): Promise<PatientEventWire[]> => {
    const { token } = await net.client.health.eventsToken(identity, patient);
    const out: PatientEventWire[] = [];
    let afterSeq = 0;
    for (;;) {
      const page = await net.client.health.events(patient, token, afterSeq, 3);
      out.push(...page.events);
      if (page.events.length < 3) return out;
      afterSeq = page.next;
    }
  };
  const expected = [
    'consent.granted',
    'access.granted',
    'access.denied',
    'consent.revoked',
    'break-glass',
    'erasure.requested',
    'erasure.completed',
  ];

  before(async () => {
    net = await startTestNetwork();
    who['dana'] = await net.enroll('st-mary', 'p-dana', 'patient');
    who['bob'] = await net.enroll('st-mary', 'p-bob', 'patient');
    who['erin'] = await net.enroll('city-clinic', 'dr-erin', 'practitioner', {
      specialty: 'emergency-medicine',
    });
    dana = who['dana']!.memberId;
    bob = who['bob']!.memberId;
  });
  after(async () => net.destroy());

  test('the story yields exactly the expected kinds, in order, for the patient and nobody else', async () => {
    const now = Date.now();
    assert.equal(
      (
        await send(who['dana']!, 'consent.grant', {
          id: 'travel',
          patient: dana,
          actor: { kind: 'role', role: 'practitioner', attributes: { specialty: 'emergency-medicine' } },
          categories: ['diabetes'],
          purposes: ['treatment', 'emergency'],
          validFromMs: now - 60_000,
          validUntilMs: now + 48 * H,
        })
      ).code,
      'VALID',
    );
    const granted = { patient: dana, purpose: 'treatment', categories: ['diabetes'] };
    assert.equal((await send(who['erin']!, 'access.request', granted)).code, 'VALID');
    const denied = await send(who['erin']!, 'access.request', { ...granted, purpose: 'research' });
    assert.equal(denied.code, 'PURPOSE_NOT_PERMITTED');
    assert.equal((await send(who['dana']!, 'consent.revoke', { patient: dana, id: 'travel' })).code, 'VALID');
    assert.equal(
      (await send(who['erin']!, 'access.break-glass', { patient: dana, reason: REASON, durationMs: 4 * H }))
        .code,
      'VALID',
    );
    assert.equal((await send(who['dana']!, 'erasure.request', { patient: dana })).code, 'VALID');

    const events = await eventually(
      () => trail(dana, who['dana']!),
      (v) => v.length >= expected.length,
    );
    assert.deepEqual(
      events.map((e) => e.kind),
      expected,
    );
    // The patient's own actions and the requests are attributed; denials carry the reason code.
    assert.deepEqual(
      events.map((e) => e.actor),
      [
        dana,
        who['erin']!.memberId,
        who['erin']!.memberId,
        dana,
        who['erin']!.memberId,
        dana,
        'st-mary/records',
      ],
    );
    assert.equal(events[2]!.code, 'PURPOSE_NOT_PERMITTED');
    assert.equal(events[2]!.txId, denied.txId);
    assert.equal(events[2]!.detail['purpose'], 'research');
    assert.equal(events[1]!.detail['consentId'], 'travel');
    assert.deepEqual(
      events.slice(0, 6).map((e) => e.txId),
      txIds,
    );
    // seq is the ledger log position + 1, increasing; each matches its proven receipt.
    for (const e of events.slice(0, 6)) {
      const r = await net.client.verifiedReceipt(e.txId);
      assert.equal(e.seq, r.seq + 1);
      assert.equal(e.height, r.height);
      assert.equal(e.code, r.code);
    }
    assert.ok(events.every((e, i) => i === 0 || e.seq > events[i - 1]!.seq));
    // No health data: not the break-glass reason, not the categories.
    const json = JSON.stringify(events);
    assert.doesNotMatch(json, /hypoglyc|diabetes/);
    const files = [eventsPaths(net.dir).index, `${eventsPaths(net.dir).index}-wal`].filter((f) =>
      existsSync(f),
    );
    for (const f of files)
      assert.ok(!readFileSync(f).includes(Buffer.from('hypoglyc')), `${f} holds no reason`);
    // Another patient sees none of it.
    assert.deepEqual(await trail(bob, who['bob']!), []);
  });

  test('a restart loses nothing and duplicates nothing; later events follow on', async () => {
    const before = await trail(dana, who['dana']!);
    await net.stop();
    await net.restart();
    assert.deepEqual(await trail(dana, who['dana']!), before);
    // Erased patient: later requests are denied — and still reported.
    const r = await send(who['erin']!, 'access.break-glass', {
      patient: dana,
      reason: 'unconscious again after erasure',
      durationMs: H,
    });
    assert.equal(r.code, 'PATIENT_ERASED');
    const after = await eventually(
      () => trail(dana, who['dana']!),
      (v) => v.length > before.length,
    );
    assert.deepEqual(after.slice(0, before.length), before);
    assert.deepEqual(
      after.slice(before.length).map((e) => [e.kind, e.code]),
      [['break-glass.denied', 'PATIENT_ERASED']],
    );
    assert.equal(new Set(after.map((e) => e.seq)).size, after.length);
  });

  test('a deleted events.sqlite is rebuilt from the ledger, with the same cursors', async () => {
    const before = await trail(dana, who['dana']!);
    await net.stop();
    const { index } = eventsPaths(net.dir);
    for (const f of [index, `${index}-wal`, `${index}-shm`]) rmSync(f, { force: true });
    await net.restart();
    assert.deepEqual(await trail(dana, who['dana']!), before);
    assert.deepEqual(await trail(bob, who['bob']!), []);
  });
});
