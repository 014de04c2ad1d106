/**
 * A patient's trail as FHIR R4 `AuditEvent`s, shaped after IHE Basic Audit Log Patterns (BALP)
 * and the DICOM/ATNA audit vocabulary BALP builds on:
 *
 * | element | value |
 * |---|---|
 * | `id` | the ledger transaction id (64 hex) |
 * | `type` | DICOM `DCM#110110` "Patient Record" (every event is about one patient's record) |
 * | `subtype` | `urn:healthledger:event-kind#<kind>` (e.g. `access.denied`) and `urn:healthledger:tx-type#<type>` |
 * | `action` | `R` access and break-glass, `C` consent grant and record registration, `U` consent revocation, proxies, exclusions, `D` erasure |
 * | `recorded` | the block time |
 * | `outcome` | `0` success (`VALID`), `4` minor failure (denied or refused); `outcomeDesc` = the validation code |
 * | `purposeOfEvent` | HL7 v3 ActReason `TREAT` / `ETREAT` / `HRESCH` / `HPAYMT` from the request's purpose |
 * | `agent[0]` | the signer: `who.identifier` = `urn:healthledger:member` + member id, `requestor: true`, type v3 ParticipationType `IRCP` (information recipient) for reads, `AUT` (author) otherwise |
 * | `source` | `site` = chain id, `observer.identifier` = `urn:healthledger:node` + node id, type security-source-type `4` (application server) |
 * | `entity[0]` | the patient: `what.identifier` = `urn:healthledger:member` + the patient's pseudonymous member id; audit-entity-type `1` Person, object-role `1` Patient |
 * | `entity[1]` | the ledger entry: `what.identifier` = `urn:healthledger:tx` + txId; audit-entity-type `2` System Object, object-role `4` Domain Resource; `detail` = `txId`, `height`, `seq`, `type`, `code` and the event's non-health detail (consent id, record id, …) |
 * | `agent[1]` | disclosures only: the recipient (`requester`), type `IRCP`, `requestor: false` — `agent[0]` is the custodian that released |
 * | `entity[2…]` | disclosures only: each record version released, `what.identifier` = `urn:healthledger:record` + record id, `detail` `version`; audit-entity-type `2`, object-role `3` Report |
 *
 * Each entry's `txId` gives a receipt with an inclusion proof (`GET /v1/transactions/:txId`);
 * the SDK's `auditEvents` verifies every one and checks the AuditEvent matches what it proves.
 * @module
 */
import type { AuditEvent, Bundle, BundleLink, CodeableConcept, Coding } from '@medplum/fhirtypes';
import type { HealthTxType, PatientEvent } from './event-index.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const MEMBER_SYSTEM = 'urn:healthledger:member';
export const TX_SYSTEM = 'urn:healthledger:tx';
export const NODE_SYSTEM = 'urn:healthledger:node';
export const KIND_SYSTEM = 'urn:healthledger:event-kind';
export const TX_TYPE_SYSTEM = 'urn:healthledger:tx-type';
export const RECORD_SYSTEM = 'urn:healthledger:record';

const ACTIONS: Record<HealthTxType, NonNullable<AuditEvent['action']>> = {
  'access.request': 'R',
  'access.break-glass': 'R',
  'access.disclose': 'R',
  'access.end': 'U',
  'consent.grant': 'C',
  'record.register': 'C',
  'consent.revoke': 'U',
  'patient.set-proxies': 'U',
  'guardian.propose': 'U',
  'guardian.approve': 'U',
  'guardian.end': 'U',
  'patient.set-break-glass-exclusions': 'U',
  'erasure.request': 'D',
  'erasure.complete': 'D',
  // The supply feed is never a patient's trail; listed so the table stays total.
  'supply.event': 'E',
  'supply.clear': 'U',
  'supply.recall': 'U',
};

const PURPOSES: Record<string, Coding> = {
  treatment: { system: ACT_REASON, code: 'TREAT', display: 'treatment' },
  emergency: { system: ACT_REASON, code: 'ETREAT', display: 'Emergency Treatment' },
  research: { system: ACT_REASON, code: 'HRESCH', display: 'healthcare research' },
  payment: { system: ACT_REASON, code: 'HPAYMT', display: 'healthcare payment' },
};

/** Where the events come from (the AuditEvent source). */
export interface AuditSource {
  chainId: string;
  nodeId: string;
}

function purposes(e: PatientEvent): CodeableConcept[] | undefined {
  const list: string[] = [];
  const p = e.detail['purpose'];
  if (typeof p === 'string') list.push(p);
  const ps = e.detail['purposes'];
  if (Array.isArray(ps)) list.push(...ps);
  const codings = [...new Set(list)].map((x) => PURPOSES[x]).filter((c): c is Coding => c !== undefined);
  return codings.length ? codings.map((c) => ({ coding: [c] })) : undefined;
}

/** One event as a BALP-shaped FHIR R4 AuditEvent. */
export function toAuditEvent(e: PatientEvent, source: AuditSource): AuditEvent {
  const read = e.type === 'access.request' || e.type === 'access.break-glass';
  const disclosed = e.type === 'access.disclose' ? disclosedRecords(e) : [];
  const recipient = e.type === 'access.disclose' ? e.detail['requester'] : undefined;
  const purposeOfEvent = purposes(e);
  const detail = [
    { type: 'txId', valueString: e.txId },
    { type: 'height', valueString: String(e.height) },
    { type: 'seq', valueString: String(e.seq) },
    { type: 'type', valueString: e.type },
    { type: 'code', valueString: e.code },
    ...Object.entries(e.detail)
      .filter(([k]) => k !== 'purpose' && k !== 'purposes')
      .map(([k, v]) => ({ type: k, valueString: Array.isArray(v) ? v.join(',') : String(v) })),
  ];
  return {
    resourceType: 'AuditEvent',
    id: e.txId,
    type: { system: DCM, code: '110110', display: 'Patient Record' },
    subtype: [
      { system: KIND_SYSTEM, code: e.kind },
      { system: TX_TYPE_SYSTEM, code: e.type },
    ],
    action: ACTIONS[e.type],
    recorded: new Date(e.atMs).toISOString(),
    outcome: e.code === 'VALID' ? '0' : '4',
    outcomeDesc: e.code,
    ...(purposeOfEvent ? { purposeOfEvent } : {}),
    agent: [
      {
        type: {
          coding: [
            read
              ? { system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }
              : { system: PARTICIPATION, code: 'AUT', display: 'author (originator)' },
          ],
        },
        who: { identifier: { system: MEMBER_SYSTEM, value: e.actor } },
        requestor: true,
        ...(purposeOfEvent ? { purposeOfUse: purposeOfEvent } : {}),
      },
      ...(typeof recipient === 'string'
        ? [
            {
              type: { coding: [{ system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }] },
              who: { identifier: { system: MEMBER_SYSTEM, value: recipient } },
              requestor: false,
            },
          ]
        : []),
    ],
    source: {
      site: source.chainId,
      observer: {
        identifier: { system: NODE_SYSTEM, value: source.nodeId },
        display: `HealthLedger node ${source.nodeId}`,
      },
      type: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/security-source-type',
          code: '4',
          display: 'Application Server',
        },
      ],
    },
    entity: [
      {
        what: { identifier: { system: MEMBER_SYSTEM, value: e.patient } },
        type: {
          system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
          code: '1',
          display: 'Person',
        },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
      },
      {
        what: { identifier: { system: TX_SYSTEM, value: e.txId } },
        type: {
          system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
          code: '2',
          display: 'System Object',
        },
        role: {
          system: 'http://terminology.hl7.org/CodeSystem/object-role',
          code: '4',
          display: 'Domain Resource',
        },
        description: 'HealthLedger transaction (prove it with GET /v1/transactions/{txId})',
        detail,
      },
      ...disclosed.map(({ id, version }) => ({
        what: { identifier: { system: RECORD_SYSTEM, value: id } },
        type: {
          system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
          code: '2',
          display: 'System Object',
        },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '3', display: 'Report' },
        detail: [{ type: 'version', valueString: version }],
      })),
    ],
  };
}

/** The record versions a disclosure names (`id@version` in its detail). */
function disclosedRecords(e: PatientEvent): { id: string; version: string }[] {
  const r = e.detail['records'];
  if (!Array.isArray(r)) return [];
  return r.flatMap((x) => {
    const at = x.lastIndexOf('@');
    return at > 0 ? [{ id: x.slice(0, at), version: x.slice(at + 1) }] : [];
  });
}

/** A searchset Bundle of AuditEvents; `next` is the link to the following page, if any. */
export function auditEventBundle(
  events: readonly PatientEvent[],
  source: AuditSource,
  links: { self: string; next?: string },
): Bundle<AuditEvent> {
  const link: BundleLink[] = [{ relation: 'self', url: links.self }];
  if (links.next) link.push({ relation: 'next', url: links.next });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    link,
    entry: events.map((e) => ({ resource: toAuditEvent(e, source), search: { mode: 'match' } })),
  };
}
