/**
 * The API layer's domain manifest: each domain's route plugin, by domain name. Adding a domain means
 * one line here (and in the other layers' manifests; a test checks they all agree with src/domains/).
 * @module
 */
import { healthPlugin } from '../domains/health/api/plugin.js';
import { supplyPlugin } from '../domains/supply/api/plugin.js';
import type { RoutePlugin } from './routes/context.js';

/** Each domain's route plugin, registered in this order after the shared ones. */
export const DOMAIN_PLUGINS: Readonly<Record<string, RoutePlugin>> = {
  health: healthPlugin,
  supply: supplyPlugin,
};
