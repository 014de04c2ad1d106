/**
 * Patient event routes: events tokens, the event trail (JSON pages, FHIR AuditEvents, Server-Sent
 * Events) and webhook subscriptions. Bearer routes are authenticated by the auth hook against the
 * patient named in the path.
 * @module
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HealthLedgerError } from '../../protocol/errors.js';
import { Routes, routePath } from '../../protocol/api.js';
import type { EventsService } from '../../node/events/events-service.js';
import { bearerToken } from '../../node/events/tokens.js';
import { addRoute, type AuthContext } from '../base.js';
import type { RoutePlugin } from './context.js';

/** The patient `<org>/<member>` named by a `/v1/patients/:org/:member/...` path. */
export const patientOfPath = (req: FastifyRequest): string => {
  const p = req.params as { org: string; member: string };
  return `${p.org}/${p.member}`;
};

/** The bearer context the auth hook set (bearer routes only). */
export function bearerOf(req: FastifyRequest): Extract<AuthContext, { kind: 'bearer' }> {
  if (req.auth?.kind !== 'bearer')
    throw new HealthLedgerError('INTERNAL', 'route is not bearer-authenticated');
  return req.auth;
}

/**
 * Hands the connection to the event stream of the subject the auth hook checked, from Last-Event-ID
 * (header) or `?after=`.
 */
export function openEventStream(
  events: EventsService,
  req: FastifyRequest<{ Querystring: { after?: number } }>,
  reply: FastifyReply,
): void {
  const { subject, expiresAtMs } = bearerOf(req);
  let after = req.query.after ?? 0;
  const lastId = req.headers['last-event-id'];
  if (lastId !== undefined) {
    if (typeof lastId !== 'string' || !/^[0-9]{1,15}$/.test(lastId.trim()))
      throw new HealthLedgerError('MALFORMED_REQUEST', 'Last-Event-ID must be an event seq');
    after = Number(lastId.trim());
  }
  // The token the auth hook accepted (the stream checks its member's standing while open).
  const token =
    (req.query as { token?: string }).token ?? bearerToken(req.headers.authorization) ?? undefined;
  reply.hijack();
  events.openStream(reply.raw, subject, after, expiresAtMs, token);
}

/** Tokens, trails, streams and subscriptions (registered only with an events service). */
export const eventRoutes: RoutePlugin = async (app, { options }) => {
  const events = options.events;
  if (!events) return;
  const patient = { bearerSubject: patientOfPath };

  addRoute(app, Routes.eventsToken, (req) => events.issueToken(req.body));
  addRoute(app, Routes.createSubscription, async (req, reply) =>
    reply.status(201).send(await events.createSubscription(req.body)),
  );
  addRoute(app, Routes.listSubscriptions, (req) => events.listSubscriptions(req.body));
  addRoute(app, Routes.deleteSubscription, (req) => events.deleteSubscription(req.body));
  addRoute(
    app,
    Routes.patientEvents,
    (req) => events.page(bearerOf(req).subject, req.query.after, req.query.limit),
    patient,
  );
  addRoute(
    app,
    Routes.auditEvents,
    (req, reply) => {
      const self = routePath(Routes.auditEvents.url, { org: req.params.org, member: req.params.member });
      const bundle = events.auditBundle(bearerOf(req).subject, self, req.query.after, req.query.limit);
      return reply
        .header('content-type', 'application/fhir+json; charset=utf-8')
        .send(JSON.stringify(bundle));
    },
    patient,
  );
  addRoute(app, Routes.eventStream, (req, reply) => openEventStream(events, req, reply), patient);

  // Open event streams would keep the server from closing: end them first.
  app.addHook('preClose', (done) => {
    events.closeStreams();
    done();
  });
};
