/**
 * The contract interface. Contracts are pure functions of (state, block context, signer,
 * payload): they never read the clock, randomness, disk or network (enforced by lint), so every
 * node computes the same result.
 * @module
 */
import type { TSchema } from '@sinclair/typebox';
import type { JsonObject } from '../protocol/tx.js';
import type { ValidationCode } from '../protocol/validation.js';
import type { Role } from '../protocol/x509.js';

/** An enrolled member as recorded in state under `member/<org>/<id>`. */
export interface MemberRecord {
  id: string;
  org: string;
  role: Role;
  attributes: Record<string, string>;
  /** Ed25519 public key, base64url. */
  publicKey: string;
  certFingerprint: string;
  /** DER certificate, base64url. */
  certificate: string;
  notBeforeMs: number;
  notAfterMs: number;
  /** Height of the enrolling block (0 = genesis). */
  enrolledAtHeight: number;
  revokedAtHeight: number | null;
  revocationReason: string | null;
}

/** What a contract sees while executing one transaction. */
export interface ContractContext {
  readonly chainId: string;
  readonly height: number;
  /** The block's time: the only clock a contract has. */
  readonly timestampMs: number;
  readonly txId: string;
  readonly signer: MemberRecord;
  /** Reads state including earlier writes of this block and this transaction. */
  get(key: string): string | undefined;
  put(key: string, value: string): void;
  del(key: string): void;
}

/** A payload that failed the contract's schema, with the reason. */
export interface InvalidPayload {
  invalid: string;
}

/** A built-in contract entry point. */
export interface Contract<P = unknown> {
  /** Transaction type handled, e.g. `member.enroll`. */
  readonly type: string;
  /** Roles allowed to submit it, or 'any' enrolled member. */
  readonly roles: readonly Role[] | 'any';
  /** One sentence for docs and the OpenAPI description. */
  readonly description: string;
  /**
   * The payload's structure as a JSON Schema (TypeBox), declared once beside the contract: `parse`
   * checks it, the OpenAPI description and docs publish it (ADR 0013).
   */
  readonly payload: TSchema;
  /** The payload schema's check plus the semantic rules no schema states; no state access. */
  parse(payload: JsonObject): P | InvalidPayload;
  /** Applies the transaction: returns VALID or a contract code (writes are then discarded). */
  execute(ctx: ContractContext, payload: P): ValidationCode;
}

/** True if `r` is an {@link InvalidPayload}. */
export function isInvalid<P>(r: P | InvalidPayload): r is InvalidPayload {
  return typeof r === 'object' && r !== null && 'invalid' in r;
}

/** Reads and parses a member record. */
export function readMember(
  get: (key: string) => string | undefined,
  memberId: string,
): MemberRecord | undefined {
  const raw = get(`member/${memberId}`);
  return raw === undefined ? undefined : (JSON.parse(raw) as MemberRecord);
}
