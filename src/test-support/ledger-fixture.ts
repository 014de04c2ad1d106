/**
 * A pure, in-memory ledger for contract tests: organizations with CAs, members with real
 * certificates, and blocks applied with the real executor (prepare → verify → execute).
 */
import { randomBytes } from 'node:crypto';
import { toBase64Url } from '../protocol/bytes.js';
import { generateKeyPair, verify } from '../protocol/ed25519.js';
import { DEFAULT_POLICIES, validateGenesis, type Genesis } from '../protocol/genesis.js';
import { canonicalize } from '../protocol/jcs.js';
import { createTxBody, signTx, type SignedTx } from '../protocol/tx.js';
import { createCaCertificate, issueMemberCertificate, toPem, type Role } from '../protocol/x509.js';
import { executeBlock, prepareBlock, type BlockContext } from '../contracts/execute.js';
import { genesisWrites } from '../contracts/membership.js';
import { contractRegistry } from '../contracts/registry.js';
import type { LedgerReader } from '../contracts/state.js';

export const T0 = 1_700_000_000_000;
export const CHAIN = 'hl-unit';

export interface TestMember {
  memberId: string;
  key: Uint8Array;
  pem: string;
}

/** Organizations with a CA each; `member()` issues certificates. */
export function consortium(orgIds: string[]) {
  const cas = new Map(
    orgIds.map((org) => {
      const k = generateKeyPair();
      const der = createCaCertificate({
        orgId: org,
        privateKey: k.privateKey,
        serial: randomBytes(8),
        notBeforeMs: T0 - 3600_000,
        notAfterMs: T0 + 1e11,
      });
      return [org, { key: k.privateKey, der }];
    }),
  );
  const member = (
    org: string,
    id: string,
    role: Role,
    attributes: Record<string, string> = {},
  ): TestMember => {
    const ca = cas.get(org)!;
    const k = generateKeyPair();
    const der = issueMemberCertificate({
      orgId: org,
      caPrivateKey: ca.key,
      caCertificate: ca.der,
      memberId: id,
      role,
      attributes,
      publicKey: k.publicKey,
      serial: randomBytes(8),
      notBeforeMs: T0 - 60_000,
      notAfterMs: T0 + 1e10,
    });
    return { memberId: `${org}/${id}`, key: k.privateKey, pem: toPem(der) };
  };
  const admins = new Map(orgIds.map((org) => [org, member(org, 'admin', 'org-admin')]));
  const genesis: Genesis = {
    v: 1,
    chainId: CHAIN,
    createdAtMs: T0,
    orgs: orgIds.map((org) => ({
      id: org,
      name: org,
      caCertificate: toPem(cas.get(org)!.der),
      admins: [admins.get(org)!.pem],
      nodes: [{ id: `${org}-n1`, publicKey: toBase64Url(generateKeyPair().publicKey) }],
    })),
    policies: DEFAULT_POLICIES,
  };
  return { genesis, member, admin: (org: string) => admins.get(org)! };
}

/** Signs a transaction at time `nowMs` (default: one second after T0). */
export function tx(
  who: TestMember,
  type: string,
  payload: Record<string, unknown>,
  over: object = {},
  nowMs = T0 + 1000,
): SignedTx {
  return signTx(
    {
      ...createTxBody({ chainId: CHAIN, type, payload: payload as never, signer: who.memberId, nowMs }),
      ...over,
    },
    who.key,
  );
}

/** A ledger: state map + spent ids, applying blocks with the real executor. */
export function pureLedger(genesis: Genesis) {
  const state = new Map<string, string>();
  const consumed = new Set<string>();
  for (const [k, v] of genesisWrites(validateGenesis(genesis))) if (v !== null) state.set(k, v);
  const reader: LedgerReader = { getState: (k) => state.get(k), isTxConsumed: (id) => consumed.has(id) };
  let height = 0;
  return {
    state,
    get height() {
      return height;
    },
    apply(txs: (SignedTx | string)[], timestampMs = T0 + 1000) {
      const ctx: BlockContext = { chainId: CHAIN, height: ++height, timestampMs, policies: DEFAULT_POLICIES };
      const prepared = prepareBlock(
        reader,
        txs.map((t) => (typeof t === 'string' ? t : canonicalize(t))),
        ctx,
      );
      const valid = new Map(prepared.jobs.map((j) => [j.index, verify(j.signature, j.message, j.publicKey)]));
      const out = executeBlock(reader, prepared, (i) => valid.get(i) === true, contractRegistry());
      for (const [k, v] of out.writes) {
        if (v === null) state.delete(k);
        else state.set(k, v);
      }
      for (const id of out.consumedTxIds) consumed.add(id);
      return out;
    },
  };
}
