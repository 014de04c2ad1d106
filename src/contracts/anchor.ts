/**
 * Anchors: a member notarizes a 32-byte keyed commitment (e.g. an HMAC of an off-chain document
 * under a per-patient secret) under a key of their own namespace, with a version counter.
 * The ledger never sees the document, and a plain hash of health data must never be anchored.
 * @module
 */
import { canonicalize } from '../protocol/jcs.js';
import type { Contract } from './contract.js';
import { Keys } from './state.js';
import { closedObject, compilePayload, integer, matching } from './payload.js';
import { Type as T } from '@sinclair/typebox';

/** Anchor record stored under `anchor/<signer>/<key>`. */
export interface AnchorRecord {
  commitment: string;
  version: number;
  txId: string;
  height: number;
  timestampMs: number;
}

interface AnchorPayload {
  key: string;
  commitment: string;
  expectedVersion: number | null;
}

const KEY_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const COMMITMENT_PATTERN = /^[0-9a-f]{64}$/;

const ANCHOR = compilePayload(
  closedObject({
    key: matching(KEY_PATTERN, { description: "key in the signer's namespace" }),
    commitment: matching(COMMITMENT_PATTERN, { description: '32-byte keyed commitment, lower-case hex' }),
    expectedVersion: T.Optional(integer(0, undefined, 'compare-and-set: the current version (0 = none)')),
  }),
);

/** `anchor.put`: record (or update, optionally compare-and-set) a keyed commitment. */
export const putAnchor: Contract<AnchorPayload> = {
  type: 'anchor.put',
  roles: 'any',
  description: 'Anchor a 32-byte keyed commitment (hex) under a key in the signer’s namespace.',
  payload: ANCHOR.schema,
  parse(p) {
    if (!ANCHOR.check(p)) return ANCHOR.invalid(p);
    return { key: p.key, commitment: p.commitment, expectedVersion: p.expectedVersion ?? null };
  },
  execute(ctx, { key, commitment, expectedVersion }) {
    const stateKey = Keys.anchor(ctx.signer.id, key);
    const raw = ctx.get(stateKey);
    const current = raw === undefined ? 0 : (JSON.parse(raw) as AnchorRecord).version;
    if (expectedVersion !== null && expectedVersion !== current) return 'ANCHOR_VERSION_CONFLICT';
    // Keys in RFC 8785 order, so canonicalize takes its fast path.
    const record: AnchorRecord = {
      commitment,
      height: ctx.height,
      timestampMs: ctx.timestampMs,
      txId: ctx.txId,
      version: current + 1,
    };
    ctx.put(stateKey, canonicalize(record));
    return 'VALID';
  },
};
