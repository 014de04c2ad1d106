/**
 * GS1 EPCIS 2.0 JSON/JSON-LD validation (EPCIS 2.0 standard §9 "JSON/JSON-LD bindings") against the
 * standard's JSON Schema (`EPCIS-JSON-Schema.json`, draft-07). Browser-safe: the schema object is
 * passed in, so this module reads no files.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default = plugin`; `.default` works under Node and bundlers.
const addFormats = addFormatsModule.default;

/** The five EPCIS 2.0 event types (EPCIS 2.0 §7.4). Extension types are absolute URIs. */
export const EPCIS_EVENT_TYPES = [
  'ObjectEvent',
  'AggregationEvent',
  'TransformationEvent',
  'TransactionEvent',
  'AssociationEvent',
] as const;

/**
 * A schema-valid EPCIS event (EPCIS 2.0 §7.4). Only the fields every event has are typed;
 * the rest (epcList, bizStep, readPoint, sensorElementList, …) are left as `unknown`.
 *
 * @example
 * const e: EpcisEvent = { type: 'ObjectEvent', eventTime: '2019-11-01T14:00:00.000+01:00', eventTimeZoneOffset: '+01:00' };
 */
export interface EpcisEvent {
  /** One of {@link EPCIS_EVENT_TYPES}, or an extension event type URI. */
  type: string;
  eventTime: string;
  eventTimeZoneOffset: string;
  [field: string]: unknown;
}

/** One schema violation: `path` is an RFC 6901 JSON Pointer into the input (`''` = the root). */
export interface EpcisError {
  path: string;
  message: string;
}

/** The outcome of {@link EpcisValidator}: the events, or the schema errors. */
export type EpcisResult = { ok: true; events: EpcisEvent[] } | { ok: false; errors: EpcisError[] };

/**
 * Validates an EPCIS 2.0 `EPCISDocument`, `EPCISQueryDocument` or single event. Never throws.
 *
 * @example
 * const r = validateEpcis(JSON.parse(text));
 * if (!r.ok) console.log(r.errors); // [{ path: '/epcisBody/eventList/0/eventTime', message: 'must match format "date-time"' }]
 */
export type EpcisValidator = (doc: unknown) => EpcisResult;

const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

function toError(e: ErrorObject): EpcisError {
  // Point `required` at the missing member rather than at its parent.
  const missing =
    e.keyword === 'required' ? (e.params as { missingProperty?: unknown }).missingProperty : undefined;
  const path = typeof missing === 'string' ? `${e.instancePath}/${escapePointer(missing)}` : e.instancePath;
  const extra =
    e.keyword === 'propertyNames' || e.keyword === 'additionalProperties'
      ? ` (${JSON.stringify(e.params)})`
      : '';
  return { path, message: `${e.message ?? e.keyword}${extra}` };
}

function eventsOf(doc: Record<string, unknown>): EpcisEvent[] {
  const body = doc['epcisBody'] as Record<string, unknown> | undefined;
  if (doc['type'] === 'EPCISDocument') return (body?.['eventList'] as EpcisEvent[] | undefined) ?? [];
  if (doc['type'] === 'EPCISQueryDocument') {
    const results = body?.['queryResults'] as { resultsBody?: { eventList?: EpcisEvent[] } } | undefined;
    return results?.resultsBody?.eventList ?? [];
  }
  return [doc as EpcisEvent];
}

/**
 * Compiles the EPCIS 2.0 JSON Schema once (ajv draft-07 + ajv-formats for `uri` and `date-time`,
 * strict mode on — the published schema compiles without relaxations) and returns a validator.
 * JSON-LD `@context` is checked only as the schema requires (present; a URI, object or array),
 * it is not dereferenced.
 *
 * @example
 * const schema = JSON.parse(readFileSync('EPCIS-JSON-Schema.json', 'utf8'));
 * const validateEpcis = createEpcisValidator(schema);
 * validateEpcis(doc); // { ok: true, events: [...] }
 */
export function createEpcisValidator(schema: object): EpcisValidator {
  const ajv = new Ajv({ allErrors: false });
  addFormats(ajv, ['uri', 'date-time']);
  const validate: ValidateFunction = ajv.compile(schema);
  return (doc: unknown): EpcisResult => {
    try {
      if (validate(doc)) return { ok: true, events: eventsOf(doc as Record<string, unknown>) };
      const all = (validate.errors ?? []).map(toError);
      // Drop the "must match then schema" wrappers of the schema's if/then dispatch when a cause exists.
      const causes = (validate.errors ?? []).filter((e) => e.keyword !== 'if').map(toError);
      return { ok: false, errors: causes.length > 0 ? causes : all };
    } catch (e) {
      // e.g. stack overflow on a cyclic object: still a rejection, not an exception.
      return { ok: false, errors: [{ path: '', message: `validation failed: ${String(e)}` }] };
    }
  };
}
