/**
 * The FHIR R4 REST edge. Every read goes through the custodian's gatekeeper: the client first
 * commits an `access.request` (or break-glass) on the ledger, then presents a signed `fhir.read`
 * request naming that transaction in `Authorization: HealthLedger <base64url(JSON)>`. Errors are
 * FHIR `OperationOutcome`s carrying the documented HealthLedger code. The routes are defined in
 * `core/routes.ts` (`HealthRoutes.fhir*`); the auth hook parses the signed request or checks the token.
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
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { ApiErrorCodes, HealthLedgerError } from '../../../protocol/errors.js';
import { consentToFhir, supportedResourceTypes } from '../core/fhir/index.js';
import { HealthKeys, actsForPatient, readJson, type ConsentRecord } from '../contracts/model.js';
import type { LedgerNode } from '../../../node/ledger-node.js';
import type { RecordService } from '../node/record-service.js';
import type { EventsService } from '../../../node/events/events-service.js';
import { HealthRoutes } from '../core/routes.js';
import { addRoute, toApiError } from '../../../api/base.js';
import { bearerOf } from '../../../api/routes/events.js';

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

/** The signed request the auth hook parsed (`signedRequest` routes only). */
export function signedRequestOf(req: FastifyRequest): unknown {
  if (req.auth?.kind !== 'signedRequest')
    throw new HealthLedgerError('INTERNAL', 'route is not signedRequest-authenticated');
  return req.auth.signed;
}

/** FHIR JSON out (the error handler below answers failures as OperationOutcomes). */
async function fhirJson(reply: FastifyReply, body: unknown): Promise<unknown> {
  if (reply.sent) return reply;
  return reply.header('content-type', FHIR_JSON).send(await body);
}

/** The patient `?patient=<org>/<member>` of an AuditEvent search (its events token must be for them). */
function auditPatient(req: FastifyRequest): string {
  const patient = (req.query as { patient?: string }).patient ?? '';
  if (!/^[a-z0-9][a-z0-9._-]{0,63}\/[a-z0-9][a-z0-9._-]{0,63}$/.test(patient))
    throw new HealthLedgerError('MALFORMED_REQUEST', 'patient=<org>/<member> is required');
  return patient;
}

/**
 * The FHIR routes, in a context of their own: every refusal (from a handler or the auth hook) is an
 * OperationOutcome. The record routes exist with `records`, `/fhir/AuditEvent` with `events`.
 */
export async function fhirRoutes(
  app: FastifyInstance,
  { node, records, events }: { node: LedgerNode; records?: RecordService; events?: EventsService },
): Promise<void> {
  app.setErrorHandler((e: FastifyError | HealthLedgerError, _req, reply) => {
    // A request Fastify could not parse answers as on every route; the rest are the FHIR edge's own.
    if (
      !(e instanceof HealthLedgerError) &&
      !(e as FastifyError).validation &&
      (e as FastifyError).statusCode
    )
      throw e;
    const err = e instanceof HealthLedgerError ? e : toApiError(app, e);
    node.metrics.rejected(err.code);
    return reply
      .status(ApiErrorCodes[err.code].status)
      .header('content-type', FHIR_JSON)
      .send(outcomeOf(err));
  });

  if (events)
    addRoute(
      app,
      HealthRoutes.fhirAuditEvent,
      (req, reply) => {
        const patient = bearerOf(req).subject;
        const q = req.query;
        const after = q.after === undefined ? 0 : Number(q.after);
        const count = q._count === undefined ? undefined : Number(q._count);
        if (
          !Number.isSafeInteger(after) ||
          after < 0 ||
          (count !== undefined && (!Number.isSafeInteger(count) || count < 1))
        )
          throw new HealthLedgerError('MALFORMED_REQUEST', 'after and _count must be non-negative integers');
        return fhirJson(
          reply,
          events.auditBundle(patient, `/fhir/AuditEvent?patient=${patient}`, after, count),
        );
      },
      { bearerSubject: auditPatient },
    );

  if (!records) return;
  const types = [...supportedResourceTypes()].sort();
  // An unsupported type answers 404 before the request's signature is looked at (as it always has).
  const typeOf = (req: FastifyRequest): string => {
    const t = (req.params as { type: string }).type;
    if (!supportedResourceTypes().has(t))
      throw new HealthLedgerError('NOT_FOUND', `unsupported resource type ${t}`);
    return t;
  };
  const knownType = { preValidation: async (req: FastifyRequest) => void typeOf(req) };

  addRoute(app, HealthRoutes.fhirMetadata, (_req, reply) =>
    fhirJson(reply, {
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
    }),
  );

  addRoute(app, HealthRoutes.fhirEverything, async (req, reply) =>
    fhirJson(reply, searchset((await records.readPlain(signedRequestOf(req))).resources)),
  );

  addRoute(app, HealthRoutes.fhirConsent, (req, reply) => {
    const { signer, payload } = records.verifyReadRequest(signedRequestOf(req), 'fhir.consents');
    const patient = String(payload['patient'] ?? '');
    const q = req.query.patient;
    if (q !== undefined && q !== patient)
      throw new HealthLedgerError('MALFORMED_REQUEST', 'patient query and signed request differ');
    const get = (k: string) => node.getState(k);
    const isAuditor = signer.role === 'auditor' && signer.org === patient.split('/')[0];
    if (!actsForPatient(get, signer, patient) && !isAuditor)
      throw new HealthLedgerError('ACCESS_NOT_GRANTED');
    const ids = readJson<string[]>(get, HealthKeys.consentIndex(patient)) ?? [];
    return fhirJson(
      reply,
      searchset(
        ids.map((id) => consentToFhir(readJson<ConsentRecord>(get, HealthKeys.consent(patient, id))!)),
      ),
    );
  });

  addRoute(
    app,
    HealthRoutes.fhirCreate,
    async (req, reply) => {
      const type = req.params.type;
      const resource =
        (req.body as { body?: { payload?: { resource?: { resourceType?: unknown } } } } | undefined)?.body
          ?.payload?.resource ?? {};
      if (resource.resourceType !== type)
        throw new HealthLedgerError('MALFORMED_REQUEST', `the signed resource is not a ${type}`);
      const r = await records.write(req.body);
      void reply.status(201).header('location', `/fhir/${type}/${r.recordId}/_history/${r.version}`);
      return fhirJson(reply, { ...resource, id: r.recordId, meta: { versionId: String(r.version) } });
    },
    knownType,
  );

  addRoute(
    app,
    HealthRoutes.fhirSearch,
    async (req, reply) => {
      const type = req.params.type;
      const id = req.query._id;
      const { resources } = await records.readPlain(signedRequestOf(req));
      return fhirJson(
        reply,
        searchset(resources.filter((r) => r.resourceType === type && (id === undefined || r.id === id))),
      );
    },
    knownType,
  );

  addRoute(
    app,
    HealthRoutes.fhirRead,
    async (req, reply) => {
      const { type, id } = req.params;
      const { resources } = await records.readPlain(signedRequestOf(req));
      const found = resources.find((r) => r.resourceType === type && r.id === id);
      if (!found) throw new HealthLedgerError('NOT_FOUND', `${type}/${id} is not within the grant`);
      return fhirJson(reply, found);
    },
    knownType,
  );
}
