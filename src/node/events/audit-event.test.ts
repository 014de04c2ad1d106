/**
 * The trail exported as FHIR R4 AuditEvents (IHE BALP shape): valid R4, one per ledger entry,
 * each provable by its txId — and the SDK refuses an export that misstates what the ledger proves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { validateFhir } from '../../domains/health/core/fhir/index.js';
import { startTestNetwork, type TestNetwork } from '../../test-support/harness.js';
import { HealthLedgerClient, type Identity } from '../../sdk/client.js';
import { HealthLedgerError } from '../../protocol/errors.js';
import { loadHome } from '../home.js';

const H = 3600_000;

describe('AuditEvent export', () => {
  let net: TestNetwork;
  const who: Record<string, Identity> = {};
  let dana = '';
  const txIds: string[] = [];
  const send = async (id: Identity, type: string, payload: Record<string, unknown>) => {
    const r = await net.client.sendAndVerify(id, type, payload as never);
    txIds.push(r.txId);
    return r;
  };

  before(async () => {
    net = await startTestNetwork();
    who['dana'] = await net.enroll('st-mary', 'p-dana', 'patient');
    who['erin'] = await net.enroll('city-clinic', 'dr-erin', 'practitioner', {
      specialty: 'emergency-medicine',
    });
    dana = who['dana']!.memberId;
    const now = Date.now();
    await send(who['dana']!, 'consent.grant', {
      id: 'travel',
      patient: dana,
      actor: { kind: 'member', id: who['erin']!.memberId },
      categories: ['diabetes'],
      purposes: ['treatment'],
      validFromMs: now - 60_000,
      validUntilMs: now + 48 * H,
    });
    await send(who['erin']!, 'access.request', { patient: dana, purpose: 'treatment' });
    await send(who['erin']!, 'access.request', { patient: dana, purpose: 'payment' });
    await send(who['erin']!, 'access.break-glass', {
      patient: dana,
      reason: 'found unconscious at the airport',
      durationMs: H,
    });
    await send(who['dana']!, 'consent.revoke', { patient: dana, id: 'travel' });
  });
  after(async () => net.destroy());

  const fetchBundle = async (): Promise<Bundle<AuditEvent>> => {
    const { token } = await net.client.health.eventsToken(who['dana']!, dana);
    const deadline = Date.now() + 3000;
    for (;;) {
      const { bundle } = await net.client.health.auditEvents(dana, token, { verify: false });
      if ((bundle.entry?.length ?? 0) >= txIds.length || Date.now() > deadline) return bundle;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  test('the export is a valid FHIR R4 searchset of BALP-shaped AuditEvents, one per ledger entry', async () => {
    const bundle = await fetchBundle();
    const v = validateFhir(bundle);
    assert.ok(v.ok, JSON.stringify(!v.ok && v.outcome));
    assert.equal(bundle.type, 'searchset');
    const events = bundle.entry!.map((e) => e.resource!);
    for (const ev of events) {
      const r = validateFhir(ev);
      assert.ok(r.ok, JSON.stringify(!r.ok && r.outcome));
    }
    assert.deepEqual(
      events.map((e) => e.id),
      txIds,
    );
    assert.deepEqual(
      events.map((e) => [e.action, e.outcome, e.outcomeDesc, e.subtype![0]!.code]),
      [
        ['C', '0', 'VALID', 'consent.granted'],
        ['R', '0', 'VALID', 'access.granted'],
        ['R', '4', 'PURPOSE_NOT_PERMITTED', 'access.denied'],
        ['R', '0', 'VALID', 'break-glass'],
        ['U', '0', 'VALID', 'consent.revoked'],
      ],
    );
    const denied = events[2]!;
    assert.deepEqual(denied.type, {
      system: 'http://dicom.nema.org/resources/ontology/DCM',
      code: '110110',
      display: 'Patient Record',
    });
    assert.equal(denied.agent[0]!.who!.identifier!.value, who['erin']!.memberId);
    assert.equal(denied.agent[0]!.requestor, true);
    assert.equal(denied.purposeOfEvent![0]!.coding![0]!.code, 'HPAYMT');
    assert.equal(events[3]!.purposeOfEvent![0]!.coding![0]!.code, 'ETREAT');
    assert.equal(denied.entity![0]!.what!.identifier!.value, dana);
    assert.equal(denied.entity![0]!.role!.code, '1');
    assert.equal(denied.entity![1]!.detail!.find((d) => d.type === 'txId')!.valueString, txIds[2]);
    assert.doesNotMatch(JSON.stringify(bundle), /unconscious|airport|diabetes/, 'no health data');
  });

  test('each entry’s txId yields a receipt the SDK verifies; auditEvents checks every entry', async () => {
    const bundle = await fetchBundle();
    for (const e of bundle.entry!) {
      const r = await net.client.verifiedReceipt(e.resource!.id!);
      assert.equal(r.code, e.resource!.outcomeDesc);
    }
    const { token } = await net.client.health.eventsToken(who['dana']!, dana);
    const verified = await net.client.health.auditEvents(dana, token);
    assert.deepEqual(
      verified.receipts.map((r) => r.txId),
      txIds,
    );
    // A node that misreports an outcome is caught by the SDK.
    const { genesis } = loadHome(net.dir);
    const lying = new HealthLedgerClient({
      baseUrl: net.url,
      genesis,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (!String(input).includes('/audit-events')) return res;
        const b = (await res.json()) as Bundle<AuditEvent>;
        b.entry![2]!.resource!.outcome = '0';
        b.entry![2]!.resource!.outcomeDesc = 'VALID';
        return new Response(JSON.stringify(b), { status: 200 });
      },
    });
    await assert.rejects(
      lying.health.auditEvents(dana, token),
      (e: unknown) => e instanceof HealthLedgerError && e.code === 'AUDIT_EVENT_MISMATCH',
    );
  });

  test('pages follow the next link', async () => {
    const { token } = await net.client.health.eventsToken(who['dana']!, dana);
    const first = await net.client.health.auditEvents(dana, token, { limit: 2 });
    const next = first.bundle.link!.find((l) => l.relation === 'next')!.url!;
    const afterSeq = Number(new URL(next, net.url).searchParams.get('after'));
    const second = await net.client.health.auditEvents(dana, token, { after: afterSeq, limit: 2 });
    assert.deepEqual(
      [...first.bundle.entry!, ...second.bundle.entry!].map((e) => e.resource!.id),
      txIds.slice(0, 4),
    );
  });
});
