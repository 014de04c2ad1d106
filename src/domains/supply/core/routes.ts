/**
 * The supply domain's HTTP routes, defined once (method, path, request and response schemas, auth):
 * verification, timelines, events, alerts and EPCIS intake. The server registers them
 * (`domains/supply/api/plugin.ts`); the SDK builds its requests from them.
 * @module
 */
import { Type as T } from '@sinclair/typebox';
import {
  DOCUMENT_BODY_LIMIT,
  ErrorResponses,
  EventsPageQuery,
  EventsPageSchema as EventsPage,
  Open,
  type RouteDef,
} from '../../../protocol/api.js';

/** The supply domain's routes (the same key names the SDK has always used). */
export const SupplyRoutes = {
  supplyVerify: {
    method: 'GET',
    url: '/v1/supply/verify/01/:gtin/10/:lot/21/:serial',
    summary:
      'Verify a product identifier (DSCSA Verification Router Service shape; GS1 Digital Link path): { data: { verified, additionalInfo } } with the reason — UNKNOWN_SERIAL, LOT_MISMATCH, EXPIRY_MISMATCH, RECALLED, SUSPECT, ALREADY_DISPENSED, DECOMMISSIONED, EXPIRED. Expiry as ?exp=YYMMDD (GS1 AI 17) or ?expiry=YYYY-MM-DD.',
    tags: ['supply'],
    auth: 'public',
    response: { 200: Open('{ data: { verified, additionalInfo? } } (DSCSA VRS shape).'), ...ErrorResponses },
    params: T.Object({
      gtin: T.String({ pattern: '^[0-9]{8,14}$' }),
      lot: T.String({ minLength: 1, maxLength: 60 }),
      serial: T.String({ minLength: 1, maxLength: 60 }),
    }),
    querystring: T.Object({
      exp: T.Optional(T.String({ pattern: '^[0-9]{6}$' })),
      expiry: T.Optional(T.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' })),
      corrUUID: T.Optional(T.String({ maxLength: 64, pattern: '^[A-Za-z0-9-]+$' })),
      reqGLN: T.Optional(T.String({ pattern: '^[0-9]{13}$' })),
      linkType: T.Optional(T.String({ maxLength: 64 })),
      context: T.Optional(T.String({ maxLength: 64 })),
    }),
  },
  supplyHistory: {
    method: 'GET',
    url: '/v1/supply/history',
    summary:
      "A package's or container's history as a timeline (directly and through the containers it was in), with its current custody, lot and open alert. Each entry names its transaction: prove it with GET /v1/transactions/:txId. ?id= an EPC URI, a GS1 Digital Link, or sgtin:/sscc: canonical key.",
    tags: ['supply'],
    auth: 'public',
    response: { 200: Open('A timeline: entries, custody, lot, open alert.'), ...ErrorResponses },
    querystring: T.Object({ id: T.String({ minLength: 1, maxLength: 512 }) }),
  },
  supplyEvent: {
    method: 'GET',
    url: '/v1/supply/events/:txId',
    summary:
      'What a committed supply transaction recorded: event hash, step, organization, identifiers, and the alerts it raised (404 if it was refused or is not a supply event).',
    tags: ['supply'],
    auth: 'public',
    response: { 200: Open('What the supply transaction recorded.'), ...ErrorResponses },
    params: T.Object({ txId: T.String({ pattern: '^[0-9a-f]{64}$' }) }),
  },
  supplyAlert: {
    method: 'GET',
    url: '/v1/supply/alerts/:id',
    summary: 'One supply alert: package, reasons, every report, owner, status and resolution.',
    tags: ['supply'],
    auth: 'public',
    response: { 200: Open('A supply alert.'), ...ErrorResponses },
    params: T.Object({ id: T.String({ pattern: '^[0-9a-f]{32}\\.[0-9]{1,4}$' }) }),
  },
  supplyAlerts: {
    method: 'GET',
    url: '/v1/supply/alerts',
    summary:
      'The supply alert feed (suspect packages, clearances, recalls), oldest first after a cursor. Authorization: Bearer <events token for { feed: "supply" }> (manufacturers, distributors, dispensers, regulators).',
    tags: ['supply', 'events'],
    auth: 'bearer',
    response: { 200: EventsPage, ...ErrorResponses },
    querystring: EventsPageQuery,
  },
  supplyAlertStream: {
    method: 'GET',
    url: '/v1/supply/alerts/stream',
    summary:
      'Server-Sent Events: the supply alert feed after Last-Event-ID or ?after=, then live. Token in ?token= or Authorization: Bearer.',
    tags: ['supply', 'events'],
    auth: 'bearer',
    response: { 200: T.String({ description: 'text/event-stream' }), ...ErrorResponses },
    querystring: T.Object({
      token: T.Optional(T.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z0-9._-]+$' })),
      after: T.Optional(T.Integer({ minimum: 0 })),
    }),
  },
  supplyFacts: {
    method: 'POST',
    bodyLimit: DOCUMENT_BODY_LIMIT,
    url: '/v1/supply/epcis/facts',
    summary:
      'Validate an EPCIS 2.0 document or event against the EPCIS JSON Schema and return, per event, its CBV event hash and the supply.event payload to sign (detailed event data is not stored).',
    tags: ['supply'],
    auth: 'public',
    response: {
      200: T.Object({ results: T.Array(Open('Per event: its CBV event hash and supply.event payload.')) }),
      ...ErrorResponses,
    },
    body: T.Object({}, { additionalProperties: true }),
  },
} as const satisfies Record<string, RouteDef>;
