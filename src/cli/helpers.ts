/**
 * What the CLI hands each domain's command group (src/domains/<d>/cli/commands.ts).
 * @module
 */
import type { Command } from 'commander';
import type { HealthLedgerClient } from '../sdk/client.js';

/** Shared CLI plumbing for domain commands. */
export interface CliHelpers {
  /** A client for the node of `dir` (or `--node URL`), trusting the genesis file in `dir`. */
  clientFor(dir: string, nodeUrl?: string): HealthLedgerClient;
  /** Prints `value` as one JSON line with `--json`, else `text()`. */
  print(json: boolean, value: unknown, text: () => string): void;
}

/** Adds a domain's commands to the program. */
export type RegisterCommands = (program: Command, h: CliHelpers) => void;
