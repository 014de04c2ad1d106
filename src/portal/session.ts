/**
 * The portal's connection to its node: the genesis (fetched once, its hash shown so a person can
 * compare it out of band), an SDK client pinned to it, and small helpers the views share. Every
 * request goes to the node's own API through the SDK.
 * @module
 */
import { createContext, useContext } from 'react';
import type { Genesis } from '../protocol/genesis.js';
import { genesisHash } from '../protocol/genesis.js';
import { ValidationCodes, isValidationCode } from '../protocol/validation.js';
import { ApiErrorCodes, HealthLedgerError } from '../protocol/errors.js';
import { HealthLedgerClient, type Identity } from '../sdk/client.js';
import type { VaultContents } from './vault.js';

export interface Session {
  client: HealthLedgerClient;
  genesis: Genesis;
  genesisHash: string;
  /** The unlocked vault, or null while locked. */
  vault: VaultContents | null;
  identity: Identity | null;
  /** The signer's role and organization, from the ledger. */
  member: { role: string; org: string; attributes: Record<string, string> } | null;
}

/** Connects to the node serving this page. */
export async function connect(
  origin = window.location.origin,
): Promise<Omit<Session, 'vault' | 'identity' | 'member'>> {
  const res = await fetch(new URL('/v1/genesis', origin));
  const body = (await res.json()) as { genesis: Genesis };
  const hash = genesisHash(body.genesis);
  return {
    client: new HealthLedgerClient({ baseUrl: origin, genesis: body.genesis }),
    genesis: body.genesis,
    genesisHash: hash,
  };
}

export const SessionContext = createContext<Session | null>(null);

/** The current session (inside the app shell). */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (s === null) throw new Error('no session');
  return s;
}

/** A person-readable explanation of a validation or API error code. */
export function explain(code: string): string {
  if (isValidationCode(code)) return ValidationCodes[code];
  if (code in ApiErrorCodes) return ApiErrorCodes[code as keyof typeof ApiErrorCodes].message;
  return code;
}

/** The message of an error for display (codes explained). */
export function errorText(e: unknown): string {
  if (e instanceof HealthLedgerError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

/** The organization's display name from the genesis. */
export function orgName(genesis: Genesis, orgId: string): string {
  return genesis.orgs.find((o) => o.id === orgId)?.name ?? orgId;
}

export const fmtTime = (ms: number): string =>
  new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
