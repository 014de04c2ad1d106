/**
 * The cross-organization data plane. When a practitioner asks their own node for the records a
 * committed grant covers, that node releases what it holds and asks every other organization's node
 * (endpoints and keys from the genesis) for the rest, forwarding the practitioner's signed request.
 * Both directions are authenticated with the nodes' genesis keys (`node/auth/peer-auth.ts`). The custodian checks the practitioner's signature and the committed access entry
 * itself — a node can carry a request, never create one.
 * @module
 */
import type { ValidatedGenesis } from '../../../protocol/genesis.js';
import type { ReleaseBundle } from '../../../protocol/envelope.js';
import { HealthRoutes } from '../core/routes.js';
import {
  NODE_AUTH_HEADER,
  NODE_RESPONSE_HEADER,
  signPeerRequest,
  verifyPeerResponse,
} from '../../../node/auth/peer-auth.js';

/** The peer route a custodian serves to other organizations' nodes. */
export const PEER_RELEASE_PATH = HealthRoutes.peerRelease.url;

/** What other organizations' custodians released for one request. */
export interface PeerReleases {
  releases: { org: string; release: ReleaseBundle }[];
  /** Organizations whose nodes could not answer (down, or refused: with the code). */
  unavailable: { org: string; reason: string }[];
}

/** Asks every other organization's node for what it holds under the grant in `signedRequest`. */
export async function releaseFromPeers(opts: {
  genesis: ValidatedGenesis;
  ownOrg: string;
  nodeId: string;
  sign: (m: Uint8Array) => Uint8Array;
  signedRequest: unknown;
  nowMs: number;
  timeoutMs?: number;
}): Promise<PeerReleases> {
  const body = JSON.stringify(opts.signedRequest);
  const peers = opts.genesis.genesis.orgs
    .filter((o) => o.id !== opts.ownOrg)
    .flatMap((o) => o.nodes.filter((n) => n.endpoint).map((n) => ({ org: o.id, node: n })));
  const out: PeerReleases = { releases: [], unavailable: [] };
  await Promise.all(
    peers.map(async ({ org, node }) => {
      const auth = signPeerRequest(opts.nodeId, opts.sign, 'POST', PEER_RELEASE_PATH, body, opts.nowMs);
      try {
        const res = await fetch(new URL(PEER_RELEASE_PATH, node.endpoint), {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', [NODE_AUTH_HEADER]: auth },
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
        const text = await res.text();
        // Authenticate the answer before believing anything in it.
        if (
          !verifyPeerResponse(
            res.headers.get(NODE_RESPONSE_HEADER),
            opts.genesis,
            org,
            res.status,
            text,
            auth,
          )
        )
          return void out.unavailable.push({
            org,
            reason: 'NODE_AUTH_FAILED: the answer is not signed by that organization’s node',
          });
        const parsed = JSON.parse(text) as { release?: ReleaseBundle; error?: { code: string } };
        if (!res.ok || parsed.release === undefined)
          return void out.unavailable.push({ org, reason: parsed.error?.code ?? `HTTP ${res.status}` });
        if (parsed.release.records.length > 0) out.releases.push({ org, release: parsed.release });
      } catch (e) {
        out.unavailable.push({ org, reason: `unreachable: ${(e as Error).message}` });
      }
    }),
  );
  return out;
}
