/**
 * The browser-safe domain manifest: each domain's core parts, by domain name. Adding a domain means
 * one line here (and in the other layers' manifests; a test checks they all agree with
 * src/domains/). Loading this module registers every domain's error codes.
 * @module
 */
import { HealthErrorCodes as health } from '../domains/health/core/errors.js';
import { SupplyErrorCodes as supply } from '../domains/supply/core/errors.js';

/** Each domain's API error codes (registered with protocol/errors.ts's table as they load). */
export const DOMAIN_ERROR_CODES = { health, supply } as const;
