/**
 * The supply domain's routes on the node's API: the read routes (verification, timelines, events,
 * alerts, EPCIS intake) and the alert feed, which shares the events service's tokens and streams
 * (subject `supply`). Definitions in `core/routes.ts` (`SupplyRoutes`).
 * @module
 */
import { addRoute } from '../../../api/base.js';
import type { RoutePlugin } from '../../../api/routes/context.js';
import { bearerOf, openEventStream } from '../../../api/routes/events.js';
import { SUPPLY_FEED } from '../../../node/events/event-index.js';
import { SupplyRoutes } from '../core/routes.js';
import { registerSupplyRoutes } from './routes.js';

/** Supply reads (with a supply service) and the alert feed (with an events service). */
export const supplyPlugin: RoutePlugin = async (app, { options }) => {
  const { events, supply } = options;
  if (events) {
    const feed = { bearerSubject: () => SUPPLY_FEED };
    addRoute(
      app,
      SupplyRoutes.supplyAlerts,
      (req) => events.page(bearerOf(req).subject, req.query.after, req.query.limit),
      feed,
    );
    addRoute(app, SupplyRoutes.supplyAlertStream, (req, reply) => openEventStream(events, req, reply), feed);
  }
  if (supply) registerSupplyRoutes(app, supply);
};
