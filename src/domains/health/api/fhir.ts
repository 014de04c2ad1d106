/**
 * The FHIR R4 REST edge. Every read goes through the custodian's gatekeeper: the client first
 * commits an `access.request` (or break-glass) on the ledger, then presents a signed `fhir.read`
 * request naming that transaction in `Authorization: HealthLedger <base64url(JSON)>`. Errors are
 * FHIR `OperationOutcome`s carrying the documented HealthLedger code.
 *
 *   GET  /fhir/metadata                  CapabilityStatement
 *   POST /fhir/:type                     create (body: signed `record.write` request)
 *   GET  /fhir/:type[?_id=]              search within the grant → searchset Bundle
 *   GET  /fhir/:type/:id                 read within the grant
 *   GET  /fhir/Patient/$everything       everything the grant covers → searchset Bundle
 *   GET  /fhir/Consent?patient=org/id    the patient's ledger consents as FHIR Consent
 *                                        (signed `fhir.consents` request by the patient or a proxy)
 *   GET  /fhir/AuditEvent?patient=org/id the patient's trail as AuditEvents (Bearer events token)
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { fromBase64Url, fromUtf8 } from '../../../protocol/bytes.js';
import { ApiErrorCodes, HealthLedgerError } from '../../../protocol/errors.js';
import { consentToFhir, supportedResourceTypes } from '../core/fhir/index.js';
import { HealthKeys, actsForPatient, readJson, type ConsentRecord } from '../contracts/model.js';
import type { LedgerNode } from '../../../node/ledger-node.js';
import type { RecordService } from '../node/record-service.js';
import type { EventsService } from '../../../node/events/events-service.js';
import { bearerToken } from '../../../node/events/tokens.js';

const FHIR_JSON = 'application/fhir+json';

/** An OperationOutcome for a HealthLedger error (the code in `details.coding`). */
export function outcomeOf(e: HealthLedgerError): OperationOutcome {
  const given = e.details?.['outcome'] as OperationOutcome | undefined;
  if (given?.resourceType === 'OperationOutcome') return given;
  const fhirCode =
    e.status === 404
      ? 'not-found'
      : e.status === 401 || e.status === 403
        ? 'forbidden'
        : e.status === 409
          ? 'conflict'
          : e.status >= 500
            ? 'exception'
            : 'invalid';
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: fhirCode,
        details: { coding: [{ system: 'urn:healthledger:error', code: e.code }], text: e.message },
      },
    ],
  };
}

function searchset(resources: Resource[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    entry: resources.map((resource) => ({ resource, search: { mode: 'match' } })),
  };
}

/** The signed request carried in `Authorization: HealthLedger <base64url(JSON)>`. */
function signedRequestOf(req: FastifyRequest): unknown {
  return signedRequestFromHeader(req.headers.authorization);
}

/** Parses `Authorization: HealthLedger <base64url(JSON signed request)>`; throws a documented code. */
export function signedRequestFromHeader(h: string | undefined): unknown {
  const m = typeof h === 'string' ? /^HealthLedger ([A-Za-z0-9_-]+)$/.exec(h) : null;
  if (!m)
    throw new HealthLedgerError('UNKNOWN_SIGNER', 'missing Authorization: HealthLedger <signed request>');
  try {
    return JSON.parse(fromUtf8(fromBase64Url(m[1]!)));
  } catch {
    throw new HealthLedgerError('MALFORMED_TX', 'Authorization does not hold a signed request');
  }
}

/** Wraps a FHIR route handler: FHIR JSON out, and every error as an OperationOutcome with its code. */
function fhirHandler(app: FastifyInstance, node: LedgerNode) {
  return (fn: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> | unknown) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      try {
        const body = await fn(req, reply);
        if (reply.sent) return reply;
        return reply.header('content-type', FHIR_JSON).send(body);
      } catch (e) {
        const err = e instanceof HealthLedgerError ? e : new HealthLedgerError('INTERNAL');
        if (!(e instanceof HealthLedgerError))
          app.log.error({ err: { message: (e as Error).message } }, 'fhir internal error');
        node.metrics.rejected(err.code);
        return reply
          .status(ApiErrorCodes[err.code].status)
          .header('content-type', FHIR_JSON)
          .send(outcomeOf(err));
      }
    };
}

/**
 * `GET /fhir/AuditEvent?patient=org/id[&after=&_count=]` with `Authorization: Bearer <events token>`:
 * the patient's trail as FHIR AuditEvents (the same bundle as /v1/patients/:org/:member/audit-events).
 */
export function registerFhirAuditEvent(app: FastifyInstance, node: LedgerNode, events: EventsService): void {
  const handle = fhirHandler(app, node);
  app.get(
    '/fhir/AuditEvent',
    { schema: { hide: true } },
    handle((req) => {
      const q = req.query as { patient?: string; after?: string; _count?: string };
      const patient = q.patient ?? '';
      if (!/^[a-z0-9][a-z0-9._-]{0,63}\/[a-z0-9][a-z0-9._-]{0,63}$/.test(patient))
        throw new HealthLedgerError('MALFORMED_REQUEST', 'patient=<org>/<member> is required');
      events.authorize(patient, bearerToken(req.headers.authorization));
      const after = q.after === undefined ? 0 : Number(q.after);
      const count = q._count === undefined ? undefined : Number(q._count);
      if (
        !Number.isSafeInteger(after) ||
        after < 0 ||
        (count !== undefined && (!Number.isSafeInteger(count) || count < 1))
      )
        throw new HealthLedgerError('MALFORMED_REQUEST', 'after and _count must be non-negative integers');
      return events.auditBundle(patient, `/fhir/AuditEvent?patient=${patient}`, after, count);
    }),
  );
}

/** Registers the FHIR routes on `app`. */
export function registerFhir(app: FastifyInstance, node: LedgerNode, records: RecordService): void {
  const handle = fhirHandler(app, node);
  const types = [...supportedResourceTypes()].sort();
  const typeOf = (req: FastifyRequest): string => {
    const t = (req.params as { type: string }).type;
    if (!supportedResourceTypes().has(t))
      throw new HealthLedgerError('NOT_FOUND', `unsupported resource type ${t}`);
    return t;
  };

  app.get(
    '/fhir/metadata',
    { schema: { hide: true } },
    handle(() => ({
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: new Date(node.genesis.genesis.createdAtMs).toISOString(),
      kind: 'instance',
      software: { name: 'HealthLedger', version: '0.1.0' },
      implementation: { description: `HealthLedger node ${node.nodeId} (chain ${node.chainId})` },
      fhirVersion: '4.0.1',
      format: ['json'],
      rest: [
        {
          mode: 'server',
          security: {
            description:
              'Reads need a committed ledger access grant and a signed fhir.read request in Authorization: HealthLedger <base64url(JSON)>. Creates take a signed record.write request as the body.',
          },
          resource: types.map((type) => ({
            type,
            interaction: [{ code: 'read' }, { code: 'search-type' }, { code: 'create' }],
            ...(type === 'Patient'
              ? {
                  operation: [
                    {
                      name: 'everything',
                      definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
                    },
                  ],
                }
              : {}),
          })),
        },
      ],
    })),
  );

  app.get(
    '/fhir/Patient/$everything',
    { schema: { hide: true } },
    handle(async (req) => searchset((await records.readPlain(signedRequestOf(req))).resources)),
  );

  app.get(
    '/fhir/Consent',
    { schema: { hide: true } },
    handle((req) => {
      const { signer, payload } = records.verifyReadRequest(signedRequestOf(req), 'fhir.consents');
      const patient = String(payload['patient'] ?? '');
      const q = (req.query as { patient?: string }).patient;
      if (q !== undefined && q !== patient)
        throw new HealthLedgerError('MALFORMED_REQUEST', 'patient query and signed request differ');
      const get = (k: string) => node.getState(k);
      const isAuditor = signer.role === 'auditor' && signer.org === patient.split('/')[0];
      if (!actsForPatient(get, signer, patient) && !isAuditor)
        throw new HealthLedgerError('ACCESS_NOT_GRANTED');
      const ids = readJson<string[]>(get, HealthKeys.consentIndex(patient)) ?? [];
      return searchset(
        ids.map((id) => consentToFhir(readJson<ConsentRecord>(get, HealthKeys.consent(patient, id))!)),
      );
    }),
  );

  app.post(
    '/fhir/:type',
    { schema: { hide: true } },
    handle(async (req, reply) => {
      const type = typeOf(req);
      const resource =
        (req.body as { body?: { payload?: { resource?: { resourceType?: unknown } } } })?.body?.payload
          ?.resource ?? {};
      if (resource.resourceType !== type)
        throw new HealthLedgerError('MALFORMED_REQUEST', `the signed resource is not a ${type}`);
      const r = await records.write(req.body);
      void reply.status(201).header('location', `/fhir/${type}/${r.recordId}/_history/${r.version}`);
      return { ...resource, id: r.recordId, meta: { versionId: String(r.version) } };
    }),
  );

  app.get(
    '/fhir/:type',
    { schema: { hide: true } },
    handle(async (req) => {
      const type = typeOf(req);
      const id = (req.query as { _id?: string })._id;
      const { resources } = await records.readPlain(signedRequestOf(req));
      return searchset(resources.filter((r) => r.resourceType === type && (id === undefined || r.id === id)));
    }),
  );

  app.get(
    '/fhir/:type/:id',
    { schema: { hide: true } },
    handle(async (req) => {
      const type = typeOf(req);
      const { id } = req.params as { id: string };
      const { resources } = await records.readPlain(signedRequestOf(req));
      const found = resources.find((r) => r.resourceType === type && r.id === id);
      if (!found) throw new HealthLedgerError('NOT_FOUND', `${type}/${id} is not within the grant`);
      return found;
    }),
  );
}
