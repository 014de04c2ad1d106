/**
 * Record registry and erasure. A custodian's records service registers each FHIR resource it
 * stores as metadata plus a keyed commitment; amendments append versions with provenance
 * (author, transaction) and never overwrite. A patient requests erasure; each custodian
 * crypto-shreds (destroys data keys, blobs and the patient's commitment secret) and commits a
 * tombstone. The chain itself is untouched, so `healthledger verify` still passes.
 * @module
 */
import { canonicalize } from '../../../protocol/jcs.js';
import type { Contract } from '../../../contracts/contract.js';
import { closedObject, compilePayload, distinct, integer, matching } from '../../../contracts/payload.js';
import { Type as T } from '@sinclair/typebox';
import {
  HealthKeys,
  MemberId,
  PatientId,
  RECORD_ID_PATTERN,
  RecordCategories,
  Sensitive,
  readJson,
  readPatient,
  actsForPatient,
  type RecordEntry,
  type SensitiveCategory,
} from './model.js';

interface RegisterPayload {
  id: string;
  patient: string;
  resourceType: string;
  categories: string[];
  sensitive: SensitiveCategory[];
  emergency: boolean;
  version: number;
  commitment: string;
  author: string;
}

const REGISTER = compilePayload(
  closedObject({
    id: matching(RECORD_ID_PATTERN),
    patient: PatientId,
    resourceType: matching(/^[A-Z][A-Za-z]{1,63}$/, { description: 'FHIR resource type' }),
    categories: RecordCategories,
    sensitive: Sensitive,
    emergency: T.Boolean({ description: 'in the emergency summary (break-glass)' }),
    version: integer(1, undefined, '1 for a new record, then the next version'),
    commitment: matching(/^[0-9a-f]{64}$/, { description: 'HMAC-SHA-256 of the resource, lower-case hex' }),
    author: MemberId,
  }),
);

/** `record.register`: the custodian service registers a record version it stores. */
export const registerRecord: Contract<RegisterPayload> = {
  type: 'record.register',
  roles: ['custodian'],
  description: 'Register (or amend, as the next version) a record: metadata and a keyed commitment only.',
  payload: REGISTER.schema,
  parse(p) {
    if (!REGISTER.check(p)) return REGISTER.invalid(p);
    if (!distinct(p.categories)) return { invalid: 'categories: duplicate' };
    if (!distinct(p.sensitive)) return { invalid: 'sensitive: duplicate' };
    return {
      id: p.id,
      patient: p.patient,
      resourceType: p.resourceType,
      categories: p.categories,
      sensitive: p.sensitive,
      emergency: p.emergency,
      version: p.version,
      commitment: p.commitment,
      author: p.author,
    };
  },
  execute(ctx, r) {
    if (readPatient(ctx.get, r.patient) === undefined) return 'UNKNOWN_PATIENT';
    if (ctx.get(HealthKeys.erasure(r.patient)) !== undefined) return 'PATIENT_ERASED';
    const existing = readJson<RecordEntry>(ctx.get, HealthKeys.record(r.id));
    if (existing !== undefined && existing.custodian !== ctx.signer.org) return 'NOT_CUSTODIAN';
    if (existing !== undefined && existing.patient !== r.patient) return 'RECORD_VERSION_CONFLICT';
    if (r.version !== (existing?.version ?? 0) + 1) return 'RECORD_VERSION_CONFLICT';
    const entry: RecordEntry = {
      ...r,
      custodian: ctx.signer.org,
      registeredAtHeight: existing?.registeredAtHeight ?? ctx.height,
      updatedAtHeight: ctx.height,
      txId: ctx.txId,
    };
    ctx.put(HealthKeys.record(r.id), canonicalize(entry));
    ctx.put(
      HealthKeys.recordVersion(r.id, r.version),
      canonicalize({
        version: r.version,
        commitment: r.commitment,
        author: r.author,
        txId: ctx.txId,
        height: ctx.height,
      }),
    );
    return 'VALID';
  },
};

/** Erasure state of a patient. */
export interface ErasureEntry {
  requestedAtHeight: number;
  txId: string;
  /** Custodians that completed crypto-shredding, with their tombstone transaction. */
  completed: { org: string; txId: string; height: number; records: number }[];
}

const ERASURE = compilePayload(closedObject({ patient: PatientId }));

/** `erasure.request`: the patient (or proxy) asks every custodian to forget them. */
export const requestErasure: Contract<{ patient: string }> = {
  type: 'erasure.request',
  roles: 'any',
  description: "Request erasure of the patient's records (crypto-shredding at every custodian).",
  payload: ERASURE.schema,
  parse(p) {
    if (!ERASURE.check(p)) return ERASURE.invalid(p);
    return { patient: p.patient };
  },
  execute(ctx, { patient }) {
    if (readPatient(ctx.get, patient) === undefined) return 'UNKNOWN_PATIENT';
    if (!actsForPatient(ctx.get, ctx.signer, patient)) return 'NOT_PATIENT_OR_PROXY';
    if (ctx.get(HealthKeys.erasure(patient)) !== undefined) return 'ERASURE_ALREADY_REQUESTED';
    const e: ErasureEntry = { requestedAtHeight: ctx.height, txId: ctx.txId, completed: [] };
    ctx.put(HealthKeys.erasure(patient), canonicalize(e));
    return 'VALID';
  },
};

const TOMBSTONE = compilePayload(
  closedObject({ patient: PatientId, records: integer(0, undefined, 'records crypto-shredded') }),
);

/** `erasure.complete`: a custodian attests it destroyed the keys, blobs and secret (the tombstone). */
export const completeErasure: Contract<{ patient: string; records: number }> = {
  type: 'erasure.complete',
  roles: ['custodian'],
  description:
    'Tombstone: the custodian destroyed every data key, blob and the commitment secret of the patient.',
  payload: TOMBSTONE.schema,
  parse(p) {
    if (!TOMBSTONE.check(p)) return TOMBSTONE.invalid(p);
    return { patient: p.patient, records: p.records };
  },
  execute(ctx, { patient, records }) {
    const e = readJson<ErasureEntry>(ctx.get, HealthKeys.erasure(patient));
    if (e === undefined) return 'ERASURE_NOT_REQUESTED';
    if (e.completed.some((c) => c.org === ctx.signer.org)) return 'ERASURE_ALREADY_REQUESTED';
    const next: ErasureEntry = {
      ...e,
      completed: [...e.completed, { org: ctx.signer.org, txId: ctx.txId, height: ctx.height, records }],
    };
    ctx.put(HealthKeys.erasure(patient), canonicalize(next));
    return 'VALID';
  },
};
