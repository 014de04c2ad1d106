/**
 * Operations routes: liveness, Prometheus metrics, the OpenAPI document, and the node-to-node
 * ledger snapshot (a peer syncing from this node).
 * @module
 */
import { Routes } from '../../protocol/api.js';
import { addRoute } from '../base.js';
import type { RoutePlugin } from './context.js';

/** Health, metrics, OpenAPI and (with a peer identity and a snapshot source) the peer snapshot. */
export const operationsRoutes: RoutePlugin = async (app, { node, options }) => {
  addRoute(app, Routes.health, (_req, reply) => {
    const halted = node.haltReason;
    return reply.status(halted ? 503 : 200).send({
      status: halted ? 'halted' : 'ok',
      ...(halted ? { reason: halted } : {}),
      nodeId: node.nodeId,
      chainId: node.chainId,
      head: node.chainHead(),
      pending: node.pendingCount,
    });
  });

  addRoute(app, Routes.metrics, (_req, reply) =>
    reply.header('content-type', 'text/plain; version=0.0.4').send(node.metrics.render()),
  );

  const snapshot = options.peer?.snapshot;
  if (snapshot)
    // The nodePeer auth hook checked the caller and signs these exact bytes.
    addRoute(app, Routes.peerSnapshot, async (_req, reply) =>
      reply.header('content-type', 'application/vnd.sqlite3').send(Buffer.from(await snapshot())),
    );

  // The swagger decorator lives on the root instance; plugins share its decorators.
  addRoute(app, Routes.openapi, () => app.swagger());
};
