/**
 * The supply-chain read side of a node: product verification (DSCSA VRS shape), package
 * timelines, alerts, and EPCIS intake (schema validation, CBV event hash, ledger facts). Every
 * answer is read from this node's own copy of the ledger state, so any organization's node can
 * serve it; writes go through signed `supply.*` transactions like everything else.
 * @module
 */
import { readFileSync } from 'node:fs';
import { HealthLedgerError } from '../../../protocol/errors.js';
// Registers the supply codes thrown here (this also runs in verification servers, without the registry).
import '../core/errors.js';
import { createEpcisValidator, type EpcisEvent, type EpcisValidator } from '../core/epcis.js';
import { SupplyFactError, supplyFactsOf, type SupplyFacts } from '../core/facts.js';
import { Gs1Error, isValidGtin, isValidLot, isValidSerial, parseGs1Identifier } from '../core/gs1.js';
import { SupplyKeys, isIsoDate, readState, type AlertRecord, type EventRecord } from '../contracts/model.js';
import { timeline, type Timeline } from '../contracts/timeline.js';
import { verifyProduct, type VerificationAnswer } from '../contracts/verify.js';
import type { Clock } from '../../../node/ordering/orderer.js';

/** What the service reads: committed state and the chain head. */
export interface SupplyStateSource {
  getState(key: string): string | undefined;
  chainHead(): { height: number };
  /** Called after each committed block (state changes only then). */
  onBlock(listener: () => void): () => void;
}

export interface SupplyServiceOptions {
  clock: Clock;
  /** The EPCIS 2.0 JSON Schema (parsed), for EPCIS intake; intake answers 503 without it. */
  epcisSchema?: object;
}

/** A verification request as the VRS sends it (GS1 Digital Link path + query). */
export interface VerifyRequest {
  gtin: string;
  lot: string;
  serial: string;
  /** GS1 AI 17 `YYMMDD`. */
  exp?: string;
  /** `YYYY-MM-DD`. */
  expiry?: string;
  corrUUID?: string;
}

/** The VRS-shaped response: `data.verified` and `data.additionalInfo`, plus the ledger facts. */
export interface VerifyResponse {
  corrUUID?: string;
  verificationTimestamp: string;
  data: { verified: boolean; additionalInfo?: string };
  /** The answer with its facts, at `height`. */
  detail: VerificationAnswer & { height: number };
}

/** One EPCIS event's outcome at intake. */
export type FactsResult =
  | { index: number; ok: true; facts: SupplyFacts }
  | { index: number; ok: false; code: string; message: string; eventHash?: string };

/**
 * Reads the EPCIS schema from `path` (default: `HEALTHLEDGER_EPCIS_SCHEMA`); undefined if unset
 * or unreadable, so a node without it still serves everything but EPCIS intake.
 */
export function loadEpcisSchema(path = process.env['HEALTHLEDGER_EPCIS_SCHEMA']): object | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as object;
  } catch {
    return undefined;
  }
}

/** YYMMDD → YYYY-MM-DD (GS1 General Specifications §7.12: the century is within −49…+50 years). */
function expiryFromYymmdd(yymmdd: string, nowMs: number): string {
  const yy = Number(yymmdd.slice(0, 2));
  const thisYear = new Date(nowMs).getUTCFullYear();
  let year = Math.floor(thisYear / 100) * 100 + yy;
  if (year - thisYear >= 51) year -= 100;
  else if (thisYear - year > 49) year += 100;
  let day = yymmdd.slice(4, 6);
  // DD = 00 means the last day of the month (§7.12).
  if (day === '00') {
    const month = Number(yymmdd.slice(2, 4));
    day = String(new Date(Date.UTC(year, month, 0)).getUTCDate()).padStart(2, '0');
  }
  return `${year}-${yymmdd.slice(2, 4)}-${day}`;
}

export class SupplyService {
  private readonly validateEpcis: EpcisValidator | undefined;
  /**
   * Lot records read during verification: few lots, many packages each. State changes only when
   * a block commits, so the cache is dropped on every block and never serves a stale recall.
   */
  private lots = new Map<string, string | undefined>();
  private readonly read = (key: string): string | undefined => {
    if (!key.startsWith('supply/lot/')) return this.state.getState(key);
    if (this.lots.has(key)) return this.lots.get(key);
    const v = this.state.getState(key);
    if (this.lots.size >= 10_000) this.lots.clear();
    this.lots.set(key, v);
    return v;
  };
  private readonly unsubscribe: () => void;

  constructor(
    private readonly state: SupplyStateSource,
    private readonly opts: SupplyServiceOptions,
  ) {
    this.validateEpcis = opts.epcisSchema ? createEpcisValidator(opts.epcisSchema) : undefined;
    this.unsubscribe = state.onBlock(() => {
      this.lots = new Map();
    });
  }

  /** Stops following blocks. */
  close(): void {
    this.unsubscribe();
  }

  /**
   * Verifies a product identifier. Malformed input is a 400 (`BAD_GS1_KEY`); an unknown serial
   * is a normal answer (`verified: false`), as the VRS requires.
   */
  verify(req: VerifyRequest): VerifyResponse {
    // The head first: a read-only source notices the node's commits here (and drops caches).
    const height = this.state.chainHead().height;
    const nowMs = this.opts.clock.now();
    const gtin = req.gtin.padStart(14, '0');
    if (!isValidGtin(gtin))
      throw new HealthLedgerError('BAD_GS1_KEY', `GTIN ${req.gtin}: check digit or length`, {
        gs1: 'BAD_CHECK_DIGIT',
      });
    if (!isValidSerial(req.serial))
      throw new HealthLedgerError('BAD_GS1_KEY', 'serial: 1–20 characters of GS1 CSET 82', {
        gs1: 'BAD_CHARACTERS',
      });
    if (!isValidLot(req.lot))
      throw new HealthLedgerError('BAD_GS1_KEY', 'lot: 1–20 characters of GS1 CSET 82', {
        gs1: 'BAD_CHARACTERS',
      });
    let expiry = req.expiry;
    if (expiry === undefined && req.exp !== undefined) expiry = expiryFromYymmdd(req.exp, nowMs);
    if (expiry === undefined || !isIsoDate(expiry))
      throw new HealthLedgerError(
        'MALFORMED_REQUEST',
        'a valid expiry date is required: ?exp=YYMMDD (GS1 AI 17) or ?expiry=YYYY-MM-DD',
      );
    const answer = verifyProduct(
      this.read,
      {
        gtin,
        serial: req.serial,
        lot: req.lot,
        expiry,
      },
      nowMs,
    );
    return {
      ...(req.corrUUID !== undefined ? { corrUUID: req.corrUUID } : {}),
      verificationTimestamp: new Date(nowMs).toISOString(),
      data: answer.verified ? { verified: true } : { verified: false, additionalInfo: answer.reason! },
      detail: { ...answer, height },
    };
  }

  /** A package's or container's timeline; `id` in any GS1 form (EPC URI, Digital Link, canonical). */
  history(id: string): Timeline & { height: number } {
    const height = this.state.chainHead().height;
    const epc = canonicalId(id);
    const t = timeline((k) => this.state.getState(k), epc);
    if (t === undefined) throw new HealthLedgerError('EPC_NOT_FOUND', `${epc} is not on the ledger`);
    return { ...t, height };
  }

  /** What an applied supply transaction recorded. */
  event(txId: string): EventRecord {
    const e = readState<EventRecord>((k) => this.state.getState(k), SupplyKeys.event(txId));
    if (e === undefined) throw new HealthLedgerError('SUPPLY_EVENT_NOT_FOUND');
    return e;
  }

  /** One alert by id. */
  alert(id: string): AlertRecord {
    const a = readState<AlertRecord>((k) => this.state.getState(k), SupplyKeys.alert(id));
    if (a === undefined) throw new HealthLedgerError('SUPPLY_ALERT_NOT_FOUND');
    return a;
  }

  /**
   * EPCIS intake: validates a document (or one event) against the EPCIS 2.0 JSON Schema, then
   * derives each event's hash and ledger facts. Nothing is stored: the caller signs the facts.
   */
  facts(doc: unknown): { results: FactsResult[] } {
    if (this.validateEpcis === undefined) throw new HealthLedgerError('EPCIS_SCHEMA_UNAVAILABLE');
    const v = this.validateEpcis(doc);
    if (!v.ok)
      throw new HealthLedgerError('INVALID_EPCIS', `${v.errors.length} schema error(s)`, {
        errors: v.errors.slice(0, 50),
      });
    const context =
      typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['@context'] : undefined;
    return { results: v.events.map((e, index) => factsResult(e, index, context)) };
  }
}

function factsResult(event: EpcisEvent, index: number, context: unknown): FactsResult {
  try {
    return { index, ok: true, facts: supplyFactsOf(event, context) };
  } catch (e) {
    if (e instanceof SupplyFactError) return { index, ok: false, code: e.code, message: e.message };
    throw e;
  }
}

/** Any GS1 form of a package or container id → `sgtin:…` / `sscc:…`; BAD_GS1_KEY otherwise. */
export function canonicalId(id: string): string {
  if (/^sgtin:[0-9]{14}\./.test(id) || /^sscc:[0-9]{18}$/.test(id)) {
    const inner = id.startsWith('sgtin:')
      ? `https://id.gs1.org/01/${id.slice(6, 20)}/21/${encodeURIComponent(id.slice(21))}`
      : `https://id.gs1.org/00/${id.slice(5)}`;
    return canonicalId(inner);
  }
  const parsed = parseGs1Identifier(id);
  if (parsed instanceof Gs1Error)
    throw new HealthLedgerError('BAD_GS1_KEY', `${parsed.code}: ${parsed.message}`, { gs1: parsed.code });
  if (parsed.kind === 'sgtin') return `sgtin:${parsed.gtin}.${parsed.serial}`;
  if (parsed.kind === 'sscc') return `sscc:${parsed.sscc}`;
  throw new HealthLedgerError('BAD_GS1_KEY', `a ${parsed.kind} is not a package or container`, {
    gs1: 'UNSUPPORTED_SCHEME',
  });
}
