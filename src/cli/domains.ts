/**
 * The CLI's domain manifest: each domain's command group, by domain name. Adding a domain means one
 * line here (and in the other layers' manifests; a test checks they all agree with src/domains/).
 * @module
 */
import type { RegisterCommands } from './helpers.js';
import { registerHealthCommands } from '../domains/health/cli/commands.js';
import { registerSupplyCommands } from '../domains/supply/cli/commands.js';

/** Each domain's commands, registered in this order after the shared ones. */
export const DOMAIN_COMMANDS: Readonly<Record<string, RegisterCommands>> = {
  health: registerHealthCommands,
  supply: registerSupplyCommands,
};
