/**
 * The health domain's share of the event index: every health transaction naming a patient —
 * whatever its validation code, so denials and refusals too — is an event in that patient's trail.
 * @module
 */
import { MEMBER_ID_PATTERN } from '../../../protocol/tx.js';
import {
  HealthKeys,
  readJson,
  type AccessGrant,
  type GuardianAppointment,
  type GuardianProposal,
} from '../contracts/model.js';
import { num, str, type EventDetail, type EventProjection } from '../../../node/events/projection.js';

/** Health event kinds, by transaction type: [when VALID, otherwise]. */
const HEALTH_EVENT_KINDS = {
  'access.request': ['access.granted', 'access.denied'],
  'access.break-glass': ['break-glass', 'break-glass.denied'],
  'access.end': ['access.ended', 'access.end.refused'],
  'access.disclose': ['disclosure', 'disclosure.refused'],
  'consent.grant': ['consent.granted', 'consent.grant.refused'],
  'consent.revoke': ['consent.revoked', 'consent.revoke.refused'],
  'record.register': ['record.registered', 'record.register.refused'],
  'erasure.request': ['erasure.requested', 'erasure.request.refused'],
  'erasure.complete': ['erasure.completed', 'erasure.complete.refused'],
  'patient.set-proxies': ['proxies.set', 'proxies.set.refused'],
  'guardian.propose': ['guardian.proposed', 'guardian.propose.refused'],
  'guardian.approve': ['guardian.appointed', 'guardian.approve.refused'],
  'guardian.end': ['guardian.ended', 'guardian.end.refused'],
  'patient.set-break-glass-exclusions': ['break-glass-exclusions.set', 'break-glass-exclusions.set.refused'],
} as const;

/** Events of the patient a health transaction names. */
export const healthProjection: EventProjection<typeof HEALTH_EVENT_KINDS> = {
  kinds: HEALTH_EVENT_KINDS,
  project(tx, getState) {
    const patient = tx.payload?.['patient'];
    if (typeof patient !== 'string' || !MEMBER_ID_PATTERN.test(patient)) return undefined;
    return { subject: patient, detail: detailOf(tx.type, tx.code, tx.txId, tx.payload!, tx.atMs, getState) };
  },
};

/** Detail of one event: never free text, categories or resource types (health data). */
function detailOf(
  type: string,
  code: string,
  txId: string,
  payload: Record<string, unknown>,
  atMs: number,
  getState: (k: string) => string | undefined,
): EventDetail {
  const d: EventDetail = {};
  const put = (k: string, v: string | number | boolean | string[] | undefined): void => {
    if (v !== undefined) d[k] = v;
  };
  switch (type) {
    case 'access.request': {
      put('purpose', str(payload['purpose'], 32));
      if (code === 'VALID') {
        const g = readJson<AccessGrant>(getState, HealthKeys.access(txId));
        if (g) {
          put('grant', g.kind);
          if (g.consentId !== null) put('consentId', g.consentId);
          put('expiresAtMs', g.expiresAtMs);
          // Who acted for whom: the proxy, and under whose appointment.
          if (g.proxy !== undefined) {
            put('actor', g.proxy.actor);
            put('onBehalfOf', g.proxy.onBehalfOf);
            put('appointedBy', g.proxy.appointedBy);
          }
        }
      }
      break;
    }
    case 'access.break-glass': {
      put('purpose', 'emergency');
      const ms = num(payload['durationMs']);
      put('durationMs', ms);
      if (code === 'VALID' && ms !== undefined) put('expiresAtMs', atMs + ms);
      break;
    }
    case 'access.end':
      put('accessTxId', str(payload['accessTxId'], 64));
      break;
    case 'access.disclose': {
      // Ids only: which grant, to whom, through which channel, which record versions (`id@version`).
      put('accessTxId', str(payload['accessTxId'], 64));
      put('requester', str(payload['requester'], 129));
      put('channel', str(payload['channel'], 16));
      put('blobId', str(payload['blobId'], 128));
      const r = payload['records'];
      if (Array.isArray(r))
        put(
          'records',
          r.flatMap((x: unknown) => {
            const e = x as { id?: unknown; version?: unknown } | null;
            const id = str(e?.id, 64);
            const v = num(e?.version);
            return id !== undefined && v !== undefined ? [`${id}@${v}`] : [];
          }),
        );
      break;
    }
    case 'consent.grant': {
      put('consentId', str(payload['id'], 64));
      const p = payload['purposes'];
      if (Array.isArray(p) && p.length <= 4 && p.every((x) => typeof x === 'string' && x.length <= 32))
        put('purposes', p as string[]);
      break;
    }
    case 'consent.revoke':
      put('consentId', str(payload['id'], 64));
      break;
    case 'record.register':
      put('recordId', str(payload['id'], 64));
      put('version', num(payload['version']));
      break;
    case 'erasure.complete':
      put('records', num(payload['records']));
      break;
    case 'patient.set-proxies': {
      const p = payload['proxies'];
      if (Array.isArray(p) && p.length <= 8 && p.every((x) => typeof x === 'string' && x.length <= 129))
        put('proxies', p as string[]);
      break;
    }
    // The patient is told of every institutional appointment: who, proposed and approved by whom, until when.
    case 'guardian.propose': {
      put('proposalId', str(payload['id'], 64));
      put('guardian', str(payload['guardian'], 129));
      if (code === 'VALID') {
        const p = readJson<GuardianProposal>(
          getState,
          HealthKeys.guardianProposal(String(payload['patient']), String(payload['id'])),
        );
        if (p) put('proposer', p.proposer);
      }
      break;
    }
    case 'guardian.approve': {
      put('proposalId', str(payload['id'], 64));
      if (code === 'VALID') {
        const p = readJson<GuardianProposal>(
          getState,
          HealthKeys.guardianProposal(String(payload['patient']), String(payload['id'])),
        );
        const g = p && readJson<GuardianAppointment>(getState, HealthKeys.guardian(p.patient, p.guardian));
        if (g && g.txId === txId) {
          put('guardian', g.guardian);
          put('proposer', g.proposer);
          put('approver', g.approver);
          put('expiresAtMs', g.expiresAtMs);
        }
      }
      break;
    }
    case 'guardian.end':
      put('guardian', str(payload['guardian'], 129));
      break;
    default:
      break;
  }
  return d;
}
