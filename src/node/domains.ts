/**
 * The node layer's domain manifest: each domain's node-side parts, by domain name. Adding a domain
 * means one line here (and in the other layers' manifests; a test checks they all agree with
 * src/domains/).
 * @module
 */
import { healthProjection } from '../domains/health/node/projection.js';
import { supplyProjection } from '../domains/supply/node/projection.js';
// Node code (events authorization among it) throws domain codes: load them all.
import '../core/domains.js';

/** Each domain's share of the event index (see events/projection.ts), in indexing order. */
export const DOMAIN_PROJECTIONS = { health: healthProjection, supply: supplyProjection } as const;
