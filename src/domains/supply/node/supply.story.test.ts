/**
 * The supply-chain story over HTTP, through the SDK, on a real node: EPCIS 2.0 documents
 * (validated against the standard's JSON Schema at intake) take serialized packages from the
 * manufacturer through a distributor to a pharmacy and a patient, packed into cases and a pallet
 * and unpacked again; any node answers verification; the timeline is proven entry by entry; a
 * counterfeit is flagged, reaches the alert feed and is quarantined; a recall; bad input refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { startTestNetwork, type TestNetwork } from '../../../test-support/harness.js';
import { testdata } from '../../../test-support/paths.js';
import type { HealthLedgerError } from '../../../protocol/errors.js';
import type { Identity } from '../../../sdk/client.js';
import { Gs1Error, parseEpcUri } from '../core/gs1.js';
import { SupplyFactErrorCodes, supplyFactsOf } from '../core/facts.js';
import {
  aggregationEvent,
  commissioningEvent,
  dispensingEvent,
  epcisDocument,
  inspectingEvent,
  receivingEvent,
  shippingEvent,
} from '../core/documents.js';

const schema = JSON.parse(readFileSync(testdata('epcis2', 'EPCIS-JSON-Schema.json'), 'utf8')) as object;

const item = (serial: string) => `urn:epc:id:sgtin:0614141.107346.${serial}`;
const sscc = (ref: string) => `urn:epc:id:sscc:0614141.${ref.padStart(10, '0')}`;
const sgln = (cp: string) => `urn:epc:id:sgln:${cp}.00001.0`;
const pgln = (cp: string) => `urn:epc:id:pgln:${cp}.00001`;
const gln = (cp: string): string => {
  const id = parseEpcUri(pgln(cp));
  if (id instanceof Gs1Error || id.kind !== 'pgln') throw new Error('bad pgln');
  return id.gln;
};
const GTIN = (() => {
  const id = parseEpcUri(item('1'));
  if (id instanceof Gs1Error || id.kind !== 'sgtin') throw new Error('bad sgtin');
  return id.gtin;
})();
const CP = { acme: '0614141', dist: '0765432', pharm: '0888888', pharm2: '0888889', fda: '0111111' };
const EXPIRY = '2030-01-31';

let clock = Date.now() - 60_000;
/** The next event time (increasing, so every event hash differs). */
const at = (): Date => new Date((clock += 1000));
/** An EPCIS 2.0 document with one event. */
const doc = (event: Record<string, unknown>): Record<string, unknown> => epcisDocument([event]);
const commissioning = (serials: string[], lot = 'L1', expiry = EXPIRY) =>
  doc(commissioningEvent({ at: at(), epcs: serials.map(item), location: sgln(CP.acme), lot, expiry }));
const packing = (cp: string, parent: string, children: string[], action: 'ADD' | 'DELETE' = 'ADD') =>
  doc(aggregationEvent({ at: at(), parent, children, location: sgln(cp), action }));
const shipping = (cp: string, epcs: string[], toCp: string) =>
  doc(shippingEvent({ at: at(), epcs, location: sgln(cp), from: pgln(cp), to: pgln(toCp) }));
const receiving = (cp: string, epcs: string[], fromCp: string) =>
  doc(receivingEvent({ at: at(), epcs, location: sgln(cp), from: pgln(fromCp), to: pgln(cp) }));
const dispensing = (cp: string, epcs: string[]) =>
  doc(dispensingEvent({ at: at(), epcs, location: sgln(cp) }));

describe('supply chain over HTTP', () => {
  let net: TestNetwork;
  let m: Record<'acme' | 'dist' | 'pharm' | 'pharm2' | 'fda', Identity>;

  before(async () => {
    net = await startTestNetwork({
      // The test's webhook receiver listens on loopback: allowlisted here, refused by default.
      events: { webhooks: { allow: ['127.0.0.1'] } },
      orgs: [
        'acme:Acme Pharma',
        'dist:Dist Co',
        'pharm:Corner Pharmacy',
        'pharm2:Other Pharmacy',
        'fda:Regulator',
      ],
      epcisSchema: schema,
    });
    m = {
      acme: await net.enroll('acme', 'packer', 'manufacturer'),
      dist: await net.enroll('dist', 'warehouse', 'distributor'),
      pharm: await net.enroll('pharm', 'rx', 'dispenser'),
      pharm2: await net.enroll('pharm2', 'rx', 'dispenser'),
      fda: await net.enroll('fda', 'inspector', 'regulator'),
    };
    for (const [org, cp] of Object.entries(CP)) {
      const r = await net.client.sendAndVerify(m.fda, 'supply.register-party', {
        org,
        companyPrefixes: org === 'acme' ? [cp] : [],
        glns: [gln(cp)],
      });
      assert.equal(r.code, 'VALID', `register ${org}`);
    }
  });
  after(() => net.destroy());

  const capture = async (who: Identity, d: Record<string, unknown>) => {
    const [r] = await net.client.supply.captureEpcis(who, d);
    return r!;
  };

  test('the journey: manufacturer → distributor → pharmacy → patient, with aggregation', async () => {
    const c = net.client;
    const steps: [Identity, Record<string, unknown>][] = [
      [m.acme, commissioning(['1', '2', '3', '4'])],
      [m.acme, packing(CP.acme, sscc('1'), [item('1'), item('2')])],
      [m.acme, packing(CP.acme, sscc('2'), [item('3'), item('4')])],
      [m.acme, packing(CP.acme, sscc('9'), [sscc('1'), sscc('2')])],
      [m.acme, shipping(CP.acme, [sscc('9')], CP.dist)],
      [m.dist, receiving(CP.dist, [sscc('9')], CP.acme)],
      [m.dist, packing(CP.dist, sscc('9'), [], 'DELETE')],
      [m.dist, shipping(CP.dist, [sscc('1')], CP.pharm)],
      [m.pharm, receiving(CP.pharm, [sscc('1')], CP.dist)],
      [m.pharm, packing(CP.pharm, sscc('1'), [item('1')], 'DELETE')],
    ];
    for (const [who, d] of steps) {
      const r = await capture(who, d);
      assert.equal(r.code, 'VALID', JSON.stringify(d));
      assert.deepEqual(r.alerts, []);
      assert.match(r.eventHash, /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
    }
    // Before dispensing, the pharmacist verifies the package (VRS shape).
    const q = { gtin: GTIN, serial: '1', lot: 'L1', expiry: EXPIRY, corrUUID: 'a1b2c3' };
    const v = await c.supply.verifyProduct(q);
    assert.deepEqual(v.data, { verified: true });
    assert.equal(v.corrUUID, 'a1b2c3');
    assert.equal((await capture(m.pharm, dispensing(CP.pharm, [item('1')]))).code, 'VALID');
    const after = await c.supply.verifyProduct(q);
    assert.deepEqual(after.data, { verified: false, additionalInfo: 'ALREADY_DISPENSED' });
    // GS1 form of the VRS request: ?exp=YYMMDD.
    const res = await fetch(`${net.url}/v1/supply/verify/01/${GTIN}/10/L1/21/2?exp=300131`);
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { data: unknown }).data, { verified: true });

    // The timeline, every entry proven by its verified receipt.
    const { timeline, receipts } = await c.supply.supplyHistory(item('1'));
    assert.deepEqual(
      timeline.entries.map((e) => e.step),
      ['commission', 'pack', 'pack', 'ship', 'receive', 'unpack', 'ship', 'receive', 'unpack', 'dispense'],
    );
    assert.equal(receipts.length, timeline.entries.length);
    assert.ok(receipts.every((r) => r.code === 'VALID' && r.tx.body.type === 'supply.event'));
    // The same package by its GS1 Digital Link.
    const dl = await c.supply.supplyHistory(`https://id.gs1.org/01/${GTIN}/21/1`, { verify: false });
    assert.equal(dl.timeline.epc, timeline.epc);
  });

  test('a counterfeit is flagged, quarantined, and reaches the alert feed; the owner clears it', async () => {
    const c = net.client;
    const { token } = await c.supply.supplyAlertsToken(m.fda);
    const before = await c.supply.supplyAlerts(token);
    // Package 1 was dispensed at pharm; the same serial turns up dispensed at pharm2.
    const r = await capture(m.pharm2, dispensing(CP.pharm2, [item('1')]));
    assert.equal(r.code, 'VALID');
    assert.equal(r.alerts.length, 1);
    const alert = await c.supply.supplyAlert(r.alerts[0]!);
    assert.deepEqual(alert['reasons'], ['DISPENSED_TWICE']);
    assert.equal(alert['owner'], 'acme');
    // Package 2 is on pharm's shelf; pharm2 claims to dispense it too: two places at once.
    const r2 = await capture(m.pharm2, dispensing(CP.pharm2, [item('2')]));
    const v = await c.supply.verifyProduct({ gtin: GTIN, serial: '2', lot: 'L1', expiry: EXPIRY });
    assert.deepEqual(v.data, { verified: false, additionalInfo: 'SUSPECT' });
    assert.equal(v.detail.alert, r2.alerts[0]);
    // The owner and the regulator see both in the feed.
    const owner = await c.supply.supplyAlertsToken(m.acme);
    for (const t of [token, owner.token]) {
      const page = await c.supply.supplyAlerts(t, before.next);
      assert.deepEqual(
        page.events.map((e) => [e.kind, e.detail['reasons']]),
        [
          ['supply.suspect', ['DISPENSED_TWICE']],
          ['supply.suspect', ['TWO_PLACES']],
        ],
      );
      assert.deepEqual(page.events[0]!.detail['owners'], ['acme']);
    }
    // A pharmacy employee cannot follow patients' trails with a supply token, nor vice versa.
    await assert.rejects(
      c.health.events('acme/packer', token),
      (e: HealthLedgerError) => e.code === 'EVENTS_TOKEN_WRONG_PATIENT',
    );
    // The owner investigates and clears package 2 (pharm2's report was an error).
    const clear = await c.sendAndVerify(m.acme, 'supply.clear', {
      alert: r2.alerts[0]!,
      resolution: 'cleared',
    });
    assert.equal(clear.code, 'VALID');
    assert.deepEqual(
      (await c.supply.verifyProduct({ gtin: GTIN, serial: '2', lot: 'L1', expiry: EXPIRY })).data,
      {
        verified: true,
      },
    );
    const page = await c.supply.supplyAlerts(owner.token, before.next);
    assert.equal(page.events.at(-1)?.kind, 'supply.cleared');
  });

  test('alerts arrive live: Server-Sent Events and a signed webhook, in order', async () => {
    const c = net.client;
    const received: { kind: string; txId: string }[] = [];
    let secret = '';
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['x-healthledger-signature'] ?? ''));
        const ok =
          m !== null && createHmac('sha256', secret).update(`${m[1]}.${body}`).digest('hex') === m[2];
        if (ok) received.push(JSON.parse(body) as { kind: string; txId: string });
        res.statusCode = ok ? 200 : 400;
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const port = (hook.address() as { port: number }).port;
      secret = (await c.supply.createSupplySubscription(m.fda, `http://127.0.0.1:${port}/supply`)).secret;
      const { token } = await c.supply.supplyAlertsToken(m.acme);
      const latest = (await c.supply.supplyAlerts(token, 0, 1000)).next;
      const ac = new AbortController();
      const sse = await fetch(`${net.url}/v1/supply/alerts/stream?token=${token}&after=${latest}`, {
        signal: ac.signal,
      });
      assert.equal(sse.status, 200);
      // Package 3 sits at dist inside case 2; pharm2 reports seeing it on its shelf.
      const r = await capture(
        m.pharm2,
        doc(inspectingEvent({ at: at(), epcs: [item('3')], location: sgln(CP.pharm2) })),
      );
      assert.equal(r.alerts.length, 1);
      const reader = sse.body!.getReader();
      let text = '';
      while (!text.includes('supply.suspect')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      ac.abort();
      assert.match(text, /event: supply\.suspect/);
      assert.ok(text.includes(r.txId), 'the stream names the transaction');
      for (let i = 0; i < 200 && !received.some((e) => e.txId === r.txId); i++)
        await new Promise((res) => setTimeout(res, 25));
      const delivered = received.find((e) => e.txId === r.txId);
      assert.equal(delivered?.kind, 'supply.suspect', 'the regulator’s webhook got it, signed');
    } finally {
      hook.close();
    }
  });

  test('a recall marks every package of the lot, wherever it is', async () => {
    const c = net.client;
    const r = await c.sendAndVerify(m.acme, 'supply.recall', { gtin: GTIN, lot: 'L1', reason: 'quality' });
    assert.equal(r.code, 'VALID');
    for (const serial of ['2', '3', '4'])
      assert.deepEqual(
        (await c.supply.verifyProduct({ gtin: GTIN, serial, lot: 'L1', expiry: EXPIRY })).data,
        {
          verified: false,
          additionalInfo: 'RECALLED',
        },
      );
    const refused = await capture(m.pharm, dispensing(CP.pharm, [item('2')]));
    assert.equal(refused.code, 'PACKAGE_RECALLED');
    const { token } = await c.supply.supplyAlertsToken(m.dist);
    const feed = await c.supply.supplyAlerts(token);
    const recall = feed.events.find((e) => e.kind === 'supply.recalled');
    assert.equal(recall?.detail['packages'], 4);
  });

  test('bad input is refused with its code and changes nothing', async () => {
    const c = net.client;
    // A party that does not hold custody.
    assert.equal(
      (await capture(m.pharm2, shipping(CP.pharm2, [sscc('2')], CP.pharm))).code,
      'NOT_IN_CUSTODY',
    );
    // Not EPCIS: the schema error, by JSON Pointer.
    const bad = commissioning(['5']);
    delete (bad['epcisBody'] as { eventList: Record<string, unknown>[] }).eventList[0]!['eventTime'];
    await assert.rejects(c.supply.captureEpcis(m.acme, bad), (e: HealthLedgerError) => {
      assert.equal(e.code, 'INVALID_EPCIS');
      const errors = e.details?.['errors'] as { path: string }[];
      assert.ok(
        errors.some((x) => x.path.endsWith('/eventTime')),
        JSON.stringify(errors),
      );
      return true;
    });
    // A malformed GS1 key (wrong check digit in an SGLN is impossible in EPC URIs, so use a Digital Link).
    const wrongCheck = doc(
      inspectingEvent({
        at: at(),
        epcs: [`https://id.gs1.org/01/${GTIN.slice(0, 13)}${(Number(GTIN[13]) + 1) % 10}/21/5`],
        location: sgln(CP.fda),
      }),
    );
    await assert.rejects(c.supply.captureEpcis(m.fda, wrongCheck), (e: HealthLedgerError) => {
      assert.equal(e.code, 'EPCIS_NOT_RECORDABLE');
      assert.match(e.message, /BAD_IDENTIFIER.*BAD_CHECK_DIGIT/);
      return true;
    });
    // Shipping without a destination party.
    const noParty = shipping(CP.acme, [item('3')], CP.dist);
    delete (noParty['epcisBody'] as { eventList: Record<string, unknown>[] }).eventList[0]![
      'destinationList'
    ];
    await assert.rejects(c.supply.captureEpcis(m.acme, noParty), (e: HealthLedgerError) =>
      e.message.includes('NO_PARTY'),
    );
    // VRS requests with a wrong GTIN check digit or characters outside GS1 CSET 82.
    const status = async (path: string) => (await fetch(`${net.url}${path}`)).status;
    const wrongGtin = `${GTIN.slice(0, 13)}${(Number(GTIN[13]) + 1) % 10}`;
    assert.equal(await status(`/v1/supply/verify/01/${wrongGtin}/10/L1/21/1?exp=300131`), 400);
    assert.equal(
      await status(`/v1/supply/verify/01/${GTIN}/10/L1/21/${encodeURIComponent('a b')}?exp=300131`),
      400,
    );
    assert.equal(await status(`/v1/supply/verify/01/${GTIN}/10/L1/21/1`), 400, 'expiry required');
    assert.equal(await status(`/v1/supply/verify/01/${GTIN}/10/L1/21/1?exp=301399`), 400, 'not a date');
    assert.equal(await status(`/v1/supply/history?id=${encodeURIComponent('urn:epc:id:sgtin:bogus')}`), 400);
    assert.equal(await status(`/v1/supply/history?id=${encodeURIComponent(item('777'))}`), 404);
    assert.equal(await status(`/v1/supply/alerts/${'0'.repeat(32)}.0`), 404);
    assert.equal(await status('/v1/supply/alerts'), 401);
    // A patient may not follow the supply feed.
    const patient = await net.enroll('acme', 'p-1', 'patient');
    await assert.rejects(
      c.supply.supplyAlertsToken(patient),
      (e: HealthLedgerError) => e.code === 'NOT_SUPPLY_PARTY',
    );
  });

  test('intake takes every official EPCIS example: each event yields facts or a documented code', async () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
        d.isDirectory() ? walk(join(dir, d.name)) : /\.jsonld?$/.test(d.name) ? [join(dir, d.name)] : [],
      );
    const files = walk(testdata('epcis2', 'JSON'));
    assert.ok(files.length >= 40);
    const codes = new Map<string, number>();
    for (const file of files) {
      const res = await fetch(`${net.url}/v1/supply/epcis/facts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: readFileSync(file),
      });
      assert.equal(res.status, 200, file);
      const { results } = (await res.json()) as { results: { ok: boolean; code?: string }[] };
      assert.ok(results.length > 0, file);
      for (const r of results) {
        const code = r.ok ? 'ok' : r.code!;
        assert.ok(code === 'ok' || code in SupplyFactErrorCodes, `${file}: ${code}`);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    assert.ok((codes.get('ok') ?? 0) > 0, JSON.stringify([...codes]));
  });

  test('facts derived locally equal the node’s intake (the signer signs what it saw)', async () => {
    const d = shipping(CP.dist, [sscc('2')], CP.pharm);
    const local = supplyFactsOf((d['epcisBody'] as { eventList: never[] }).eventList[0]!, d['@context']);
    const remote = await net.client.supply.supplyFacts(d);
    assert.deepEqual(remote.results, [{ index: 0, ok: true, facts: local }]);
  });
});
