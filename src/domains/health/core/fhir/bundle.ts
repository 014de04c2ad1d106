/**
 * Importing FHIR Bundles: split a validated Bundle into the resources it carries, then give them
 * the ids our record store will use while keeping every intra-bundle reference pointing at the
 * right record. A transaction from an EHR or Synthea links its entries with `urn:uuid:`
 * fullUrls that mean nothing after import; left as they are, a Condition's subject would dangle.
 *
 * Accepted bundle types: transaction, batch (entries must be POST or PUT with a resource — a
 * DELETE or GET cannot be "imported", and silently dropping it would lose intent), collection,
 * searchset (entries with `search.mode = outcome` are skipped: they are OperationOutcomes about
 * the search, not data). document, message, history and *-response bundles are refused.
 */
import type {
  Bundle,
  BundleEntry,
  OperationOutcome,
  OperationOutcomeIssue,
  Resource,
} from '@medplum/fhirtypes';
import { validateFhir } from './validate.js';

/** One resource carried by a bundle, with the fullUrl other entries may use to refer to it. */
export interface BundleResourceEntry {
  fullUrl?: string;
  resource: Resource;
}

/** A bundle that cannot be imported; `outcome` names each problem with a FHIRPath expression. */
export class FhirBundleError extends Error {
  readonly outcome: OperationOutcome;
  constructor(outcome: OperationOutcome) {
    const first = outcome.issue?.[0];
    super(`bundle rejected: ${first?.details?.text ?? 'invalid'} at ${first?.expression?.[0] ?? 'Bundle'}`);
    this.name = 'FhirBundleError';
    this.outcome = outcome;
  }
}

/** Bundle types {@link entriesOfTransactionBundle} accepts. */
export const IMPORTABLE_BUNDLE_TYPES = ['transaction', 'batch', 'collection', 'searchset'] as const;

/**
 * Validate `bundle` (the bundle and every entry, via validateFhir) and return its resources in
 * entry order, from a fresh copy. Throws {@link FhirBundleError} with an OperationOutcome on any
 * problem, all problems at once.
 *
 * @example
 * const entries = entriesOfTransactionBundle(JSON.parse(body));
 * const { resources } = resolveReferences(entries, () => crypto.randomUUID());
 */
export function entriesOfTransactionBundle(bundle: unknown): BundleResourceEntry[] {
  const v = validateFhir(bundle);
  if (!v.ok) throw new FhirBundleError(v.outcome);
  if (v.resource.resourceType !== 'Bundle') {
    throw bundleError([issue('invalid', `${v.resource.resourceType}.resourceType`, 'expected a Bundle')]);
  }
  const b: Bundle = v.resource;
  const type = b.type;
  if (!(IMPORTABLE_BUNDLE_TYPES as readonly string[]).includes(type)) {
    throw bundleError([
      issue(
        'not-supported',
        'Bundle.type',
        `"${type}" bundles cannot be imported (${IMPORTABLE_BUNDLE_TYPES.join(', ')})`,
      ),
    ]);
  }
  const issues: OperationOutcomeIssue[] = [];
  const out: BundleResourceEntry[] = [];
  (b.entry ?? []).forEach((entry: BundleEntry, i: number) => {
    const at = `Bundle.entry[${i}]`;
    if (type === 'searchset' && entry.search?.mode === 'outcome') return;
    if (type === 'transaction' || type === 'batch') {
      const method = entry.request?.method;
      if (method !== 'POST' && method !== 'PUT') {
        issues.push(
          issue(
            'not-supported',
            `${at}.request.method`,
            `only POST and PUT entries can be imported, got ${method}`,
          ),
        );
        return;
      }
      const target = requestType(entry.request?.url ?? '');
      if (entry.resource && target !== entry.resource.resourceType) {
        issues.push(
          issue(
            'invalid',
            `${at}.request.url`,
            `${entry.request?.url} does not match ${entry.resource.resourceType}`,
          ),
        );
      }
    }
    if (!entry.resource) {
      issues.push(issue('required', `${at}.resource`, 'entry has no resource'));
      return;
    }
    if (entry.fullUrl !== undefined) {
      // bdl-7 (unique fullUrls) is a Bundle invariant Medplum already enforced above.
      const rest = restTail(entry.fullUrl);
      if (
        rest &&
        entry.resource.id !== undefined &&
        rest !== `${entry.resource.resourceType}/${entry.resource.id}`
      ) {
        issues.push(
          issue(
            'invalid',
            `${at}.fullUrl`,
            `fullUrl ends in ${rest} but the resource is ${entry.resource.resourceType}/${entry.resource.id}`,
          ),
        );
      }
    }
    out.push(
      entry.fullUrl === undefined
        ? { resource: entry.resource }
        : { fullUrl: entry.fullUrl, resource: entry.resource },
    );
  });
  if (issues.length > 0) throw bundleError(issues);
  return out;
}

/** The result of {@link resolveReferences}. */
export interface ResolvedEntries {
  /** Deep copies of the entries' resources, in order, each with its assigned `id`. */
  resources: Resource[];
  /** Every fullUrl (and original `Type/id`) → the `Type/newId` it now resolves to. */
  ids: ReadonlyMap<string, string>;
}

/**
 * Assign each entry the id from `newId` (called once per entry, in order; return `resource.id`
 * to keep an id) and rewrite every `reference` that points at an entry — and any nested `url`
 * element (e.g. Attachment.url) equal to an entry's `urn:` fullUrl — to `Type/newId`. A reference points at an entry if it equals the
 * entry's fullUrl, or is relative `Type/id` and resolves against the referring entry's RESTful
 * fullUrl base to one — or, when the referring entry has no such base (urn: or no fullUrl),
 * matches one entry's `Type/id`. A versioned reference
 * (`…/_history/2`) picks the entry with that meta.versionId and loses the version, since the
 * imported copy starts a new history. `#contained` and external references are left alone.
 *
 * Throws {@link FhirBundleError} for a `urn:uuid:`/`urn:oid:` reference that matches no entry or a
 * reference matching several; throws RangeError if `newId` returns an invalid or repeated id.
 * Does not modify `entries`.
 *
 * @example
 * resolveReferences([{ fullUrl: 'urn:uuid:1…', resource: patient }, { resource: obs }], (r, i) => `p${i}`)
 * // obs.subject.reference 'urn:uuid:1…' → 'Patient/p0'
 */
export function resolveReferences(
  entries: readonly BundleResourceEntry[],
  newId: (resource: Resource, index: number) => string,
): ResolvedEntries {
  const targets = entries.map((e, i) => {
    const id = newId(e.resource, i);
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id))
      throw new RangeError(`newId returned an invalid FHIR id: ${JSON.stringify(id)}`);
    return { entry: e, index: i, newRef: `${e.resource.resourceType}/${id}`, id };
  });
  const assigned = new Set<string>();
  for (const t of targets) {
    if (assigned.has(t.newRef)) throw new RangeError(`newId returned ${t.newRef} twice`);
    assigned.add(t.newRef);
  }

  type Target = (typeof targets)[number];
  const byFullUrl = new Map<string, Target[]>();
  const byTypeId = new Map<string, Target[]>();
  const push = (m: Map<string, Target[]>, k: string, t: Target): void => {
    m.set(k, [...(m.get(k) ?? []), t]);
  };
  for (const t of targets) {
    if (t.entry.fullUrl !== undefined) push(byFullUrl, t.entry.fullUrl, t);
    if (t.entry.resource.id !== undefined)
      push(byTypeId, `${t.entry.resource.resourceType}/${t.entry.resource.id}`, t);
  }
  const ids = new Map<string, string>();
  for (const [k, ts] of [...byFullUrl, ...byTypeId]) if (ts.length === 1 && ts[0]) ids.set(k, ts[0].newRef);

  const issues: OperationOutcomeIssue[] = [];
  const resolve = (ref: string, from: Target, path: string): string | undefined => {
    if (ref.startsWith('#')) return undefined;
    const m = /^(.*?)\/_history\/([^/]+)$/.exec(ref);
    const bare = m?.[1] ?? ref;
    const version = m?.[2];
    let candidates = byFullUrl.get(bare);
    if (!candidates && RELATIVE.test(bare)) {
      // FHIR: a relative reference resolves against the referring entry's service base; only
      // an entry without one (urn: or no fullUrl) falls back to matching Type/id in the bundle.
      const base = from.entry.fullUrl ? restBase(from.entry.fullUrl) : undefined;
      candidates = base ? byFullUrl.get(`${base}/${bare}`) : byTypeId.get(bare);
    }
    if (candidates && candidates.length > 1 && version !== undefined) {
      candidates = candidates.filter((c) => c.entry.resource.meta?.versionId === version);
    }
    if (!candidates || candidates.length === 0) {
      if (/^urn:(uuid|oid):/.test(ref))
        issues.push(issue('not-found', path, `${ref} matches no entry in the bundle`));
      return undefined;
    }
    const only = candidates[0];
    if (candidates.length > 1 || !only) {
      issues.push(issue('multiple-matches', path, `${ref} matches ${candidates.length} entries`));
      return undefined;
    }
    return only.newRef;
  };

  const resources = targets.map((t) => {
    const copy = structuredClone(t.entry.resource);
    copy.id = t.id;
    const walk = (value: unknown, path: string, root: boolean): void => {
      if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}[${i}]`, false));
      if (typeof value !== 'object' || value === null) return;
      const obj = value as Record<string, unknown>;
      for (const [k, v] of Object.entries(obj)) {
        if ((k === 'reference' || k === 'url') && typeof v === 'string') {
          // A root-level url is the resource's canonical identity, never a link.
          const to = k === 'reference' ? resolve(v, t, `${path}.${k}`) : root ? undefined : urnUrl(v);
          if (to !== undefined) obj[k] = to;
        } else walk(v, `${path}.${k}`, false);
      }
    };
    walk(copy, `entry[${t.index}].resource`, true);
    return copy;
  });
  if (issues.length > 0) throw bundleError(issues);
  return { resources, ids };

  // Nested url elements (Attachment.url → a Binary in the bundle) are rewritten only for an exact,
  // unambiguous urn: fullUrl; http(s) urls are often canonical identities and must not change.
  function urnUrl(url: string): string | undefined {
    const ts = /^urn:(uuid|oid):/.test(url) ? byFullUrl.get(url) : undefined;
    return ts?.length === 1 ? ts[0]?.newRef : undefined;
  }
}

/** The resource type a request URL addresses: `Type`, `Type/id`, `Type?query`, or absolute. */
function requestType(url: string): string | undefined {
  const path = url.split('?')[0] ?? '';
  if (!/^https?:\/\//.test(path)) return path.split('/')[0];
  return /\/([A-Z][A-Za-z]+)(?:\/[A-Za-z0-9\-.]{1,64})?$/.exec(path)?.[1];
}

const RELATIVE = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;

/** `Type/id` at the end of a RESTful absolute URL (http/https), else undefined. */
function restTail(url: string): string | undefined {
  const m = /^https?:\/\/.*\/([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(url);
  return m?.[1];
}

/** The service base of a RESTful absolute fullUrl (everything before `/Type/id`). */
function restBase(url: string): string | undefined {
  const m = /^(https?:\/\/.*)\/[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.exec(url);
  return m?.[1];
}

function issue(code: OperationOutcomeIssue['code'], expression: string, text: string): OperationOutcomeIssue {
  return { severity: 'error', code, details: { text }, expression: [expression] };
}

function bundleError(issues: OperationOutcomeIssue[]): FhirBundleError {
  return new FhirBundleError({ resourceType: 'OperationOutcome', issue: issues });
}
