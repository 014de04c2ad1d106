/**
 * The etcd key layout of a chain, in one place (as `contracts/state.ts` holds the state layout):
 * batches, attestations and applied heights live under `/healthledger/<chain>/<genesis hash prefix>/`,
 * so two chains never share keys even with one chain id. Heights are zero-padded so keys sort in order.
 * @module
 */
import type { ValidatedGenesis } from '../../protocol/genesis.js';

const DIGITS = 16;
const pad = (n: number): string => String(n).padStart(DIGITS, '0');

/** The keys of one chain in etcd. */
export function etcdLayout(chainId: string, genesisHash: string) {
  const root = `/healthledger/${chainId}/${genesisHash.slice(0, 16)}/`;
  const batchPrefix = `${root}batch/`;
  const attestPrefix = `${root}attest/`;
  const appliedPrefix = `${root}applied/`;
  return {
    batchPrefix,
    batchKey: (seq: number) => batchPrefix + pad(seq),
    /** `{ seq, hash, timestampMs }` of the newest batch, written in the same transaction as it. */
    headKey: `${root}head`,
    seqOfBatchKey: (key: string) => Number(key.slice(batchPrefix.length)),
    attestPrefix,
    attestHeightPrefix: (height: number) => `${attestPrefix}${pad(height)}/`,
    attestKey: (height: number, nodeId: string) => `${attestPrefix}${pad(height)}/${nodeId}`,
    heightOfAttestKey: (key: string) => Number(key.slice(attestPrefix.length).split('/')[0]),
    appliedPrefix,
    appliedKey: (nodeId: string) => appliedPrefix + nodeId,
  };
}
export type EtcdLayout = ReturnType<typeof etcdLayout>;

/** The layout of a validated genesis's chain. */
export const layoutOf = (genesis: ValidatedGenesis): EtcdLayout =>
  etcdLayout(genesis.genesis.chainId, genesis.hash);

/** A quorum of organizations: a majority of those that run nodes. */
export function organizationQuorum(genesis: ValidatedGenesis): number {
  return Math.floor(new Set([...genesis.nodeKeys.values()].map((n) => n.orgId)).size / 2) + 1;
}
