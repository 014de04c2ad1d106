/**
 * The custodian's records service: the only path to health data at an organization
 * (in the manner of Medplum's identity-bound repository). Every call is attributable: writes
 * and releases arrive as signed requests, and each outcome — success or refusal — is logged
 * without health data. A thin facade over three parts with one job each:
 *
 * - {@link RecordVault} (vault.ts): encrypted storage in records.sqlite and the blob folder, key
 *   wrapping, commitment secrets, spent request ids.
 * - {@link RecordIntake} (intake.ts): writes, bundle imports and binaries coming in — validated,
 *   classified, sealed, and registered on the ledger.
 * - {@link Gatekeeper} (gatekeeper.ts): the single policy point for every release — REST, peer
 *   data plane, FHIR, binaries — against a committed grant, re-wrapped for the requester.
 *
 * Erasure (crypto-shredding, then the `erasure.complete` tombstone) is composed here.
 * @module
 */
import type { Resource } from '@medplum/fhirtypes';
import type { ReleaseBundle } from '../../../protocol/envelope.js';
import { HealthLedgerError } from '../../../protocol/errors.js';
// Registers the health codes thrown here and by the vault, intake and gatekeeper, whoever loads this.
import '../core/errors.js';
import type { LedgerNode } from '../../../node/ledger-node.js';
import type { Clock } from '../../../node/ordering/orderer.js';
import { HealthKeys, type AccessGrant } from '../contracts/model.js';
import { createTxBody, signTx, type JsonObject } from '../../../protocol/tx.js';
import type { DisclosurePayload } from '../contracts/disclosure.js';
import { Gatekeeper } from './gatekeeper.js';
import { RecordIntake, submitAsCustodian } from './intake.js';
import {
  verifySignedRequest,
  type SignedRequestContext,
  type VerifiedRequest,
} from '../../../node/auth/signed-request.js';
import { RecordVault, type CustodianIdentity } from './vault.js';

export type { CustodianIdentity } from './vault.js';

export class RecordService {
  /** Encrypted storage of this custodian's records and binaries. */
  readonly vault: RecordVault;
  /** The single policy point for releases (SMART and bulk export reuse it). */
  readonly gatekeeper: Gatekeeper;
  /** Writes, imports and binaries coming in. */
  readonly intake: RecordIntake;

  constructor(
    dbPath: string,
    private readonly node: LedgerNode,
    private readonly custodian: CustodianIdentity,
    private readonly clock: Clock,
    private readonly log: (event: string, fields: Record<string, unknown>) => void = () => {},
    blobDir?: string,
  ) {
    this.vault = new RecordVault(dbPath, custodian, (k) => node.getState(k), blobDir);
    const requestContext = () => this.requestContext();
    this.gatekeeper = new Gatekeeper({
      vault: this.vault,
      getState: (k) => node.getState(k),
      clock,
      requestContext,
      log,
      disclose: (disclosures) => this.disclose(disclosures),
    });
    this.intake = new RecordIntake({ vault: this.vault, node, custodian, clock, requestContext, log });
  }

  /**
   * Signs disclosures as the custodian and submits them together through the node's normal
   * batching (concurrent releases share blocks); resolves once all are committed.
   */
  private async disclose(disclosures: DisclosurePayload[]): Promise<{ txId: string; code: string }[]> {
    const txs = disclosures.map((payload) =>
      signTx(
        createTxBody({
          chainId: this.node.chainId,
          type: 'access.disclose',
          payload: payload as unknown as JsonObject,
          signer: this.custodian.memberId,
          nowMs: this.clock.now(),
        }),
        this.custodian.signingKey,
      ),
    );
    const results = await this.node.submit(txs, { wait: true, timeoutMs: 30_000 });
    return results.map((r) => {
      if (r.status === 'committed') return { txId: r.txId, code: r.commitment.code };
      if (r.status === 'rejected') throw r.error;
      throw new HealthLedgerError('DISCLOSURE_NOT_COMMITTED', 'disclosure not committed in time');
    });
  }

  /** The organization this custodian serves. */
  get org(): string {
    return this.custodian.memberId.split('/')[0]!;
  }

  /** Closes the vault's database. */
  close(): void {
    this.vault.close();
  }

  /** The context signed requests are verified in; each request id is spent once (in the vault). */
  private requestContext(): SignedRequestContext {
    const policies = this.node.genesis.genesis.policies;
    return {
      chainId: this.node.chainId,
      getState: (k: string) => this.node.getState(k),
      nowMs: this.clock.now(),
      windowMs: policies.timestampWindowMs,
      maxBytes: 4 * 1024 * 1024 + 4096,
      rememberRequest: (id: string, at: number) => this.vault.rememberRequest(id, at),
    };
  }

  /**
   * Verifies a signed request that reads ledger metadata only (no record, no effect), with the
   * same checks as every other request; replaying it only re-reads, so its id is not spent.
   */
  verifyReadRequest(request: unknown, type: string): VerifiedRequest {
    return verifySignedRequest(request, type, { ...this.requestContext(), rememberRequest: () => true });
  }

  /** See {@link RecordIntake.write}. */
  write(request: unknown): Promise<{ recordId: string; version: number; txId: string }> {
    return this.intake.write(request);
  }

  /** See {@link RecordIntake.importBundle}. */
  importBundle(
    request: unknown,
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ records: { id: string; resourceType: string; txId: string }[] }> {
    return this.intake.importBundle(request, onProgress);
  }

  /** See {@link Gatekeeper.release}. */
  release(request: unknown): Promise<{ grant: AccessGrant; release: ReleaseBundle }> {
    return this.gatekeeper.release(request);
  }

  /** See {@link Gatekeeper.readPlain}. */
  readPlain(request: unknown): Promise<{ grant: AccessGrant; resources: Resource[] }> {
    return this.gatekeeper.readPlain(request);
  }

  /**
   * Crypto-shredding after a committed `erasure.request`: wrapped keys, envelopes, blobs and the
   * patient's commitment secret are destroyed so that no file of the vault holds a byte of them
   * ({@link RecordVault.erasePatient}), and only then is the tombstone committed.
   */
  async erase(patient: string): Promise<{ records: number; txId: string }> {
    if (this.node.getState(HealthKeys.erasure(patient)) === undefined)
      throw new HealthLedgerError('ERASURE_NOT_REQUESTED');
    const n = await this.vault.erasePatient(patient);
    const r = await submitAsCustodian(
      { node: this.node, custodian: this.custodian, clock: this.clock },
      'erasure.complete',
      { patient, records: n },
    );
    this.log('records.erased', { patient, records: n, txId: r.txId, code: r.code });
    return { records: n, txId: r.txId };
  }

  /** See {@link RecordIntake.putBlob}. */
  putBlob(
    request: unknown,
    body: AsyncIterable<Uint8Array>,
  ): Promise<{ blobId: string; size: number; url: string }> {
    return this.intake.putBlob(request, body);
  }

  /** See {@link Gatekeeper.blob}. */
  getBlob(
    request: unknown,
  ): Promise<{ contentType: string; size: number; stream: AsyncIterable<Uint8Array> }> {
    return this.gatekeeper.blob(request);
  }

  /** How many record versions this custodian holds for a patient (for tests and metrics). */
  countFor(patient: string): number {
    return this.vault.countFor(patient);
  }
}
