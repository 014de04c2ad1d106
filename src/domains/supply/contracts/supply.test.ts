/**
 * Custody of serialized medicines, decided by the pure contracts: the full journey manufacturer →
 * distributor → pharmacy → patient with aggregation and disaggregation, each counterfeit and
 * diversion pattern flagged and quarantined, a recall, and every refusal by its code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, consortium, pureLedger, tx, type TestMember } from '../../../test-support/ledger-fixture.js';
import { txIdOf, type SignedTx } from '../../../protocol/tx.js';
import { gs1CheckDigit } from '../core/gs1.js';
import {
  SupplyKeys,
  expiryEndMs,
  parseEpc,
  type AlertRecord,
  type ContainerRecord,
  type LotRecord,
  type PackageRecord,
} from './model.js';
import { verifyProduct } from './verify.js';
import { timeline } from './timeline.js';

const withCheck = (digits: string): string => digits + String(gs1CheckDigit(digits));
const GTIN = withCheck('0061414110734'); // acme's company prefix 0614141
const OTHER_GTIN = withCheck('0099999910734'); // nobody's prefix
const GLN = {
  acme: withCheck('061414100001'),
  dist: withCheck('076543200001'),
  pharm: withCheck('088888800001'),
  pharm2: withCheck('088888800002'),
  rogue: withCheck('055555500001'),
  fda: withCheck('011111100001'),
};
const sgtin = (serial: string, gtin = GTIN) => `sgtin:${gtin}.${serial}`;
const sscc = (ref: string) => `sscc:${withCheck(`00614141${ref.padStart(9, '0')}`)}`;
const EXPIRY = '2030-01-31';
const DAY = 86_400_000;

const c = consortium(['acme', 'dist', 'pharm', 'pharm2', 'rogue', 'fda']);

let hashCounter = 0;
const nextHash = () => `ni:///sha-256;${(++hashCounter).toString(16).padStart(64, '0')}?ver=CBV2.0`;

function world() {
  const l = pureLedger(c.genesis);
  const m = {
    acme: c.member('acme', 'packer', 'manufacturer'),
    dist: c.member('dist', 'warehouse', 'distributor'),
    pharm: c.member('pharm', 'rx', 'dispenser'),
    pharm2: c.member('pharm2', 'rx', 'dispenser'),
    rogue: c.member('rogue', 'broker', 'distributor'),
    fda: c.member('fda', 'inspector', 'regulator'),
    acmeDoctor: c.member('acme', 'dr', 'practitioner'),
  };
  const enroll = (who: TestMember) =>
    tx(c.admin(who.memberId.split('/')[0]!), 'member.enroll', { certificate: who.pem });
  const party = (org: string, companyPrefixes: string[], glns: string[]) =>
    tx(m.fda, 'supply.register-party', { org, companyPrefixes, glns });
  let now = T0 + 1000;
  const apply = (txs: SignedTx[], at = now) => l.apply(txs, at);
  const setup = apply([...Object.values(m).map(enroll)]);
  assert.deepEqual(new Set(setup.codes), new Set(['VALID']));
  const reg = apply([
    party('acme', ['0614141'], [GLN.acme]),
    party('dist', ['0765432'], [GLN.dist]),
    party('pharm', [], [GLN.pharm]),
    party('pharm2', [], [GLN.pharm2]),
    party('rogue', [], [GLN.rogue]),
    party('fda', [], [GLN.fda]),
  ]);
  assert.deepEqual(new Set(reg.codes), new Set(['VALID']));

  /** Submits one event; returns its code and the alerts it raised. */
  const event = (
    who: TestMember,
    step: string,
    location: string,
    epcs: string[],
    extra: { parent?: string; lot?: { lot: string; expiry: string }; party?: string } = {},
    at = now,
  ) => {
    const t = tx(
      who,
      'supply.event',
      { eventHash: nextHash(), step, eventTimeMs: at, location, epcs, ...extra },
      {},
      at,
    );
    const out = apply([t], at);
    const rec = l.state.get(SupplyKeys.event(txIdOf(t.body)));
    return {
      code: out.codes[0]!,
      alerts: rec === undefined ? [] : (JSON.parse(rec) as { alerts: string[] }).alerts,
      txId: txIdOf(t.body),
    };
  };
  const get = (k: string) => l.state.get(k);
  const pkg = (epc: string): PackageRecord => {
    const e = parseEpc(epc) as { gtin: string; serial: string };
    return JSON.parse(get(SupplyKeys.package(e.gtin, e.serial))!) as PackageRecord;
  };
  const box = (epc: string): ContainerRecord =>
    JSON.parse(get(SupplyKeys.container(epc.slice(5)))!) as ContainerRecord;
  const alert = (id: string): AlertRecord => JSON.parse(get(SupplyKeys.alert(id))!) as AlertRecord;
  const verify = (serial: string, lot = 'L1', expiry = EXPIRY, atMs = now) =>
    verifyProduct(get, { gtin: GTIN, serial, lot, expiry }, atMs);
  const commission = (serials: string[], lot = 'L1', expiry = EXPIRY) =>
    event(
      m.acme,
      'commission',
      GLN.acme,
      serials.map((s) => sgtin(s)),
      { lot: { lot, expiry } },
    );
  return {
    l,
    m,
    event,
    pkg,
    box,
    alert,
    verify,
    commission,
    get,
    tx,
    apply,
    advance: (ms: number) => (now += ms),
  };
}

/** Commissions, packs 4 packages into 2 cases on a pallet, ships to dist, who receives it. */
function atDistributor() {
  const w = world();
  const { m, event } = w;
  assert.equal(w.commission(['1', '2', '3', '4']).code, 'VALID');
  assert.equal(
    event(m.acme, 'pack', GLN.acme, [sgtin('1'), sgtin('2')], { parent: sscc('1') }).code,
    'VALID',
  );
  assert.equal(
    event(m.acme, 'pack', GLN.acme, [sgtin('3'), sgtin('4')], { parent: sscc('2') }).code,
    'VALID',
  );
  assert.equal(event(m.acme, 'pack', GLN.acme, [sscc('1'), sscc('2')], { parent: sscc('9') }).code, 'VALID');
  assert.equal(event(m.acme, 'ship', GLN.acme, [sscc('9')], { party: GLN.dist }).code, 'VALID');
  assert.equal(event(m.dist, 'receive', GLN.dist, [sscc('9')], { party: GLN.acme }).code, 'VALID');
  return w;
}

/** …then dist unpacks the pallet, ships case 1 to the pharmacy, which receives and opens it. */
function atPharmacy() {
  const w = atDistributor();
  const { m, event } = w;
  assert.equal(event(m.dist, 'unpack', GLN.dist, [], { parent: sscc('9') }).code, 'VALID');
  assert.equal(event(m.dist, 'ship', GLN.dist, [sscc('1')], { party: GLN.pharm }).code, 'VALID');
  assert.equal(event(m.pharm, 'receive', GLN.pharm, [sscc('1')], { party: GLN.dist }).code, 'VALID');
  assert.equal(event(m.pharm, 'unpack', GLN.pharm, [sgtin('1')], { parent: sscc('1') }).code, 'VALID');
  return w;
}

describe('supply custody: the journey', () => {
  test('manufacturer → distributor → pharmacy → patient, with aggregation and disaggregation', () => {
    const w = atDistributor();
    // Receiving the pallet received its cases and their packages: custody is inherited.
    assert.equal(w.box(sscc('9')).custodian, 'dist');
    assert.equal(w.pkg(sgtin('1')).custodian, 'acme', 'packed packages keep their own record…');
    assert.equal(w.pkg(sgtin('1')).parent, sscc('1'));
    assert.deepEqual(w.verify('1'), {
      verified: true,
      reason: null,
      status: 'active',
      lastTx: w.pkg(sgtin('1')).history.at(-1),
    });

    const { m, event } = w;
    assert.equal(event(m.dist, 'unpack', GLN.dist, [], { parent: sscc('9') }).code, 'VALID');
    const case1 = w.box(sscc('1'));
    assert.equal(case1.custodian, 'dist', '…and unpacking makes inherited custody their own');
    assert.deepEqual(case1.holders, ['acme', 'dist']);
    assert.deepEqual(w.box(sscc('9')).children, []);
    assert.equal(event(m.dist, 'ship', GLN.dist, [sscc('1')], { party: GLN.pharm }).code, 'VALID');
    assert.equal(w.box(sscc('1')).transit?.to, 'pharm');
    assert.equal(event(m.pharm, 'receive', GLN.pharm, [sscc('1')], { party: GLN.dist }).code, 'VALID');
    assert.equal(event(m.pharm, 'unpack', GLN.pharm, [sgtin('1')], { parent: sscc('1') }).code, 'VALID');
    const p1 = w.pkg(sgtin('1'));
    assert.equal(p1.custodian, 'pharm');
    assert.deepEqual(p1.holders, ['acme', 'dist', 'pharm']);
    assert.deepEqual(w.box(sscc('1')).children, [sgtin('2')]);

    const d = event(m.pharm, 'dispense', GLN.pharm, [sgtin('1')]);
    assert.equal(d.code, 'VALID');
    assert.deepEqual(d.alerts, []);
    assert.equal(w.pkg(sgtin('1')).status, 'dispensed');
    assert.equal(w.verify('1').reason, 'ALREADY_DISPENSED');
    // The other packages are still good, wherever they are.
    for (const s of ['2', '3', '4']) assert.equal(w.verify(s).verified, true, s);
  });

  test('verification answers each reason', () => {
    const w = atPharmacy();
    assert.equal(w.verify('404').reason, 'UNKNOWN_SERIAL');
    assert.equal(w.verify('1', 'L2').reason, 'LOT_MISMATCH');
    assert.equal(w.verify('1', 'L1', '2030-02-01').reason, 'EXPIRY_MISMATCH');
    assert.equal(w.verify('1', 'L1', EXPIRY, expiryEndMs(EXPIRY) + 1).reason, 'EXPIRED');
    assert.equal(
      w.verify('1', 'L1', EXPIRY, expiryEndMs(EXPIRY)).verified,
      true,
      'good through the expiry day',
    );
  });

  test('an event hash is recorded once', () => {
    const w = world();
    const t = tx(w.m.acme, 'supply.event', {
      eventHash: nextHash(),
      step: 'commission',
      eventTimeMs: T0,
      location: GLN.acme,
      epcs: [sgtin('7')],
      lot: { lot: 'L1', expiry: EXPIRY },
    });
    assert.equal(w.apply([t]).codes[0], 'VALID');
    const again = tx(w.m.acme, 'supply.event', { ...(t.body.payload as object), epcs: [sgtin('8')] });
    assert.equal(w.apply([again]).codes[0], 'EVENT_EXISTS');
  });
});

describe('supply custody: refusals change nothing', () => {
  test('only the owner of the company prefix commissions its serials', () => {
    const w = world();
    const { m, event } = w;
    const other = event(m.acme, 'commission', GLN.acme, [sgtin('1', OTHER_GTIN)], {
      lot: { lot: 'L1', expiry: EXPIRY },
    });
    assert.equal(other.code, 'NOT_PREFIX_OWNER');
    const distMfr = c.member('dist', 'mfr', 'manufacturer');
    w.apply([tx(c.admin('dist'), 'member.enroll', { certificate: distMfr.pem })]);
    assert.equal(
      event(distMfr, 'commission', GLN.dist, [sgtin('1')], { lot: { lot: 'L1', expiry: EXPIRY } }).code,
      'NOT_PREFIX_OWNER',
    );
    assert.equal(
      event(m.dist, 'commission', GLN.dist, [sgtin('1')], { lot: { lot: 'L1', expiry: EXPIRY } }).code,
      'UNAUTHORIZED_ROLE',
    );
    assert.equal(w.get(SupplyKeys.package(GTIN, '1')), undefined);
    assert.equal(w.commission(['1']).code, 'VALID');
    assert.equal(w.commission(['1']).code, 'SERIAL_EXISTS');
    assert.equal(w.commission(['2'], 'L1', '2031-01-01').code, 'LOT_EXPIRY_CONFLICT');
    assert.equal(JSON.parse(w.get(SupplyKeys.lot(GTIN, 'L1'))!).commissioned, 1);
  });

  test('events at premises the signer does not own, or naming unknown parties, are refused', () => {
    const w = world();
    const { m, event } = w;
    assert.equal(
      event(m.acme, 'commission', GLN.dist, [sgtin('1')], { lot: { lot: 'L1', expiry: EXPIRY } }).code,
      'NOT_LOCATION_OWNER',
    );
    assert.equal(w.commission(['1']).code, 'VALID');
    const nobody = withCheck('099999900001');
    assert.equal(event(m.acme, 'ship', GLN.acme, [sgtin('1')], { party: nobody }).code, 'UNKNOWN_PARTY');
    assert.equal(event(m.acme, 'ship', nobody, [sgtin('1')], { party: GLN.dist }).code, 'UNKNOWN_PARTY');
  });

  test('only the custodian ships; only the named party receives', () => {
    const w = world();
    const { m, event } = w;
    w.commission(['1', '2']);
    assert.equal(
      event(m.rogue, 'ship', GLN.rogue, [sgtin('1')], { party: GLN.pharm }).code,
      'NOT_IN_CUSTODY',
    );
    assert.equal(event(m.acme, 'ship', GLN.acme, [sgtin('1')], { party: GLN.dist }).code, 'VALID');
    assert.equal(event(m.acme, 'ship', GLN.acme, [sgtin('1')], { party: GLN.dist }).code, 'IN_TRANSIT');
    const before = w.pkg(sgtin('1'));
    assert.equal(
      event(m.pharm, 'receive', GLN.pharm, [sgtin('1')], { party: GLN.acme }).code,
      'NOT_CONSIGNEE',
    );
    assert.deepEqual(w.pkg(sgtin('1')), before, 'a refused event changes nothing');
    assert.equal(event(m.dist, 'receive', GLN.dist, [sgtin('1')], { party: GLN.acme }).code, 'VALID');
    assert.equal(event(m.dist, 'receive', GLN.dist, [sgtin('1')], { party: GLN.acme }).code, 'NOT_SHIPPED');
    assert.equal(event(m.acme, 'decommission', GLN.acme, [sgtin('1')]).code, 'NOT_IN_CUSTODY');
    assert.equal(event(m.acme, 'ship', GLN.acme, [sgtin('404')], { party: GLN.dist }).code, 'UNKNOWN_EPC');
  });

  test('aggregation rules: packed items move with their container; no cycles', () => {
    const w = atDistributor();
    const { m, event } = w;
    assert.equal(
      event(m.dist, 'ship', GLN.dist, [sgtin('1')], { party: GLN.pharm }).code,
      'PACKED_IN_CONTAINER',
    );
    assert.equal(
      event(m.dist, 'ship', GLN.dist, [sscc('1')], { party: GLN.pharm }).code,
      'PACKED_IN_CONTAINER',
    );
    assert.equal(
      event(m.dist, 'pack', GLN.dist, [sscc('9')], { parent: sscc('1') }).code,
      'AGGREGATION_INVALID',
      'the pallet around a case cannot go into it',
    );
    assert.equal(event(m.dist, 'unpack', GLN.dist, [], { parent: sscc('9') }).code, 'VALID');
    assert.equal(
      event(m.dist, 'pack', GLN.dist, [sscc('1')], { parent: sscc('1') }).code,
      'AGGREGATION_INVALID',
    );
    assert.equal(event(m.dist, 'pack', GLN.dist, [sscc('9')], { parent: sscc('1') }).code, 'VALID');
    assert.equal(
      event(m.dist, 'pack', GLN.dist, [sscc('1')], { parent: sscc('9') }).code,
      'AGGREGATION_INVALID',
      'a cycle',
    );
    assert.equal(
      event(m.dist, 'unpack', GLN.dist, [sgtin('3')], { parent: sscc('1') }).code,
      'NOT_IN_CONTAINER',
    );
    assert.equal(event(m.acme, 'unpack', GLN.acme, [], { parent: sscc('2') }).code, 'NOT_IN_CUSTODY');
    assert.equal(event(m.dist, 'decommission', GLN.dist, [sscc('2')]).code, 'CONTAINER_NOT_EMPTY');
  });

  test('malformed payloads: bad GS1 keys and check digits, wrong shapes', () => {
    const w = world();
    const bad = (payload: Record<string, unknown>) =>
      w.apply([
        tx(w.m.acme, 'supply.event', {
          eventHash: nextHash(),
          step: 'commission',
          eventTimeMs: T0,
          location: GLN.acme,
          epcs: [sgtin('1')],
          lot: { lot: 'L1', expiry: EXPIRY },
          ...payload,
        }),
      ]).codes[0];
    const wrongCheck = `sgtin:${GTIN.slice(0, 13)}${(Number(GTIN[13]) + 1) % 10}.1`;
    assert.equal(bad({ epcs: [wrongCheck] }), 'INVALID_PAYLOAD');
    assert.equal(
      bad({ epcs: ['urn:epc:id:sgtin:0614141.107346.1'] }),
      'INVALID_PAYLOAD',
      'canonical keys only on chain',
    );
    assert.equal(bad({ epcs: [`sgtin:${GTIN}.has space`] }), 'INVALID_PAYLOAD');
    assert.equal(
      bad({ location: GLN.acme.slice(0, 12) + String((Number(GLN.acme[12]) + 1) % 10) }),
      'INVALID_PAYLOAD',
    );
    assert.equal(bad({ eventHash: 'sha256:abc' }), 'INVALID_PAYLOAD');
    assert.equal(bad({ lot: { lot: 'L1', expiry: '2030-02-30' } }), 'INVALID_PAYLOAD');
    assert.equal(bad({ epcs: [sgtin('1'), sgtin('1')] }), 'INVALID_PAYLOAD');
    assert.equal(bad({ epcs: [sgtin('1'), sgtin('1', OTHER_GTIN)] }), 'INVALID_PAYLOAD');
    assert.equal(bad({ step: 'teleport' }), 'INVALID_PAYLOAD');
    assert.equal(bad({ parent: sscc('1') }), 'INVALID_PAYLOAD');
    assert.equal(bad({ extra: 1 }), 'INVALID_PAYLOAD');
    assert.equal(w.get(SupplyKeys.package(GTIN, '1')), undefined);
    // Only a regulator attests parties; prefixes cannot be taken from their owner.
    assert.equal(
      w.apply([
        tx(w.m.acme, 'supply.register-party', { org: 'acme', companyPrefixes: ['0614142'], glns: [] }),
      ]).codes[0],
      'UNAUTHORIZED_ROLE',
    );
    const steal = (companyPrefixes: string[]) =>
      w.apply([tx(w.m.fda, 'supply.register-party', { org: 'rogue', companyPrefixes, glns: [] })]).codes[0];
    assert.equal(steal(['0614141']), 'PARTY_CONFLICT');
    assert.equal(steal(['06141410']), 'PARTY_CONFLICT', 'a longer prefix inside acme’s');
    assert.equal(steal(['061414']), 'PARTY_CONFLICT', 'a shorter prefix around acme’s');
    assert.equal(steal(['0614140']), 'VALID');
    assert.equal(
      w.apply([
        tx(w.m.fda, 'supply.register-party', { org: 'nobody', companyPrefixes: ['0600000'], glns: [] }),
      ]).codes[0],
      'UNKNOWN_ORGANIZATION',
    );
    assert.equal(
      w.apply([
        tx(w.m.acmeDoctor, 'supply.event', {
          eventHash: nextHash(),
          step: 'observe',
          eventTimeMs: T0,
          location: GLN.acme,
          epcs: [sgtin('1')],
        }),
      ]).codes[0],
      'UNAUTHORIZED_ROLE',
    );
  });
});

describe('supply: counterfeit and diversion patterns are flagged and quarantined', () => {
  const expectFlag = (
    w: ReturnType<typeof world>,
    r: { code: string; alerts: string[] },
    epc: string,
    reason: string,
  ): AlertRecord => {
    assert.equal(r.code, 'VALID', 'a suspect report is recorded, not dropped');
    assert.equal(r.alerts.length, 1);
    const a = w.alert(r.alerts[0]!);
    assert.equal(a.epc, epc);
    assert.ok(a.reasons.includes(reason as never), `${a.reasons.join()} should include ${reason}`);
    assert.equal(a.status, 'open');
    return a;
  };

  test('dispensed twice', () => {
    const w = atPharmacy();
    const { m, event } = w;
    assert.equal(event(m.pharm, 'dispense', GLN.pharm, [sgtin('1')]).code, 'VALID');
    const a = expectFlag(
      w,
      event(m.pharm2, 'dispense', GLN.pharm2, [sgtin('1')]),
      sgtin('1'),
      'DISPENSED_TWICE',
    );
    assert.equal(a.owner, 'acme', 'the owner is named for notification');
    assert.equal(w.pkg(sgtin('1')).quarantine, a.id);
    assert.equal(w.verify('1').reason, 'SUSPECT');
  });

  test('received from a party that never held it', () => {
    const w = atDistributor();
    const { m, event } = w;
    assert.equal(event(m.dist, 'unpack', GLN.dist, [], { parent: sscc('9') }).code, 'VALID');
    assert.equal(event(m.dist, 'ship', GLN.dist, [sscc('1')], { party: GLN.pharm }).code, 'VALID');
    const a = expectFlag(
      w,
      event(m.pharm, 'receive', GLN.pharm, [sscc('1')], { party: GLN.rogue }),
      sscc('1'),
      'SOURCE_NEVER_HELD',
    );
    assert.equal(w.box(sscc('1')).custodian, 'dist', 'custody does not move on a suspect report');
    // The quarantine covers what is inside.
    assert.equal(w.verify('1').reason, 'SUSPECT');
    assert.equal(a.reports[0]!.org, 'pharm');
  });

  test('shipped after being dispensed', () => {
    const w = atPharmacy();
    const { m, event } = w;
    assert.equal(event(m.pharm, 'dispense', GLN.pharm, [sgtin('1')]).code, 'VALID');
    expectFlag(
      w,
      event(m.pharm, 'ship', GLN.pharm, [sgtin('1')], { party: GLN.rogue }),
      sgtin('1'),
      'SHIPPED_AFTER_DISPENSE',
    );
    assert.equal(w.pkg(sgtin('1')).transit, null);
  });

  test('appearing at two places at once', () => {
    const w = atPharmacy();
    const { m, event } = w;
    // Package 1 is on the shelf at pharm; pharm2 dispenses "it".
    expectFlag(w, event(m.pharm2, 'dispense', GLN.pharm2, [sgtin('1')]), sgtin('1'), 'TWO_PLACES');
    assert.equal(w.pkg(sgtin('1')).status, 'active');
    // A regulator's inspection finds package 3 (at dist) in rogue's warehouse.
    expectFlag(w, event(m.fda, 'observe', GLN.rogue, [sgtin('3')]), sgtin('3'), 'TWO_PLACES');
    // An inspection where custody says it is finds nothing wrong.
    assert.deepEqual(event(m.fda, 'observe', GLN.pharm, [sgtin('2')]).alerts, []);
  });

  test('with an expired lot', () => {
    const w = world();
    const { m, event } = w;
    assert.equal(w.commission(['1'], 'OLD', '2023-11-01').code, 'VALID');
    assert.ok(T0 + 1000 > expiryEndMs('2023-11-01'));
    expectFlag(
      w,
      event(m.acme, 'ship', GLN.acme, [sgtin('1')], { party: GLN.dist }),
      sgtin('1'),
      'EXPIRED_LOT',
    );
    assert.equal(w.verify('1', 'OLD', '2023-11-01').reason, 'SUSPECT');
  });

  test('an unknown serial', () => {
    const w = atPharmacy();
    const a = expectFlag(
      w,
      w.event(w.m.pharm, 'dispense', GLN.pharm, [sgtin('999')]),
      sgtin('999'),
      'UNKNOWN_SERIAL',
    );
    assert.equal(a.owner, 'acme', 'the GTIN owner is told about fakes of its product');
  });

  test('quarantine holds until the owner or a regulator clears it; later reports join the alert', () => {
    const w = atPharmacy();
    const { m, event } = w;
    const r = event(m.pharm2, 'dispense', GLN.pharm2, [sgtin('1')]);
    const id = r.alerts[0]!;
    assert.equal(event(m.pharm, 'dispense', GLN.pharm, [sgtin('1')]).code, 'PACKAGE_QUARANTINED');
    assert.equal(
      event(m.pharm, 'ship', GLN.pharm, [sgtin('1')], { party: GLN.dist }).code,
      'PACKAGE_QUARANTINED',
    );
    const again = event(m.fda, 'observe', GLN.rogue, [sgtin('1')]);
    assert.deepEqual(again.alerts, [id], 'joins the open alert');
    assert.equal(w.alert(id).reports.length, 2);
    const clear = (who: TestMember, resolution: string) =>
      w.apply([tx(who, 'supply.clear', { alert: id, resolution })]).codes[0];
    assert.equal(clear(m.pharm, 'cleared'), 'UNAUTHORIZED_ROLE');
    assert.equal(clear(m.acme, 'cleared'), 'VALID');
    assert.equal(clear(m.fda, 'cleared'), 'ALERT_ALREADY_RESOLVED');
    assert.equal(w.pkg(sgtin('1')).quarantine, null);
    assert.equal(w.verify('1').verified, true);
    assert.equal(event(m.pharm, 'dispense', GLN.pharm, [sgtin('1')]).code, 'VALID');

    const r2 = event(m.pharm2, 'dispense', GLN.pharm2, [sgtin('2')]);
    assert.equal(
      w.apply([tx(m.fda, 'supply.clear', { alert: r2.alerts[0], resolution: 'confirmed-diverted' })])
        .codes[0],
      'VALID',
    );
    assert.equal(w.pkg(sgtin('2')).status, 'decommissioned');
    assert.equal(w.verify('2').reason, 'DECOMMISSIONED');
  });
});

describe('supply: recalls', () => {
  test('a recall by lot marks every package of it, wherever it is', () => {
    const w = atPharmacy();
    const { m } = w;
    const recall = (who: TestMember, lot = 'L1') =>
      w.apply([tx(who, 'supply.recall', { gtin: GTIN, lot, reason: 'quality' })]).codes[0];
    assert.equal(recall(m.dist), 'UNAUTHORIZED_ROLE');
    assert.equal(recall(m.acme, 'NOPE'), 'LOT_NOT_FOUND');
    assert.equal(recall(m.acme), 'VALID');
    assert.equal(recall(m.fda), 'LOT_ALREADY_RECALLED');
    const lot = JSON.parse(w.get(SupplyKeys.lot(GTIN, 'L1'))!) as LotRecord;
    assert.equal(lot.recall?.reason, 'quality');
    assert.equal(lot.commissioned, 4, 'every affected package is counted');
    for (const s of ['1', '2', '3', '4']) assert.equal(w.verify(s).reason, 'RECALLED', s);
    assert.equal(w.event(m.pharm, 'dispense', GLN.pharm, [sgtin('1')]).code, 'PACKAGE_RECALLED');
    // Returns still move: the pharmacy ships the recalled package back.
    assert.equal(w.event(m.pharm, 'ship', GLN.pharm, [sgtin('1')], { party: GLN.acme }).code, 'VALID');
  });

  test('a regulator may recall any lot; a manufacturer only its own', () => {
    const w = world();
    w.commission(['1']);
    const other = c.member('dist', 'maker', 'manufacturer');
    w.apply([tx(c.admin('dist'), 'member.enroll', { certificate: other.pem })]);
    assert.equal(
      w.apply([tx(other, 'supply.recall', { gtin: GTIN, lot: 'L1', reason: 'safety' })]).codes[0],
      'NOT_PREFIX_OWNER',
    );
    assert.equal(
      w.apply([tx(w.m.fda, 'supply.recall', { gtin: GTIN, lot: 'L1', reason: 'safety' })]).codes[0],
      'VALID',
    );
    void DAY;
  });
});

describe('supply: timeline', () => {
  test("a package's timeline includes what happened to the containers it was in, while it was in them", () => {
    const w = atPharmacy();
    assert.equal(w.event(w.m.pharm, 'dispense', GLN.pharm, [sgtin('1')]).code, 'VALID');
    const t = timeline(w.get, sgtin('1'))!;
    assert.deepEqual(
      t.entries.map((e) => `${e.step}:${e.org}:${e.via ?? '-'}`),
      [
        'commission:acme:-',
        `pack:acme:-`,
        `pack:acme:${sscc('1')}`,
        `ship:acme:${sscc('9')}`,
        `receive:dist:${sscc('9')}`,
        `unpack:dist:${sscc('1')}`,
        `ship:dist:${sscc('1')}`,
        `receive:pharm:${sscc('1')}`,
        'unpack:pharm:-',
        'dispense:pharm:-',
      ],
    );
    assert.ok(t.entries.every((e) => e.step === 'clear' || /^ni:\/\/\/sha-256;/.test(e.eventHash ?? '')));
    // Package 3 went on the pallet in case 2 and is still there, at dist.
    const t3 = timeline(w.get, sgtin('3'))!;
    assert.deepEqual(
      t3.entries.map((e) => e.step),
      ['commission', 'pack', 'pack', 'ship', 'receive', 'unpack'],
    );
    assert.equal(timeline(w.get, sgtin('404')), undefined);
  });

  test('alerts, clearances and recalls appear in the timeline', () => {
    const w = atPharmacy();
    const r = w.event(w.m.pharm2, 'dispense', GLN.pharm2, [sgtin('1')]);
    w.apply([tx(w.m.acme, 'supply.clear', { alert: r.alerts[0], resolution: 'cleared' })]);
    w.apply([tx(w.m.acme, 'supply.recall', { gtin: GTIN, lot: 'L1', reason: 'safety' })]);
    const steps = timeline(w.get, sgtin('1'))!.entries.map((e) => `${e.step}:${e.alerts.length}`);
    assert.deepEqual(steps.slice(-3), ['dispense:1', 'clear:1', 'recall:0']);
  });
});
