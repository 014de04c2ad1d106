/**
 * The browser-safe domain manifest: each domain's core parts, by domain name. Adding a domain means
 * one line here (and in the other layers' manifests; a test checks they all agree with
 * src/domains/). Loading this module registers every domain's error codes.
 * @module
 */
import { HealthErrorCodes } from '../domains/health/core/errors.js';
import { HealthRoutes } from '../domains/health/core/routes.js';
import { SupplyErrorCodes } from '../domains/supply/core/errors.js';
import { SupplyRoutes } from '../domains/supply/core/routes.js';

/** Each domain's API error codes (registered with protocol/errors.ts's table as they load). */
export const DOMAIN_ERROR_CODES = { health: HealthErrorCodes, supply: SupplyErrorCodes } as const;

/** Each domain's route definitions (its `core/routes.ts`). */
export const DOMAIN_ROUTES = { health: HealthRoutes, supply: SupplyRoutes } as const;
