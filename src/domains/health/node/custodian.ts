/**
 * The organization's custodian service identity, created and enrolled on first start of a
 * node home: an Ed25519 member certificate with role `custodian` (issued by the org CA, enrolled
 * by the org's admin) and an X25519 key pair whose public half is published on the ledger.
 * Keys stay in `keys/custodian.json` (0600), sealed under the node's KEK when one is configured
 * (ADR 0015).
 * @module
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fromBase64Url, toBase64Url } from '../../../protocol/bytes.js';
import { generateEncryptionKeyPair } from '../../../protocol/envelope.js';
import { createTxBody, signTx, type JsonObject } from '../../../protocol/tx.js';
import { HealthKeys } from '../contracts/model.js';
import {
  HomeFileError,
  homePaths,
  readIdentity,
  readSecretText,
  writeSealedSecret,
} from '../../../node/home.js';
import type { Sealer } from '../../../node/sealer.js';
import { createIdentity } from '../../../node/identities.js';
import type { LedgerNode } from '../../../node/ledger-node.js';
import type { Clock } from '../../../node/ordering/orderer.js';
import type { CustodianIdentity } from './record-service.js';

interface CustodianFile {
  memberId: string;
  certificate: string;
  signingKey: string;
  encryptionPrivateKey: string;
  encryptionPublicKey: string;
}

async function submit(
  node: LedgerNode,
  memberId: string,
  key: Uint8Array,
  type: string,
  payload: JsonObject,
  nowMs: number,
): Promise<void> {
  const tx = signTx(createTxBody({ chainId: node.chainId, type, payload, signer: memberId, nowMs }), key);
  const [r] = await node.submit([tx], { wait: true, timeoutMs: 30_000 });
  if (r?.status !== 'committed' || r.commitment.code !== 'VALID')
    throw new Error(
      `custodian bootstrap: ${type} failed: ${r?.status === 'rejected' ? r.error.code : r?.status === 'committed' ? r.commitment.code : 'not committed'}`,
    );
}

/** Loads (or creates, enrolls and publishes) the custodian identity of `orgId` in home `dir`. */
export async function ensureCustodian(
  dir: string,
  orgId: string,
  node: LedgerNode,
  clock: Clock,
  sealer: Sealer | null = null,
): Promise<CustodianIdentity> {
  const path = join(dir, 'keys', 'custodian.json');
  if (!existsSync(path)) {
    // The custodian's keys exist only in this file: once its member is on the ledger, a new key
    // would be another identity and every record wrapped for the old one would stay sealed.
    if (node.getMember(`${orgId}/records`) !== undefined)
      throw new HomeFileError(
        path,
        `is missing, but ${orgId}/records is enrolled on the ledger: its keys decrypt this ` +
          `custodian's records and cannot be re-created`,
      );
    // An earlier bootstrap stopped after saving the identity file but before this one.
    rmSync(homePaths(dir).identity(`${orgId}/records`), { force: true });
    const id = createIdentity(dir, {
      orgId,
      memberId: 'records',
      role: 'custodian',
      attributes: {},
      nowMs: clock.now(),
    });
    const enc = await generateEncryptionKeyPair();
    const file: CustodianFile = {
      memberId: id.memberId,
      certificate: id.certificate,
      signingKey: id.privateKey,
      encryptionPrivateKey: toBase64Url(enc.privateKey),
      encryptionPublicKey: toBase64Url(enc.publicKey),
    };
    writeSealedSecret(path, 'custodian', JSON.stringify(file, null, 2) + '\n', sealer);
  }
  let f: CustodianFile;
  try {
    f = JSON.parse(readSecretText(path, 'custodian', sealer)) as CustodianFile;
  } catch (e) {
    if (e instanceof SyntaxError) throw new HomeFileError(path, 'is truncated or not valid JSON');
    throw e;
  }
  // With a KEK, the custodian's signing key lives only in the sealed file: the identity file
  // `createIdentity` wrote (the same key, in clear) goes.
  if (sealer !== null) rmSync(homePaths(dir).identity(f.memberId), { force: true });
  const identity: CustodianIdentity = {
    memberId: f.memberId,
    signingKey: fromBase64Url(f.signingKey),
    encryption: {
      privateKey: fromBase64Url(f.encryptionPrivateKey),
      publicKey: fromBase64Url(f.encryptionPublicKey),
    },
  };
  if (node.getMember(f.memberId) === undefined) {
    const admin = readIdentity(dir, `${orgId}/admin`);
    await submit(
      node,
      admin.memberId,
      fromBase64Url(admin.privateKey),
      'member.enroll',
      { certificate: f.certificate },
      clock.now(),
    );
  }
  if (node.getState(HealthKeys.encryptionKey(f.memberId)) === undefined)
    await submit(
      node,
      f.memberId,
      identity.signingKey,
      'member.set-encryption-key',
      { publicKey: f.encryptionPublicKey },
      clock.now(),
    );
  return identity;
}
