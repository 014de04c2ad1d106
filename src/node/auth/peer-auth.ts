/**
 * Node-to-node authentication with the nodes' genesis keys, for every peer route (the data plane,
 * snapshot sync): the caller signs the request (method, path, body hash, time), the answering node
 * signs its response (status, body hash, the request's signature), so neither side can be
 * impersonated by a third and an answer cannot be moved to another request.
 * @module
 */
import { fromBase64Url, toBase64Url, toHex, utf8 } from '../../protocol/bytes.js';
import { verify } from '../../protocol/ed25519.js';
import { HealthLedgerError } from '../../protocol/errors.js';
import { Domain, domainSeparated, sha256 } from '../../protocol/hash.js';
import { canonicalBytes } from '../../protocol/jcs.js';
import type { ValidatedGenesis } from '../../protocol/genesis.js';

/** Header carrying the calling node's signature: `<nodeId>;<timestampMs>;<sig base64url>`. */
export const NODE_AUTH_HEADER = 'x-healthledger-node';
/** Header carrying the answering node's signature: `<nodeId>;<sig base64url>`. */
export const NODE_RESPONSE_HEADER = 'x-healthledger-node-response';

const bodyHash = (body: string | Uint8Array): string =>
  toHex(sha256(typeof body === 'string' ? utf8(body) : body));
const requestBytes = (r: { nodeId: string; ts: number; method: string; path: string; body: string }) =>
  domainSeparated(
    Domain.peer,
    canonicalBytes({
      kind: 'peer-request',
      nodeId: r.nodeId,
      ts: r.ts,
      method: r.method,
      path: r.path,
      body: bodyHash(r.body),
    }),
  );
const responseBytes = (r: {
  nodeId: string;
  status: number;
  body: string | Uint8Array;
  requestSig: string;
}) =>
  domainSeparated(
    Domain.peer,
    canonicalBytes({
      kind: 'peer-response',
      nodeId: r.nodeId,
      status: r.status,
      body: bodyHash(r.body),
      requestSig: r.requestSig,
    }),
  );

/** Signs a request to another node. */
export function signPeerRequest(
  nodeId: string,
  sign: (m: Uint8Array) => Uint8Array,
  method: string,
  path: string,
  body: string,
  nowMs: number,
): string {
  const sig = toBase64Url(sign(requestBytes({ nodeId, ts: nowMs, method, path, body })));
  return `${nodeId};${nowMs};${sig}`;
}

/**
 * Checks a peer request's node signature against the genesis: a known node of another organization,
 * within the time window. Returns the caller's node id and its signature (the response binds it).
 */
export function verifyPeerRequest(
  header: string | undefined,
  genesis: ValidatedGenesis,
  ownOrg: string,
  method: string,
  path: string,
  body: string,
  nowMs: number,
  windowMs: number,
): { nodeId: string; orgId: string; sig: string } {
  const fail = (why: string): never => {
    throw new HealthLedgerError('NODE_AUTH_FAILED', why);
  };
  const m =
    typeof header === 'string'
      ? /^([A-Za-z0-9._-]{1,128});([0-9]{1,16});([A-Za-z0-9_-]{86})$/.exec(header)
      : null;
  if (!m) return fail(`missing or malformed ${NODE_AUTH_HEADER} header`);
  const [, nodeId, tsText, sig] = m as unknown as [string, string, string, string];
  const node = genesis.nodeKeys.get(nodeId);
  if (node === undefined) return fail(`${nodeId} is not a node of this consortium`);
  if (node.orgId === ownOrg) return fail('a node does not call itself');
  const ts = Number(tsText);
  if (Math.abs(nowMs - ts) > windowMs) return fail('the node signature is outside the time window');
  if (!verify(fromBase64Url(sig), requestBytes({ nodeId, ts, method, path, body }), node.publicKey))
    return fail('the node signature does not verify');
  return { nodeId, orgId: node.orgId, sig };
}

/** Signs a response to a peer request. */
export function signPeerResponse(
  nodeId: string,
  sign: (m: Uint8Array) => Uint8Array,
  status: number,
  body: string | Uint8Array,
  requestSig: string,
): string {
  return `${nodeId};${toBase64Url(sign(responseBytes({ nodeId, status, body, requestSig })))}`;
}

/** Checks a peer's signed answer: signed by a genesis node of `org` over this status, body and request. */
export function verifyPeerResponse(
  header: string | null,
  genesis: ValidatedGenesis,
  org: string,
  status: number,
  body: string | Uint8Array,
  requestAuth: string,
): boolean {
  const m = /^([A-Za-z0-9._-]{1,128});([A-Za-z0-9_-]{86})$/.exec(header ?? '');
  const key = m ? genesis.nodeKeys.get(m[1]!) : undefined;
  if (!m || key === undefined || key.orgId !== org) return false;
  return verify(
    fromBase64Url(m[2]!),
    responseBytes({ nodeId: m[1]!, status, body, requestSig: requestAuth.split(';')[2]! }),
    key.publicKey,
  );
}
