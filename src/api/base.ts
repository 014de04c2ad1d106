/**
 * What every HealthLedger HTTP server shares: Fastify with validators that never coerce a signed
 * body, errors mapped to documented codes (never a 500 from client input), one auth hook acting on
 * each route's declared auth kind, and a typed route helper over the route definitions
 * (`protocol/api.ts`, `domains/<domain>/core/routes.ts`).
 * @module
 */
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
  type RouteHandlerMethod,
  type RouteOptions,
  type preValidationHookHandler,
} from 'fastify';
import swagger from '@fastify/swagger';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { Ajv } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { HealthLedgerError, type ApiErrorBody } from '../protocol/errors.js';
import { AUTH_KINDS, type AuthKind, type RouteDef } from '../protocol/api.js';
import { bearerToken } from '../node/events/tokens.js';
import type { EdgeOptions } from '../node/edge.js';

/** Bodies are validated without coercion or stripping: a signed envelope must arrive exactly as signed. */
const bodyAjv = new Ajv({
  allErrors: false,
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: false,
  strict: false,
});
/** Where the rate limiter finds the key the current check counts under. */
const RATE_KEY = Symbol('healthledger.rateKey');

/** Query strings and path params arrive as strings: coerce to the schema's types. */
const paramAjv = new Ajv({
  allErrors: false,
  coerceTypes: true,
  removeAdditional: false,
  useDefaults: true,
  strict: false,
});

export type { EdgeOptions } from '../node/edge.js';

/** Default largest body on routes whose definition declares none. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Default largest binary on `POST /v1/blobs`. */
export const DEFAULT_BLOB_MAX_BYTES = 256 * 1024 * 1024;
const DEFAULT_RATE = { perAddress: 600, perMember: 300, windowMs: 60_000, exemptLoopback: true };
const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;

/** Whether `ip` is a loopback address (127.0.0.0/8, ::1, IPv4-mapped loopback). */
export const isLoopback = (ip: string): boolean =>
  ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');

/** The wire body of an API error. */
export function errorBody(e: HealthLedgerError): ApiErrorBody {
  return { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } };
}

/** What the auth hook established for a request (by the route's auth kind). */
export type AuthContext =
  | { kind: 'signedRequest'; signed: unknown }
  | { kind: 'bearer'; subject: string; expiresAtMs: number }
  | { kind: 'nodePeer'; callerSig: string };

/**
 * How each auth kind is checked on this server. A route whose kind needs a verifier the server
 * lacks is refused at registration, so a route can never run unauthenticated by omission.
 */
export interface AuthVerifiers {
  /** Parses `Authorization: HealthLedger <signed request>` (the handler's service verifies it). */
  signedRequest?: (authorization: string | undefined) => unknown;
  /** Checks an events token for `subject`. */
  bearer?: (subject: string, token: string | undefined) => { expiresAtMs: number };
  /** Checks a node-to-node request signature; returns the caller's signature (the answer binds it). */
  nodePeer?: {
    verify: (header: string | undefined, method: string, path: string, body: string) => { sig: string };
    /** Signs the answer (status, exact body bytes, the request's signature). */
    signResponse: (status: number, body: string | Uint8Array, requestSig: string) => string;
    /** The header the caller's signature arrives in and the header the answer's signature leaves in. */
    requestHeader: string;
    responseHeader: string;
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's definition (its auth kind drives the auth hook). */
    route?: RouteDef;
    /** For `bearer` routes: whose events the token must be for (may throw a documented code). */
    bearerSubject?: (req: FastifyRequest) => string;
  }
  interface FastifyRequest {
    /** Set by the auth hook for `signedRequest`, `bearer` and `nodePeer` routes. */
    auth: AuthContext | null;
  }
}

/** The Fastify route generic of a definition: params, query and body typed from its schemas. */
export interface RouteGenericOf<D extends RouteDef> {
  Params: D extends { params: infer S extends TSchema } ? Static<S> : unknown;
  Querystring: D extends { querystring: infer S extends TSchema } ? Static<S> : unknown;
  Body: D extends { body: infer S extends TSchema } ? Static<S> : unknown;
}
/** A route handler, typed from the definition; it returns the body or answers through `reply`. */
export type RouteHandler<D extends RouteDef> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RouteGenericOf<D>
>;
/** The request a route's handler sees. */
export type RouteRequest<D extends RouteDef> = Parameters<RouteHandler<D>>[0];
/** What a route may add to its definition at registration (server-side concerns only). */
export interface RouteExtras {
  bodyLimit?: number;
  /** Checks that must answer before auth (kept in the order the API has always answered). */
  preValidation?: preValidationHookHandler;
  /** For `bearer` routes: the subject the token must be for. */
  bearerSubject?: (req: FastifyRequest) => string;
}

/**
 * Registers one route on `app` (a plugin's instance) from its definition: schemas (request and
 * response), OpenAPI metadata with the auth kind (`x-auth`, `security`), and the config the auth hook reads.
 */
export function addRoute<D extends RouteDef>(
  app: FastifyInstance,
  def: D,
  handler: RouteHandler<D>,
  extras: RouteExtras = {},
): void {
  const schema: Record<string, unknown> = {
    summary: def.summary,
    tags: def.tags,
    response: def.response,
    'x-auth': def.auth,
    security: SECURITY[def.auth],
  };
  if (def.params) schema['params'] = def.params;
  if (def.querystring) schema['querystring'] = def.querystring;
  if (def.body) schema['body'] = def.body;
  if (def.hide) schema['hide'] = true;
  app.route<RouteGenericOf<D>>({
    method: def.method,
    url: def.url,
    schema,
    config: { route: def, ...(extras.bearerSubject ? { bearerSubject: extras.bearerSubject } : {}) },
    ...((extras.bodyLimit ?? def.bodyLimit) !== undefined
      ? { bodyLimit: (extras.bodyLimit ?? def.bodyLimit)! }
      : {}),
    ...(extras.preValidation ? { preValidation: extras.preValidation } : {}),
    handler,
  });
}

/** OpenAPI security requirement per auth kind (schemes in {@link SECURITY_SCHEMES}). */
const SECURITY: Record<AuthKind, Record<string, string[]>[]> = {
  public: [],
  signedTx: [],
  signedRequest: [{ signedRequest: [] }],
  bearer: [{ eventsToken: [] }],
  nodePeer: [{ nodePeer: [] }],
};
const SECURITY_SCHEMES = {
  signedRequest: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      'HealthLedger <base64url(JSON signed request)>, signed like a transaction by an enrolled member.',
  },
  eventsToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'An events token from POST /v1/events/token (15 minutes).',
  },
  nodePeer: {
    type: 'apiKey',
    in: 'header',
    name: 'X-HealthLedger-Node',
    description: '<nodeId>;<timestampMs>;<sig>: a genesis node of another organization.',
  },
} as const;

/** Maps any error to a documented one (never a 500 from client input); logs real faults. */
export function toApiError(app: FastifyInstance, err: FastifyError | HealthLedgerError): HealthLedgerError {
  if (err instanceof HealthLedgerError) return err;
  if ((err as FastifyError).validation) return new HealthLedgerError('MALFORMED_REQUEST', err.message);
  if ((err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new HealthLedgerError('PAYLOAD_TOO_LARGE');
  if (typeof (err as FastifyError).statusCode === 'number' && (err as FastifyError).statusCode! < 500)
    return new HealthLedgerError('MALFORMED_REQUEST', err.message);
  app.log.error({ err: { message: err.message, stack: err.stack } }, 'internal error');
  return new HealthLedgerError('INTERNAL');
}

/** Whether the route's query schema declares `token` (event streams: EventSource cannot send headers). */
const takesQueryToken = (def: RouteDef): boolean =>
  Boolean((def.querystring as { properties?: Record<string, unknown> } | undefined)?.properties?.['token']);

/**
 * A Fastify instance with HealthLedger's validators (no coercion of signed bodies), error mapping to
 * documented codes (never a 500 from client input), the auth hook, and a route helper.
 */
export async function createApiBase(opts: {
  logger?: boolean;
  /** Largest body on routes whose definition declares none (default {@link DEFAULT_BODY_LIMIT}). */
  bodyLimit?: number;
  /** Rate limits and timeouts (docs/threat-model.md, Edge). */
  edge?: EdgeOptions;
  /** Called with the code of every refused request (metrics). */
  onRejected?: (code: string) => void;
  /** OpenAPI title; no OpenAPI document without it. */
  openapiTitle?: string;
  /** How this server checks each auth kind its routes declare. */
  auth?: AuthVerifiers;
  /** Sees every route Fastify registers, before any is added (tests check the route table). */
  observeRoutes?: (route: RouteOptions) => void;
}): Promise<{
  app: FastifyInstance;
  route: <D extends RouteDef>(def: D, handler: RouteHandler<D>, extras?: RouteExtras) => void;
}> {
  const rejected = opts.onRejected ?? (() => {});
  const verifiers = opts.auth ?? {};
  const edge = opts.edge ?? {};
  const requestTimeout = edge.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Node requires headersTimeout <= requestTimeout; both are checked every connectionsCheckingInterval.
  const headersTimeout = Math.min(edge.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout);
  const app = Fastify({
    // Fastify's logger stays off: the node logs its own events, never bodies or query strings (PHI).
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Slow requests are dropped: whole request within requestTimeout, headers within headersTimeout.
    requestTimeout,
    connectionTimeout: edge.connectionTimeoutMs ?? 0,
    http: {
      requestTimeout,
      headersTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(headersTimeout / 4))),
    },
  });
  // An explicit server-wide bodyLimit also caps the routes' declared limits.
  if (opts.bodyLimit !== undefined) {
    const cap = opts.bodyLimit;
    app.addHook('onRoute', (r) => {
      if (r.bodyLimit !== undefined && r.bodyLimit > cap) r.bodyLimit = cap;
    });
  }
  if (opts.observeRoutes) app.addHook('onRoute', opts.observeRoutes);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema as object),
  );
  // Response schemas document the wire; they never reshape it. fast-json-stringify would drop any
  // field a schema does not list (most bodies here are open), so answers stay plain JSON.stringify.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  if (opts.openapiTitle !== undefined)
    await app.register(swagger, {
      openapi: {
        info: {
          title: opts.openapiTitle,
          version: '1',
          description:
            'Errors: `{ error: { code, message } }`; codes in docs/errors.md. Each operation names its authentication in `x-auth`: public, signedTx (the body is a signed transaction), signedRequest, bearer (events token) or nodePeer.',
        },
        components: { securitySchemes: SECURITY_SCHEMES },
      },
    });

  // Every route must declare a known auth kind, and this server must be able to check it.
  app.addHook('onRoute', (r) => {
    const kind = r.config?.route?.auth;
    if (kind === undefined) return; // checked by src/api/routes.test.ts (every route has a definition)
    if (!AUTH_KINDS.includes(kind)) throw new Error(`route ${r.method} ${r.url}: unknown auth kind ${kind}`);
    const needs = kind === 'signedRequest' || kind === 'bearer' || kind === 'nodePeer' ? kind : undefined;
    if (needs && !verifiers[needs])
      throw new Error(`route ${r.method} ${r.url} declares ${kind} auth but this server cannot check it`);
    if (kind === 'bearer' && !r.config?.bearerSubject)
      throw new Error(`route ${r.method} ${r.url} declares bearer auth without a subject`);
  });

  // Security headers on every answer. The API answers JSON only, so its CSP forbids everything;
  // the portal (routes/portal.ts, ADR 0008) sets its own CSP, which replaces this one.
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
    },
    crossOriginEmbedderPolicy: false,
  });
  // Health data must never sit in a cache: every answer is no-store unless its route chose (the
  // portal's static assets).
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    return payload;
  });

  // Rate limits: per client address before anything is read, per authenticated member after auth.
  const rate = edge.rateLimit === false ? null : { ...DEFAULT_RATE, ...edge.rateLimit };
  const limiter = rate
    ? await (async () => {
        await app.register(rateLimit, { global: false, timeWindow: rate.windowMs });
        const exempt = (req: FastifyRequest): boolean => rate.exemptLoopback && isLoopback(req.ip);
        const check =
          (max: number, keyOf: (req: FastifyRequest) => string | null) =>
          async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
            if (exempt(req)) return;
            const key = keyOf(req);
            if (key === null) return;
            const r = (await limit(max, key)(req)) as {
              isAllowed?: boolean;
              isExceeded?: boolean;
              ttlInSeconds?: number;
            };
            if (r.isAllowed || !r.isExceeded) return;
            const after = Math.max(1, r.ttlInSeconds ?? 1);
            void reply.header('retry-after', String(after));
            throw new HealthLedgerError('RATE_LIMITED', `too many requests; retry after ${after} s`);
          };
        const limiters = new Map<number, (req: FastifyRequest) => Promise<unknown>>();
        const limit = (max: number, key: string) => {
          let l = limiters.get(max);
          if (!l) {
            l = app.createRateLimit({
              max,
              timeWindow: rate.windowMs,
              keyGenerator: (req) => (req as FastifyRequest & { [RATE_KEY]?: string })[RATE_KEY] ?? req.ip,
            }) as (req: FastifyRequest) => Promise<unknown>;
            limiters.set(max, l);
          }
          return async (req: FastifyRequest) => {
            (req as FastifyRequest & { [RATE_KEY]?: string })[RATE_KEY] = key;
            return l(req);
          };
        };
        return { check, rate };
      })()
    : null;
  if (limiter)
    app.addHook(
      'onRequest',
      limiter.check(limiter.rate.perAddress, (req) => `addr:${req.ip}`),
    );

  app.decorateRequest('auth', null);
  // The one place requests are authenticated, by the route's declared kind. A preHandler, so the
  // request has been parsed and validated first (a malformed request answers 400 before 401, as always).
  app.addHook('preHandler', async (req) => {
    const def = req.routeOptions.config.route;
    switch (def?.auth) {
      case 'signedRequest':
        req.auth = { kind: 'signedRequest', signed: verifiers.signedRequest!(req.headers.authorization) };
        return;
      case 'bearer': {
        const subject = req.routeOptions.config.bearerSubject!(req);
        const query = req.query as { token?: string } | undefined;
        const token =
          (takesQueryToken(def) ? query?.token : undefined) ?? bearerToken(req.headers.authorization);
        req.auth = { kind: 'bearer', subject, expiresAtMs: verifiers.bearer!(subject, token).expiresAtMs };
        return;
      }
      case 'nodePeer': {
        const peer = verifiers.nodePeer!;
        const header = req.headers[peer.requestHeader];
        const body = req.body === undefined ? '' : JSON.stringify(req.body);
        const caller = peer.verify(
          typeof header === 'string' ? header : undefined,
          def.method,
          def.url,
          body,
        );
        req.auth = { kind: 'nodePeer', callerSig: caller.sig };
        return;
      }
      default:
        // public and signedTx: nothing to check here (a signed transaction is checked by the node).
        return;
    }
  });
  // After the auth hook: the member it established (a verified events token's subject, a verified
  // peer node). A signed request or transaction is only verified later, by the node: keying by its
  // claimed signer would let a forger spend that member's allowance, so those count by address only.
  if (limiter)
    app.addHook(
      'preHandler',
      limiter.check(limiter.rate.perMember, (req) => {
        const a = req.auth;
        if (a?.kind === 'bearer') return `member:${a.subject}`;
        if (a?.kind === 'nodePeer' && verifiers.nodePeer) {
          const h = req.headers[verifiers.nodePeer.requestHeader];
          return `peer:${String(h).split(';')[0]}`;
        }
        return null;
      }),
    );
  // A node-to-node answer is signed over its exact bytes, errors included (once the caller checked out).
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.auth?.kind !== 'nodePeer' || !verifiers.nodePeer) return payload;
    if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) return payload;
    const { signResponse, responseHeader } = verifiers.nodePeer;
    void reply.header(responseHeader, signResponse(reply.statusCode, payload, req.auth.callerSig));
    return payload;
  });

  app.setErrorHandler((err: FastifyError | HealthLedgerError, _req, reply) => {
    const e = toApiError(app, err);
    rejected(e.code);
    // A body refused for its size may still be arriving: answer and close rather than read it.
    if (e.code === 'PAYLOAD_TOO_LARGE') void reply.header('connection', 'close');
    void reply.status(e.status).send(errorBody(e));
  });
  app.setNotFoundHandler((_req, reply) => {
    rejected('ROUTE_NOT_FOUND');
    void reply.status(404).send(errorBody(new HealthLedgerError('ROUTE_NOT_FOUND')));
  });

  return { app, route: (def, handler, extras) => addRoute(app, def, handler, extras) };
}
