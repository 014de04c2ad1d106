/**
 * Payload schemas (ADR 0013). Each contract declares its payload's structure once, as a TypeBox
 * schema beside it: the OpenAPI description and docs publish it, and `parse` checks it with the
 * check TypeBox compiles from it once, at load. What a schema cannot state (check digits, distinct
 * items, one field relative to another) stays in `parse`, by hand.
 *
 * Which payloads are valid is consensus, so the validator is pinned to an exact version in
 * package.json and vectors/payloads-v1.json records the outcome for every transaction type.
 * @module
 */
import {
  Type as T,
  type Static,
  type TArray,
  type TInteger,
  type TLiteral,
  type TObject,
  type TProperties,
  type TSchema,
  type TString,
  type TUnion,
} from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { TypeSystemPolicy } from '@sinclair/typebox/system';
import type { InvalidPayload } from './contract.js';

/** A payload schema with its compiled structural check. */
export interface PayloadSchema<S extends TSchema> {
  /** The schema as published (JSON Schema). */
  readonly schema: S;
  /** True if `payload` has the schema's structure. */
  check(payload: unknown): payload is Static<S>;
  /** Why `payload` fails the structure (only called on failure: errors are not collected on the hot path). */
  invalid(payload: unknown): InvalidPayload;
}

/**
 * Compiles `schema` once. TypeBox's policy is process-global and read while compiling; anything
 * but the defaults would change which payloads pass, so compiling refuses it.
 */
export function compilePayload<S extends TSchema>(schema: S): PayloadSchema<S> {
  if (
    TypeSystemPolicy.ExactOptionalPropertyTypes ||
    TypeSystemPolicy.AllowArrayObject ||
    TypeSystemPolicy.AllowNaN ||
    TypeSystemPolicy.AllowNullVoid
  )
    throw new Error('TypeBox TypeSystemPolicy changed: payload validity would change (ADR 0013)');
  const compiled = TypeCompiler.Compile(schema);
  return {
    schema,
    check: (payload): payload is Static<S> => compiled.Check(payload),
    invalid(payload) {
      const e = compiled.Errors(payload).First();
      return { invalid: e === undefined ? 'invalid payload' : `${e.path || '/'}: ${e.message}` };
    },
  };
}

/** A closed object: unknown fields are refused. */
export function closedObject<P extends TProperties>(properties: P, description?: string): TObject<P> {
  return T.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
}

/** A string matching `re` (its source; flags would be dropped, so none are allowed). */
export function matching(re: RegExp, options: { description?: string; maxLength?: number } = {}): TString {
  if (re.flags !== '') throw new TypeError(`payload pattern ${re} must have no flags`);
  return T.String({ pattern: re.source, ...options });
}

/** An integer in [`minimum`, `maximum`], by default up to 2^53 − 1 (what `Number.isSafeInteger` allows). */
export function integer(minimum: number, maximum = Number.MAX_SAFE_INTEGER, description?: string): TInteger {
  return T.Integer({ minimum, maximum, ...(description ? { description } : {}) });
}

/** One of a fixed list of strings. */
export function oneOf<V extends string>(values: readonly V[]): TUnion<TLiteral<V>[]> {
  return T.Union(values.map((v) => T.Literal(v)));
}

/**
 * An array of at most `maxItems` items. Items meant to be distinct say so in the description and
 * `parse` checks it with {@link distinct}: TypeBox's `uniqueItems` hashes every item (slow on the
 * hot path, and a hash is not exact).
 */
export function list<S extends TSchema>(
  items: S,
  maxItems: number,
  options: { minItems?: number; description?: string } = {},
): TArray<S> {
  return T.Array(items, { maxItems, ...options });
}

/** True if no two items are equal (strings, compared exactly). */
export function distinct(items: readonly unknown[]): boolean {
  return new Set(items).size === items.length;
}
