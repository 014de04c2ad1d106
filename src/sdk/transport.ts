/**
 * The SDK's transport: one typed `call` per route definition. Request types come from the route's
 * own TypeBox schemas (`Static<>` of params, querystring and body), so the SDK cannot send a field
 * or a path the server does not define, and no request type is written by hand.
 * @module
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { routePath, type RouteDef } from '../protocol/api.js';
import { HealthLedgerError, type ApiErrorBody, type ApiErrorCode } from '../protocol/errors.js';

/**
 * A query object whose optional keys also take `undefined` (skipped when sent), so callers can pass
 * their own optional options straight through under `exactOptionalPropertyTypes`.
 */
export type LooseQuery<Q> = { [K in keyof Q]: object extends Pick<Q, K> ? Q[K] | undefined : Q[K] };

/** The request parts a route takes, derived from its schemas: a part it does not define is refused. */
export type RouteArgs<R extends RouteDef> = (R extends { params: infer S extends TSchema }
  ? { params: Static<S> }
  : { params?: never }) &
  (R extends { querystring: infer S extends TSchema }
    ? { query?: LooseQuery<Static<S>> }
    : { query?: never }) &
  (R extends { body: infer S extends TSchema } ? { body: Static<S> } : { body?: never });

/** Where requests go and how they are sent. */
export interface Transport {
  /** Node base URL, e.g. `http://127.0.0.1:7600`. */
  readonly baseUrl: string;
  /** The fetch used for every request (a test or a proxy may substitute its own). */
  readonly fetchFn: typeof fetch;
}

/** The absolute URL of a route: path parameters filled in, defined query values appended. */
export function routeUrl<R extends RouteDef>(
  baseUrl: string,
  def: R,
  args: Pick<RouteArgs<R>, 'params' | 'query'>,
): URL {
  // Static<> of a params schema is an object of strings and numbers: exactly what routePath takes.
  const url = new URL(
    routePath(def.url, args.params as Record<string, string | number> | undefined),
    baseUrl,
  );
  for (const [k, v] of Object.entries((args.query ?? {}) as Record<string, unknown>))
    if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

/**
 * Sends one request to a route and returns the raw response (for streamed bodies). `init` adds
 * headers or a non-JSON body for routes that take one (blobs); a JSON `body` is serialised here.
 */
export async function send<R extends RouteDef>(
  t: Transport,
  def: R,
  args: RouteArgs<R>,
  init: RequestInit = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  const req: RequestInit = { ...init, method: def.method };
  if (args.body !== undefined) {
    req.body = JSON.stringify(args.body);
    headers['content-type'] = 'application/json';
  }
  if (Object.keys(headers).length > 0) req.headers = headers;
  return t.fetchFn(routeUrl(t.baseUrl, def, args), req);
}

/**
 * Sends one request to a route and returns its JSON answer, or throws the API error it carries.
 * The answer's type `T` is inferred from where it goes (the route table has no response schemas);
 * the route comes first so that a route is always inferred, never defaulted.
 */
export async function call<R extends RouteDef, T = unknown>(
  t: Transport,
  def: R,
  args: RouteArgs<R>,
  init?: RequestInit,
): Promise<T> {
  return parseResponse<T>(await send(t, def, args, init));
}

/** The JSON body of a response, or the API error it carries as a {@link HealthLedgerError}. */
export async function parseResponse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) {
    const err = (body as ApiErrorBody | undefined)?.error;
    throw new HealthLedgerError(
      (err?.code as ApiErrorCode | undefined) ?? 'INTERNAL',
      err?.message ?? `HTTP ${res.status}`,
      err?.details,
    );
  }
  return body as T;
}
