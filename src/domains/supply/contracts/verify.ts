/**
 * Product verification in the shape of the DSCSA Verification Router Service (GS1 Lightweight
 * Messaging Standard for Verification of Product Identifiers): given GTIN, serial, lot and expiry,
 * answer verified or not, with the reason. A pure read of ledger state, so every organization's
 * node gives the same answer at the same height.
 * @module
 */
import {
  SupplyKeys,
  expiryEndMs,
  readState,
  resolveCustody,
  type LotRecord,
  type PackageRecord,
} from './model.js';

/** Why a product identifier did not verify (checked in this order). */
export const VERIFICATION_REASONS = {
  UNKNOWN_SERIAL: 'No package with this GTIN and serial was commissioned.',
  LOT_MISMATCH: 'The lot does not match the lot the serial was commissioned in.',
  EXPIRY_MISMATCH: "The expiry date does not match the lot's.",
  RECALLED: "The package's lot is recalled.",
  SUSPECT: 'The package is quarantined as suspect (counterfeit or diversion) until cleared.',
  ALREADY_DISPENSED: 'The package was already dispensed to a patient.',
  DECOMMISSIONED: 'The package was decommissioned (destroyed, damaged, confirmed illegitimate…).',
  EXPIRED: 'The lot is past its expiry date.',
} as const;
export type VerificationReason = keyof typeof VERIFICATION_REASONS;

/** A verification request: the four data elements of a DSCSA product identifier. */
export interface VerificationQuery {
  gtin: string;
  serial: string;
  lot: string;
  /** `YYYY-MM-DD`. */
  expiry: string;
}

/** The answer: `verified`, or the first reason it is not; plus the facts behind it. */
export interface VerificationAnswer {
  verified: boolean;
  reason: VerificationReason | null;
  /** Present when the serial is known. */
  status?: PackageRecord['status'];
  /** The open alert id when quarantined. */
  alert?: string;
  /** The transaction that last changed the package (prove it with its receipt). */
  lastTx?: string;
}

/**
 * Verifies a product identifier against state. `nowMs` decides expiry (a query, not execution:
 * the caller's clock or the chain head's block time).
 *
 * @example
 * verifyProduct(get, { gtin: '00614141107346', serial: '2017', lot: 'L1', expiry: '2027-01-31' }, now);
 * // { verified: true, reason: null, status: 'active', lastTx: '…' }
 */
export function verifyProduct(
  get: (key: string) => string | undefined,
  q: VerificationQuery,
  nowMs: number,
): VerificationAnswer {
  const pkg = readState<PackageRecord>(get, SupplyKeys.package(q.gtin, q.serial));
  if (pkg === undefined) return { verified: false, reason: 'UNKNOWN_SERIAL' };
  const facts = { status: pkg.status, lastTx: pkg.history[pkg.history.length - 1]! };
  const no = (reason: VerificationReason, extra: object = {}): VerificationAnswer => ({
    verified: false,
    reason,
    ...facts,
    ...extra,
  });
  if (pkg.lot !== q.lot) return no('LOT_MISMATCH');
  const lot = readState<LotRecord>(get, SupplyKeys.lot(q.gtin, pkg.lot));
  if (lot === undefined || lot.expiry !== q.expiry) return no('EXPIRY_MISMATCH');
  if (lot.recall !== null) return no('RECALLED');
  const quarantine = pkg.parent === null ? pkg.quarantine : resolveCustody(get, pkg).quarantine;
  if (quarantine !== null) return no('SUSPECT', { alert: quarantine });
  if (pkg.status === 'dispensed') return no('ALREADY_DISPENSED');
  if (pkg.status === 'decommissioned') return no('DECOMMISSIONED');
  if (nowMs > expiryEndMs(lot.expiry)) return no('EXPIRED');
  return { verified: true, reason: null, ...facts };
}
