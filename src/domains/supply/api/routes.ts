/**
 * The supply-chain read routes, registered on the node's API and on the verification servers:
 * processes that open the ledger read-only and answer verification (DSCSA VRS shape), timelines,
 * alerts and EPCIS intake on a port of their own, so reads scale across cores without touching
 * the node's single writer.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { Routes } from '../../../protocol/api.js';
import type { SupplyService } from '../node/supply-service.js';
import { addRoute, createApiBase } from '../../../api/base.js';
import { SupplyRoutes } from '../core/routes.js';

/** Registers the supply routes that read state (everything under `/v1/supply` but the alert feed). */
export function registerSupplyRoutes(app: FastifyInstance, supply: SupplyService): void {
  addRoute(app, SupplyRoutes.supplyVerify, (req) => supply.verify({ ...req.query, ...req.params }));
  addRoute(app, SupplyRoutes.supplyHistory, (req) => supply.history(req.query.id));
  addRoute(app, SupplyRoutes.supplyAlert, (req) => supply.alert(req.params.id));
  addRoute(app, SupplyRoutes.supplyEvent, (req) => supply.event(req.params.txId));
  addRoute(app, SupplyRoutes.supplyFacts, (req) => supply.facts(req.body));
}

/**
 * A read-only supply API (no writes, no events): what a verification server process serves.
 *
 * @example
 * const app = await buildSupplyReadApp(new SupplyService(readOnlyState, { clock: systemClock }));
 * await app.listen({ host: '127.0.0.1', port: 7610 });
 */
export async function buildSupplyReadApp(supply: SupplyService): Promise<FastifyInstance> {
  const { app, route } = await createApiBase({ bodyLimit: 8 * 1024 * 1024 });
  registerSupplyRoutes(app, supply);
  route(Routes.health, () => ({ status: 'ok', role: 'verification-server' }));
  return app;
}
