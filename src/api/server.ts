/**
 * The HTTP API (Fastify). `buildApp` builds the app without listening (tests use `inject()`);
 * the CLI calls `listen()`. It composes route plugins: the shared ones (`api/routes/`) and each
 * domain's (`domains/<domain>/api/plugin.ts`). Every route comes from a definition with request and
 * response schemas and an auth kind, enforced by one hook (`api/base.ts`). Every error leaves as
 * `{ error: { code, message } }` with a code from docs/errors.md; client input never produces a 500.
 * @module
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { ApiErrorCodes } from '../protocol/errors.js';
import type { LedgerNode } from '../node/ledger-node.js';
import {
  NODE_AUTH_HEADER,
  NODE_RESPONSE_HEADER,
  signPeerResponse,
  verifyPeerRequest,
} from '../node/auth/peer-auth.js';
import { signedRequestFromHeader } from '../node/auth/signed-request.js';
import { DOMAIN_PLUGINS } from './domains.js';
import { createApiBase, type AuthVerifiers } from './base.js';
import type { AppContext, AppOptions, RoutePlugin } from './routes/context.js';
import { ledgerRoutes } from './routes/ledger.js';
import { memberRoutes } from './routes/members.js';
import { eventRoutes } from './routes/events.js';
import { operationsRoutes } from './routes/operations.js';
import { portalRoutes } from './routes/portal.js';

export type { AppOptions } from './routes/context.js';

/** The shared route plugins. */
const SHARED_PLUGINS: readonly RoutePlugin[] = [
  ledgerRoutes,
  memberRoutes,
  eventRoutes,
  operationsRoutes,
  portalRoutes,
];

/** How this node checks each auth kind (node-to-node only with a peer identity). */
function verifiers(opts: AppOptions): AuthVerifiers {
  const { events, peer } = opts;
  return {
    signedRequest: signedRequestFromHeader,
    ...(events
      ? { bearer: (subject: string, token: string | undefined) => events.authorize(subject, token) }
      : {}),
    ...(peer
      ? {
          nodePeer: {
            verify: (header, method, path, body) =>
              verifyPeerRequest(
                header,
                peer.genesis,
                peer.ownOrg,
                method,
                path,
                body,
                Date.now(),
                peer.genesis.genesis.policies.timestampWindowMs,
              ),
            signResponse: (status, body, requestSig) =>
              signPeerResponse(peer.nodeId, peer.sign, status, body, requestSig),
            requestHeader: NODE_AUTH_HEADER,
            responseHeader: NODE_RESPONSE_HEADER,
          },
        }
      : {}),
  };
}

/** Builds the API for `node`. */
export async function buildApp(node: LedgerNode, opts: AppOptions = {}): Promise<FastifyInstance> {
  return composeApp(node, opts);
}

/**
 * `buildApp`, with an observer of every route Fastify registers (src/api/routes.test.ts checks
 * each has a definition, a response schema and an auth kind, and agrees with the OpenAPI document).
 */
export async function composeApp(
  node: LedgerNode,
  opts: AppOptions,
  observeRoutes?: (route: RouteOptions) => void,
): Promise<FastifyInstance> {
  const { app } = await createApiBase({
    ...(observeRoutes ? { observeRoutes } : {}),
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    ...(opts.bodyLimit !== undefined ? { bodyLimit: opts.bodyLimit } : {}),
    ...(opts.edge !== undefined ? { edge: opts.edge } : {}),
    onRejected: (code) => node.metrics.rejected(code),
    openapiTitle: 'HealthLedger node API',
    auth: verifiers(opts),
  });
  const ctx: AppContext = { node, options: opts };
  for (const plugin of [...SHARED_PLUGINS, ...Object.values(DOMAIN_PLUGINS)]) await app.register(plugin, ctx);
  return app;
}

/** Every API error code (for docs and tests). */
export const API_ERROR_CODES = Object.keys(ApiErrorCodes);
