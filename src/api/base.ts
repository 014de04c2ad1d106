/**
 * What every HealthLedger HTTP server shares: Fastify with validators that never coerce a signed
 * body, errors mapped to documented codes (never a 500 from client input), and a route helper
 * over the shared route definitions of `protocol/api.ts`.
 * @module
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import { HealthLedgerError, type ApiErrorBody } from '../protocol/errors.js';
import type { RouteDef } from '../protocol/api.js';

/** Bodies are validated without coercion or stripping: a signed envelope must arrive exactly as signed. */
const bodyAjv = new Ajv({
  allErrors: false,
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: false,
  strict: false,
});
/** Query strings and path params arrive as strings: coerce to the schema's types. */
const paramAjv = new Ajv({
  allErrors: false,
  coerceTypes: true,
  removeAdditional: false,
  useDefaults: true,
  strict: false,
});

/** The wire body of an API error. */
export function errorBody(e: HealthLedgerError): ApiErrorBody {
  return { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } };
}

/** Registers one route from its shared definition (`protocol/api.ts`). */
export type RouteFn = <Q = unknown, P = unknown, B = unknown>(
  def: RouteDef,
  handler: (req: { query: Q; params: P; body: B }, reply: FastifyReply) => unknown,
) => void;

/**
 * A Fastify instance with HealthLedger's validators (no coercion of signed bodies), error mapping to
 * documented codes (never a 500 from client input) and a route helper over the shared definitions.
 */
export async function createApiBase(opts: {
  logger?: boolean;
  bodyLimit?: number;
  /** Called with the code of every refused request (metrics). */
  onRejected?: (code: string) => void;
  /** OpenAPI title; no OpenAPI document without it. */
  openapiTitle?: string;
}): Promise<{ app: FastifyInstance; route: RouteFn }> {
  const rejected = opts.onRejected ?? (() => {});
  const app = Fastify({
    // Fastify's logger stays off: the node logs its own events, never bodies or query strings (PHI).
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? 32 * 1024 * 1024,
  });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema as object),
  );

  if (opts.openapiTitle !== undefined)
    await app.register(swagger, {
      openapi: {
        info: {
          title: opts.openapiTitle,
          version: '1',
          description: 'Errors: `{ error: { code, message } }`; codes in docs/errors.md.',
        },
      },
    });

  app.setErrorHandler((err: FastifyError | HealthLedgerError, _req, reply) => {
    let e: HealthLedgerError;
    if (err instanceof HealthLedgerError) e = err;
    else if ((err as FastifyError).validation) e = new HealthLedgerError('MALFORMED_REQUEST', err.message);
    else if ((err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      e = new HealthLedgerError('PAYLOAD_TOO_LARGE');
    else if (typeof (err as FastifyError).statusCode === 'number' && (err as FastifyError).statusCode! < 500)
      e = new HealthLedgerError('MALFORMED_REQUEST', err.message);
    else {
      app.log.error({ err: { message: err.message, stack: err.stack } }, 'internal error');
      e = new HealthLedgerError('INTERNAL');
    }
    rejected(e.code);
    void reply.status(e.status).send(errorBody(e));
  });
  app.setNotFoundHandler((_req, reply) => {
    rejected('ROUTE_NOT_FOUND');
    void reply.status(404).send(errorBody(new HealthLedgerError('ROUTE_NOT_FOUND')));
  });

  const route: RouteFn = (def, handler) => {
    const schema: Record<string, unknown> = { summary: def.summary, tags: def.tags };
    if (def.params) schema['params'] = def.params;
    if (def.querystring) schema['querystring'] = def.querystring;
    if (def.body) schema['body'] = def.body;
    app.route({
      method: def.method,
      url: def.url,
      schema,
      handler: (req, reply) => handler(req as never, reply),
    });
  };
  return { app, route };
}
