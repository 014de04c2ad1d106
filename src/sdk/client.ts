/**
 * The HealthLedger SDK: runs in Node and in browsers (fetch + pure-JS crypto). It signs
 * transactions with keys that never leave the caller, submits them, and verifies receipts and
 * consistency proofs locally against node keys pinned from a genesis the caller trusts — it
 * never takes the node's word for a commitment.
 *
 * @example
 * const client = new HealthLedgerClient({ baseUrl: 'http://127.0.0.1:7600', genesis });
 * const receipt = await client.sendAndVerify(identity, 'anchor.put', { key: 'doc-1', commitment });
 * @module
 */
import {
  Routes,
  routePath,
  type EventsPageWire,
  type RouteDef,
  type SubmitResultWire,
} from '../protocol/api.js';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import type { Block, BlockHeader, SignedCheckpoint } from '../protocol/block.js';
import { fromBase64Url } from '../protocol/bytes.js';
import { HealthLedgerError, type ApiErrorBody, type ApiErrorCode } from '../protocol/errors.js';
// Registers every domain's error codes: the SDK throws them as the server sends them.
import '../core/domains.js';
import { genesisHash, validateGenesis, type Genesis, type ValidatedGenesis } from '../protocol/genesis.js';
import { attestationOrg, type Attestation } from '../protocol/attestation.js';
import {
  trustedKeysFromGenesis,
  verifyCheckpoint,
  verifyCheckpointConsistency,
  verifyReceipt,
  type Receipt,
  type TrustedNodeKeys,
} from '../protocol/receipt.js';
import { createTxBody, signTx, txIdOf, type JsonObject, type SignedTx } from '../protocol/tx.js';
import { openRelease, type ReleaseBundle } from '../protocol/envelope.js';
import { consentFromFhir } from '../domains/health/core/fhir/consent.js';
import type { SupplyFacts } from '../domains/supply/core/facts.js';
import type { Consent } from '@medplum/fhirtypes';
import { fromUtf8, toBase64Url, utf8 } from '../protocol/bytes.js';

/**
 * Decrypts a release locally with the requester's X25519 private key (which never leaves the
 * caller): one HPKE unwrap for the release, then each record. Resources come back in order.
 */
export async function openReleased(
  release: ReleaseBundle,
  memberId: string,
  encryptionPrivateKey: Uint8Array,
): Promise<Record<string, unknown>[]> {
  const opened = await openRelease(release, memberId, encryptionPrivateKey);
  return opened.map((r) => JSON.parse(fromUtf8(r.plaintext)) as Record<string, unknown>);
}

/** A member's signing identity, held by its owner. */
export interface Identity {
  /** `<orgId>/<memberId>` */
  memberId: string;
  /** Ed25519 seed (32 bytes). */
  privateKey: Uint8Array;
}

/** Loads an identity from the CLI's identity file shape. */
export function identityFromFile(file: { memberId: string; privateKey: string }): Identity {
  return { memberId: file.memberId, privateKey: fromBase64Url(file.privateKey) };
}

export interface ClientOptions {
  /** Node base URL, e.g. `http://127.0.0.1:7600`. */
  baseUrl: string;
  /** The genesis this client trusts (pinned out of band). Node keys for proofs come from it. */
  genesis: Genesis;
  fetch?: typeof fetch;
  /** Clock for transaction timestamps (ms). */
  now?: () => number;
}

/** Commitment info returned by a waited submission. */
export interface Committed {
  txId: string;
  height: number;
  index: number;
  seq: number;
  code: string;
}

export class HealthLedgerClient {
  readonly chainId: string;
  readonly genesisHash: string;
  readonly trusted: TrustedNodeKeys;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private validatedGenesis: ValidatedGenesis | undefined;

  constructor(private readonly opts: ClientOptions) {
    this.chainId = opts.genesis.chainId;
    this.genesisHash = genesisHash(opts.genesis);
    this.trusted = trustedKeysFromGenesis(opts.genesis);
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.now = opts.now ?? (() => Date.now());
  }

  /**
   * Fetches the node's genesis and checks it hashes to `expectedHash` (obtained out of band),
   * then returns a client pinned to it.
   */
  static async connect(
    baseUrl: string,
    expectedHash: string,
    fetchFn?: typeof fetch,
  ): Promise<HealthLedgerClient> {
    const f = fetchFn ?? globalThis.fetch.bind(globalThis);
    const res = await f(new URL(Routes.genesis.url, baseUrl));
    const body = (await res.json()) as { genesis: Genesis };
    const actual = genesisHash(body.genesis);
    if (actual !== expectedHash)
      throw new Error(`node's genesis hash ${actual} is not the pinned ${expectedHash}`);
    return new HealthLedgerClient({ baseUrl, genesis: body.genesis, ...(fetchFn ? { fetch: fetchFn } : {}) });
  }

  /** Builds and signs a transaction for `identity`. */
  sign(identity: Identity, type: string, payload: JsonObject): SignedTx {
    return signTx(
      createTxBody({ chainId: this.chainId, type, payload, signer: identity.memberId, nowMs: this.now() }),
      identity.privateKey,
    );
  }

  private async call<T>(
    def: RouteDef,
    opts: {
      params?: Record<string, string | number>;
      query?: Record<string, string | number | boolean | undefined>;
      body?: unknown;
    } = {},
  ): Promise<{ status: number; body: T }> {
    const url = new URL(routePath(def.url, opts.params), this.opts.baseUrl);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const init: RequestInit = { method: def.method };
    if (opts.body !== undefined) {
      init.body = JSON.stringify(opts.body);
      init.headers = { 'content-type': 'application/json' };
    }
    const res = await this.fetchFn(url, init);
    return { status: res.status, body: await this.parse<T>(res) };
  }

  /** Submits one transaction. With `wait`, resolves when committed (any validation code). */
  async submit(tx: SignedTx, opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<SubmitResultWire> {
    const r = await this.call<SubmitResultWire>(Routes.submitTx, {
      query: { wait: opts.wait ?? false, timeoutMs: opts.timeoutMs },
      body: tx,
    });
    return r.body;
  }

  /** Submits up to 5000 transactions in one request; each gets its own result. */
  async submitBatch(
    txs: readonly SignedTx[],
    opts: { wait?: boolean; timeoutMs?: number } = {},
  ): Promise<SubmitResultWire[]> {
    const r = await this.call<{ results: SubmitResultWire[] }>(Routes.submitBatch, {
      query: { wait: opts.wait ?? false, timeoutMs: opts.timeoutMs },
      body: { txs },
    });
    return r.body.results;
  }

  /**
   * Submits and waits for commit; if the node says the id was already accepted (a retry after a
   * lost response), fetches the existing receipt instead — so retries are safe.
   */
  async submitAndWait(tx: SignedTx, timeoutMs = 30_000): Promise<Committed> {
    try {
      const r = await this.submit(tx, { wait: true, timeoutMs });
      if (r.status === 'committed') return r;
      throw new HealthLedgerError('INTERNAL', `unexpected status ${r.status}`);
    } catch (e) {
      if (e instanceof HealthLedgerError && e.code === 'DUPLICATE_TX') {
        const receipt = await this.receipt(txIdOf(tx.body));
        return {
          txId: receipt.txId,
          height: receipt.height,
          index: receipt.index,
          seq: receipt.seq,
          code: receipt.code,
        };
      }
      throw e;
    }
  }

  /** Signs, submits, waits, fetches the receipt and verifies it locally. */
  async sendAndVerify(identity: Identity, type: string, payload: JsonObject): Promise<Receipt> {
    const tx = this.sign(identity, type, payload);
    const c = await this.submitAndWait(tx);
    return this.verifiedReceipt(c.txId);
  }

  /** The node's receipt for a transaction (unverified: prefer {@link verifiedReceipt}). */
  async receipt(txId: string, treeSize?: number): Promise<Receipt> {
    return (await this.call<Receipt>(Routes.getReceipt, { params: { txId }, query: { treeSize } })).body;
  }

  /** A receipt verified locally: checkpoint signature by a genesis node, tx id, inclusion proof. */
  async verifiedReceipt(txId: string, treeSize?: number): Promise<Receipt> {
    const r = await this.receipt(txId, treeSize);
    if (r.txId !== txId)
      throw new HealthLedgerError('INTERNAL', 'node returned a receipt for another transaction');
    return verifyReceipt(r, this.trusted, this.chainId);
  }

  /**
   * Stores a FHIR resource for a patient at this node's custodian (the signer must be one of its
   * practitioners). The request is signed but never ordered: health data stays off the ledger.
   */
  async writeRecord(
    identity: Identity,
    patient: string,
    resource: Record<string, unknown>,
    recordId?: string,
  ): Promise<{ recordId: string; version: number; txId: string }> {
    const req = this.sign(identity, 'record.write', {
      patient,
      resource,
      ...(recordId ? { recordId } : {}),
    } as JsonObject);
    return (
      await this.call<{ recordId: string; version: number; txId: string }>(Routes.writeRecord, { body: req })
    ).body;
  }

  /**
   * Imports a FHIR `Consent` (the profile `GET /fhir/Consent` exports) as a ledger grant signed by
   * `identity` (the patient or their proxy). Throws ConsentMappingError if it cannot be represented.
   */
  async grantFromFhirConsent(identity: Identity, consent: Consent): Promise<Receipt> {
    return this.sendAndVerify(identity, 'consent.grant', consentFromFhir(consent) as unknown as JsonObject);
  }

  /** Imports a FHIR Bundle for a patient at this node's custodian (signed `record.import`). */
  async importBundle(
    identity: Identity,
    patient: string,
    bundle: Record<string, unknown>,
  ): Promise<{ records: { id: string; resourceType: string; txId: string }[] }> {
    const req = this.sign(identity, 'record.import', { patient, bundle } as JsonObject);
    return (
      await this.call<{ records: { id: string; resourceType: string; txId: string }[] }>(
        Routes.importBundle,
        { body: req },
      )
    ).body;
  }

  /** `Authorization` header value carrying a signed off-ledger request. */
  authorization(identity: Identity, type: string, payload: JsonObject): string {
    return `HealthLedger ${toBase64Url(utf8(JSON.stringify(this.sign(identity, type, payload))))}`;
  }

  /** Streams a binary for a patient to the custodian; reference the returned `url` from a DocumentReference. */
  async putBlob(
    identity: Identity,
    patient: string,
    contentType: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
  ): Promise<{ blobId: string; size: number; url: string }> {
    const res = await this.fetchFn(new URL(Routes.putBlob.url, this.opts.baseUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        authorization: this.authorization(identity, 'blob.put', { patient, contentType }),
      },
      body,
      ...(body instanceof Uint8Array ? {} : { duplex: 'half' }),
    } as RequestInit);
    return this.parse<{ blobId: string; size: number; url: string }>(res);
  }

  /** Streams a binary released under committed grant `accessTxId` (decrypted by the custodian). */
  async getBlob(identity: Identity, accessTxId: string, blobId: string): Promise<Response> {
    const res = await this.fetchFn(
      new URL(routePath(Routes.getBlob.url, { id: blobId }), this.opts.baseUrl),
      {
        headers: { authorization: this.authorization(identity, 'blob.get', { accessTxId, blobId }) },
      },
    );
    if (!res.ok) await this.parse(res);
    return res;
  }

  /** The JSON body of a response, or the API error it carries as a HealthLedgerError. */
  private async parse<T>(res: Response): Promise<T> {
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    if (!res.ok) {
      const err = (body as ApiErrorBody | undefined)?.error;
      throw new HealthLedgerError(
        (err?.code as ApiErrorCode | undefined) ?? 'INTERNAL',
        err?.message ?? `HTTP ${res.status}`,
        err?.details,
      );
    }
    return body as T;
  }

  /** Asks the custodian to release what committed grant `accessTxId` covers, re-wrapped to the signer. */
  async releaseRecords(identity: Identity, accessTxId: string): Promise<ReleaseResponseWire> {
    const req = this.sign(identity, 'record.release', { accessTxId });
    return (await this.call<ReleaseResponseWire>(Routes.releaseRecords, { body: req })).body;
  }

  /** A GET with `Authorization: Bearer <token>` (events routes); errors as {@link HealthLedgerError}. */
  private async bearerGet<T>(
    def: RouteDef,
    token: string,
    params: Record<string, string | number>,
    query: Record<string, string | number | undefined>,
  ): Promise<T> {
    const url = new URL(routePath(def.url, params), this.opts.baseUrl);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    const res = await this.fetchFn(url, { method: 'GET', headers: { authorization: `Bearer ${token}` } });
    return this.parse<T>(res);
  }

  /**
   * A bearer token (15 min) for `patient`'s events, for a signer who is the patient, a proxy, or
   * an auditor of the patient's organization. The request is signed but never ordered.
   */
  async eventsToken(identity: Identity, patient: string): Promise<{ token: string; expiresAtMs: number }> {
    const req = this.sign(identity, 'events.token', { patient });
    return (await this.call<{ token: string; expiresAtMs: number }>(Routes.eventsToken, { body: req })).body;
  }

  /** A page of `patient`'s events after the cursor `after` (oldest first); pass `next` back as `after`. */
  async events(patient: string, token: string, after?: number, limit?: number): Promise<EventsPageWire> {
    const [org, member] = patient.split('/');
    return this.bearerGet<EventsPageWire>(
      Routes.patientEvents,
      token,
      { org: org ?? '', member: member ?? '' },
      { after, limit },
    );
  }

  /**
   * `patient`'s trail as a FHIR R4 Bundle of AuditEvents. Unless `verify: false`, every entry is
   * checked against the ledger: its receipt (by txId) is fetched and verified locally (inclusion
   * proof against a checkpoint signed by a genesis node), and the AuditEvent must say what the
   * proven transaction says — patient, signer, validation code, height — or this throws
   * AUDIT_EVENT_MISMATCH. Returns the bundle and the verified receipts, in entry order.
   */
  async auditEvents(
    patient: string,
    token: string,
    opts: { after?: number; limit?: number; verify?: boolean } = {},
  ): Promise<{ bundle: Bundle<AuditEvent>; receipts: Receipt[] }> {
    const [org, member] = patient.split('/');
    const bundle = await this.bearerGet<Bundle<AuditEvent>>(
      Routes.auditEvents,
      token,
      { org: org ?? '', member: member ?? '' },
      { after: opts.after, limit: opts.limit },
    );
    const receipts: Receipt[] = [];
    if (opts.verify === false) return { bundle, receipts };
    for (const entry of bundle.entry ?? []) {
      const ev = entry.resource;
      const mismatch = (what: string): never => {
        throw new HealthLedgerError('AUDIT_EVENT_MISMATCH', `AuditEvent ${ev?.id ?? '?'}: ${what}`);
      };
      if (ev?.resourceType !== 'AuditEvent' || typeof ev.id !== 'string')
        return mismatch('not an AuditEvent');
      const detail = (k: string) => ev.entity?.[1]?.detail?.find((d) => d.type === k)?.valueString;
      const txId = detail('txId');
      if (txId !== ev.id) mismatch('txId detail differs from the id');
      const r = await this.verifiedReceipt(ev.id);
      const body = r.tx.body;
      if ((body.payload as Record<string, unknown>)['patient'] !== patient) mismatch('another patient');
      if (ev.entity?.[0]?.what?.identifier?.value !== patient) mismatch('entity is not the patient');
      if (ev.agent[0]?.who?.identifier?.value !== body.signer) mismatch('agent is not the signer');
      if (ev.outcomeDesc !== r.code || ev.outcome !== (r.code === 'VALID' ? '0' : '4'))
        mismatch('outcome differs from the validation code');
      if (detail('type') !== body.type) mismatch('type differs');
      if (detail('height') !== String(r.height) || detail('seq') !== String(r.seq + 1))
        mismatch('position differs');
      receipts.push(r);
    }
    return { bundle, receipts };
  }

  /**
   * Subscribes a webhook to `patient`'s events (same signers as {@link eventsToken}). The secret
   * is returned once: deliveries carry `X-HealthLedger-Signature: t=<ms>,v1=<hex
   * HMAC-SHA256(secret, t + "." + body)>`.
   */
  async createSubscription(
    identity: Identity,
    patient: string,
    url: string,
  ): Promise<{ id: string; secret: string }> {
    const req = this.sign(identity, 'subscription.create', { patient, url });
    return (await this.call<{ id: string; secret: string }>(Routes.createSubscription, { body: req })).body;
  }

  async latestCheckpoint(): Promise<SignedCheckpoint> {
    const c = (await this.call<SignedCheckpoint>(Routes.latestCheckpoint)).body;
    verifyCheckpoint(c, this.trusted, this.chainId);
    return c;
  }

  /** Fetches and verifies a consistency proof between two checkpointed sizes. */
  async verifiedConsistency(
    from: number,
    to: number,
  ): Promise<{ from: SignedCheckpoint; to: SignedCheckpoint; proof: string[] }> {
    const r = (
      await this.call<{ from: SignedCheckpoint; to: SignedCheckpoint; proof: string[] }>(Routes.consistency, {
        query: { from, to },
      })
    ).body;
    if (r.from.checkpoint.logSize !== from || r.to.checkpoint.logSize !== to)
      throw new HealthLedgerError('INTERNAL', 'node answered for other sizes');
    verifyCheckpointConsistency(r.from, r.to, r.proof, this.trusted, this.chainId);
    return r;
  }

  async block(height: number): Promise<Block> {
    return (await this.call<Block>(Routes.getBlock, { params: { height } })).body;
  }

  async blocks(
    from = 1,
    limit = 50,
  ): Promise<{ head: unknown; blocks: { header: BlockHeader; hash: string; signature: string }[] }> {
    return (
      await this.call<{ head: unknown; blocks: { header: BlockHeader; hash: string; signature: string }[] }>(
        Routes.listBlocks,
        { query: { from, limit } },
      )
    ).body;
  }

  async member(memberId: string): Promise<Record<string, unknown>> {
    const [org, member] = memberId.split('/');
    return (
      await this.call<Record<string, unknown>>(Routes.getMember, {
        params: { org: org ?? '', member: member ?? '' },
      })
    ).body;
  }

  /**
   * The patient's consents as FHIR R4 `Consent` resources (active, expired and revoked), for the
   * patient, a proxy, or an auditor of the patient's organization. The request is signed, never ordered.
   */
  async consents(identity: Identity, patient: string): Promise<Bundle<Consent>> {
    const url = new URL('/fhir/Consent', this.opts.baseUrl);
    url.searchParams.set('patient', patient);
    const res = await this.fetchFn(url, {
      headers: { authorization: this.authorization(identity, 'fhir.consents', { patient }) },
    });
    return this.parse<Bundle<Consent>>(res);
  }

  // -------------------------------------------------------------------------------------------
  // Supply chain
  // -------------------------------------------------------------------------------------------

  /**
   * Records EPCIS events on the ledger: each event's CBV hash and public facts, signed by
   * `identity` (the full events stay with the caller). Facts come from the node's EPCIS intake,
   * which validates the document against the EPCIS 2.0 JSON Schema; or pass `facts` derived
   * locally with `supplyFactsOf`. Resolves per event with the validation code and any alerts.
   *
   * @example
   * const [r] = await client.captureEpcis(distributor, epcisDocument);
   * // { eventHash: 'ni:///sha-256;…?ver=CBV2.0', txId: '…', code: 'VALID', alerts: [] }
   */
  async captureEpcis(
    identity: Identity,
    doc: unknown,
    opts: { facts?: SupplyFacts[]; timeoutMs?: number } = {},
  ): Promise<SupplyCaptureResult[]> {
    let facts = opts.facts;
    if (facts === undefined) {
      const r = await this.supplyFacts(doc);
      const bad = r.results.find((x) => !x.ok);
      if (bad && !bad.ok)
        throw new HealthLedgerError(
          'EPCIS_NOT_RECORDABLE',
          `event ${bad.index}: ${bad.code}: ${bad.message}`,
          {
            index: bad.index,
            code: bad.code,
          },
        );
      facts = r.results.map((x) => (x as { facts: SupplyFacts }).facts);
    }
    const txs = facts.map((f) => this.sign(identity, 'supply.event', f as unknown as JsonObject));
    const results = await this.submitBatch(txs, { wait: true, timeoutMs: opts.timeoutMs ?? 30_000 });
    const out: SupplyCaptureResult[] = [];
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      const eventHash = facts[i]!.eventHash;
      if (r.status === 'rejected') throw new HealthLedgerError(r.error.code as ApiErrorCode, r.error.message);
      if (r.status !== 'committed')
        throw new HealthLedgerError('COMMIT_TIMEOUT', `event ${i} not yet committed`);
      const alerts = r.code === 'VALID' ? (await this.supplyEvent(r.txId)).alerts : [];
      out.push({ eventHash, txId: r.txId, code: r.code, alerts });
    }
    return out;
  }

  /** The node's EPCIS intake: schema validation, then each event's hash and facts (nothing stored). */
  async supplyFacts(doc: unknown): Promise<{ results: SupplyFactsResultWire[] }> {
    return (await this.call<{ results: SupplyFactsResultWire[] }>(Routes.supplyFacts, { body: doc })).body;
  }

  /** What an applied supply transaction recorded (event hash, step, identifiers, alerts). */
  async supplyEvent(txId: string): Promise<SupplyEventWire> {
    return (await this.call<SupplyEventWire>(Routes.supplyEvent, { params: { txId } })).body;
  }

  /**
   * Verifies a product identifier at this node (DSCSA VRS shape). `expiry` is `YYYY-MM-DD`.
   *
   * @example
   * const r = await client.verifyProduct({ gtin: '00614141107346', serial: '2017', lot: 'L1', expiry: '2030-01-31' });
   * if (!r.data.verified) console.log(r.data.additionalInfo); // e.g. 'RECALLED'
   */
  async verifyProduct(q: {
    gtin: string;
    serial: string;
    lot: string;
    expiry: string;
    corrUUID?: string;
  }): Promise<VerifyResponseWire> {
    return (
      await this.call<VerifyResponseWire>(Routes.supplyVerify, {
        params: { gtin: q.gtin, lot: q.lot, serial: q.serial },
        query: { expiry: q.expiry, corrUUID: q.corrUUID },
      })
    ).body;
  }

  /**
   * A package's timeline with proofs: unless `verify: false`, every entry's transaction receipt is
   * fetched and verified locally (inclusion proof against a checkpoint signed by a genesis node),
   * and the proven transaction must be an applied supply transaction carrying the entry's event
   * hash — or this throws SUPPLY_TIMELINE_MISMATCH.
   */
  async supplyHistory(
    id: string,
    opts: { verify?: boolean } = {},
  ): Promise<{ timeline: SupplyTimelineWire; receipts: Receipt[] }> {
    const timeline = (await this.call<SupplyTimelineWire>(Routes.supplyHistory, { query: { id } })).body;
    const receipts: Receipt[] = [];
    if (opts.verify === false) return { timeline, receipts };
    for (const e of timeline.entries) {
      const r = await this.verifiedReceipt(e.txId);
      const body = r.tx.body;
      const mismatch = (what: string): never => {
        throw new HealthLedgerError('SUPPLY_TIMELINE_MISMATCH', `entry ${e.txId}: ${what}`);
      };
      if (r.code !== 'VALID') mismatch(`the transaction was not applied (${r.code})`);
      if (!body.type.startsWith('supply.')) mismatch('not a supply transaction');
      if (r.height !== e.height) mismatch('height differs');
      const payloadHash = (body.payload as Record<string, unknown>)['eventHash'] ?? null;
      if (body.type === 'supply.event' && payloadHash !== e.eventHash) mismatch('event hash differs');
      if (body.signer.split('/')[0] !== e.org) mismatch('organization differs');
      receipts.push(r);
    }
    return { timeline, receipts };
  }

  /** One supply alert. */
  async supplyAlert(id: string): Promise<Record<string, unknown>> {
    return (await this.call<Record<string, unknown>>(Routes.supplyAlert, { params: { id } })).body;
  }

  /** A bearer token (15 min) for the supply alert feed (manufacturers, distributors, dispensers, regulators). */
  async supplyAlertsToken(identity: Identity): Promise<{ token: string; expiresAtMs: number }> {
    const req = this.sign(identity, 'events.token', { feed: 'supply' });
    return (await this.call<{ token: string; expiresAtMs: number }>(Routes.eventsToken, { body: req })).body;
  }

  /**
   * Subscribes a webhook to the supply alert feed (same signers as {@link supplyAlertsToken});
   * deliveries are signed as for patient events. The secret is returned once.
   */
  async createSupplySubscription(identity: Identity, url: string): Promise<{ id: string; secret: string }> {
    const req = this.sign(identity, 'subscription.create', { feed: 'supply', url });
    return (await this.call<{ id: string; secret: string }>(Routes.createSubscription, { body: req })).body;
  }

  /** A page of the supply alert feed after `after`; pass `next` back as `after`. */
  async supplyAlerts(token: string, after?: number, limit?: number): Promise<EventsPageWire> {
    return this.bearerGet<EventsPageWire>(Routes.supplyAlerts, token, {}, { after, limit });
  }

  /**
   * The nodes' signed attestations for `height` and this node's cross-organization check. Each
   * attestation's signature is verified here against the genesis node keys; unsigned or forged ones
   * are dropped.
   */
  async attestations(height: number): Promise<AttestationsWire> {
    const r = (await this.call<AttestationsWire>(Routes.attestations, { query: { height } })).body;
    this.validatedGenesis ??= validateGenesis(this.opts.genesis);
    const g = this.validatedGenesis;
    return { ...r, attestations: r.attestations.filter((a) => attestationOrg(a, g) !== null) };
  }

  async health(): Promise<{ status: string; head: ChainHeadWire } & Record<string, unknown>> {
    return (await this.call<{ status: string; head: ChainHeadWire }>(Routes.health)).body;
  }
}

/** One event recorded by {@link HealthLedgerClient.captureEpcis}. */
export interface SupplyCaptureResult {
  eventHash: string;
  txId: string;
  /** The validation code (`VALID`, or why custody rules refused it). */
  code: string;
  /** Alerts the event raised (suspect packages, now quarantined). */
  alerts: string[];
}

/** One event's outcome at the node's EPCIS intake. */
export type SupplyFactsResultWire =
  | { index: number; ok: true; facts: SupplyFacts }
  | { index: number; ok: false; code: string; message: string };

/** What an applied supply transaction recorded. */
export interface SupplyEventWire {
  eventHash: string | null;
  step: string;
  org: string;
  epcs: string[];
  parent: string | null;
  alerts: string[];
  height: number;
}

/** A VRS-shaped verification response. */
export interface VerifyResponseWire {
  corrUUID?: string;
  verificationTimestamp: string;
  data: { verified: boolean; additionalInfo?: string };
  detail: {
    verified: boolean;
    reason: string | null;
    status?: string;
    alert?: string;
    lastTx?: string;
    height: number;
  };
}

/** A package's timeline as the node serves it. */
export interface SupplyTimelineWire {
  epc: string;
  record: Record<string, unknown>;
  lot: Record<string, unknown> | null;
  alert: Record<string, unknown> | null;
  height: number;
  entries: {
    txId: string;
    height: number;
    step: string;
    org: string;
    eventHash: string | null;
    alerts: string[];
    via: string | null;
  }[];
}

/** The chain head a node reports in `/health`. */
export interface ChainHeadWire {
  height: number;
  hash: string;
  stateRoot: string;
  logSize: number;
  logRoot: string;
  timestampMs: number;
}

/**
 * What a node releases under a committed grant: its own custodian's records, and — on a network of
 * several organizations — what the other organizations' custodians released for the same request.
 */
export interface ReleaseResponseWire {
  grant: Record<string, unknown>;
  release: ReleaseBundle;
  others?: { org: string; release: ReleaseBundle }[];
  /** Organizations whose nodes did not answer (with the reason). */
  unavailable?: { org: string; reason: string }[];
}

/** A node's signed statement about one block (see `protocol/attestation.ts`). */
export type AttestationWire = Attestation & { org?: string };

/** `GET /v1/attestations`: every node's attestation of a height, and this node's check. */
export interface AttestationsWire {
  height: number;
  attestations: AttestationWire[];
  status: { confirmedHeight: number; divergedAt: number | null; reason: string | null } | null;
}
