/**
 * The clinician's view: find a patient, request access for a purpose, see what the consent
 * allows (or why access was denied), open the records — decrypted here with the clinician's key;
 * and the emergency (break-glass) flow with its reason and time limit.
 * @module
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { Resource } from '@medplum/fhirtypes';
import { fromBase64Url } from '../../../protocol/bytes.js';
import { PURPOSES } from '../core/vocabulary.js';
import { openReleased } from '../sdk/index.js';
import { describe } from './patient-view.js';
import { errorText, explain, fmtTime, useSession } from '../../../portal/session.js';

interface Outcome {
  kind: 'granted' | 'denied' | 'emergency';
  txId: string;
  code: string;
  grant?: Record<string, unknown>;
  records?: Resource[];
  expiresAtMs?: number;
}

export function ClinicianView() {
  const s = useSession();
  const [patient, setPatient] = useState('');
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  const open = async (txId: string): Promise<{ grant: Record<string, unknown>; records: Resource[] }> => {
    if (!s.vault?.encryption)
      throw new Error('Your record key is not in this vault: import your .enc.json file.');
    const rel = await s.client.health.releaseRecords(s.identity!, txId);
    const key = fromBase64Url(s.vault.encryption.privateKey);
    // This node's custodian's records, then what other organizations' custodians released.
    const bundles = [rel.release, ...(rel.others ?? []).map((o) => o.release)];
    const records: Resource[] = [];
    for (const b of bundles)
      records.push(...((await openReleased(b, s.identity!.memberId, key)) as unknown as Resource[]));
    return { grant: rel.grant, records };
  };

  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const request = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    void run(async () => {
      const categories = String(f.get('categories'))
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const c = await s.client.submitAndWait(
        s.client.sign(s.identity!, 'access.request', {
          patient,
          purpose: String(f.get('purpose')),
          ...(categories.length ? { categories } : {}),
        }),
      );
      if (c.code !== 'VALID') return setOutcome({ kind: 'denied', txId: c.txId, code: c.code });
      setOutcome({ kind: 'granted', txId: c.txId, code: c.code, ...(await open(c.txId)) });
    });
  };

  const breakGlass = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    void run(async () => {
      const durationMs = Number(f.get('hours')) * 3600_000;
      const c = await s.client.submitAndWait(
        s.client.sign(s.identity!, 'access.break-glass', {
          patient,
          reason: String(f.get('reason')),
          durationMs,
        }),
      );
      if (c.code !== 'VALID') return setOutcome({ kind: 'denied', txId: c.txId, code: c.code });
      setOutcome({
        kind: 'emergency',
        txId: c.txId,
        code: c.code,
        expiresAtMs: Date.now() + durationMs,
        ...(await open(c.txId)),
      });
    });
  };

  const scope = outcome?.grant?.['scope'] as { categories?: string[]; resourceTypes?: string[] } | undefined;
  return (
    <section aria-labelledby="clinician-title" className="stack">
      <h1 id="clinician-title">Patients</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <form className="card grid" onSubmit={request} aria-labelledby="request-title">
        <h2 id="request-title">Request access</h2>
        <label>
          Patient (member id)
          <input
            name="patient"
            value={patient}
            onChange={(e) => setPatient(e.target.value.trim())}
            placeholder="st-mary/patient-dana"
            required
          />
        </label>
        <label>
          Purpose
          <select name="purpose" defaultValue="treatment">
            {PURPOSES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          Categories (optional, comma-separated)
          <input name="categories" placeholder="diabetes" />
        </label>
        <button type="submit" disabled={busy || !patient}>
          Request access
        </button>
      </form>

      {outcome && (
        <article
          className={`card outcome ${outcome.kind}`}
          aria-live="polite"
          aria-labelledby="outcome-title"
        >
          <h2 id="outcome-title">
            {outcome.kind === 'denied'
              ? 'Access denied'
              : outcome.kind === 'emergency'
                ? 'Emergency access granted'
                : 'Access granted'}
          </h2>
          {outcome.kind === 'denied' ? (
            <p>
              <strong>{outcome.code}</strong>: {explain(outcome.code)}
            </p>
          ) : (
            <>
              {outcome.kind === 'emergency' && outcome.expiresAtMs !== undefined && (
                <p className="warning">
                  Emergency summary only, audited and reported to the patient. Access ends{' '}
                  {fmtTime(outcome.expiresAtMs)} (
                  {Math.max(0, Math.round((outcome.expiresAtMs - now) / 60_000))} min left).
                </p>
              )}
              {outcome.kind === 'granted' && (
                <p>
                  The consent allows: {scope?.categories?.join(', ') || 'all non-sensitive categories'}
                  {outcome.grant?.['consentId'] ? ` (consent ${String(outcome.grant['consentId'])})` : ''}.
                </p>
              )}
              <ul className="list" aria-label="Released records">
                {(outcome.records ?? []).map((r, i) => (
                  <li key={i}>{describe(r)}</li>
                ))}
                {outcome.records?.length === 0 && <li className="muted">No records in scope.</li>}
              </ul>
            </>
          )}
          <p className="muted mono">Ledger entry {outcome.txId}</p>
        </article>
      )}

      <form className="card grid emergency" onSubmit={breakGlass} aria-labelledby="bg-title">
        <h2 id="bg-title">Emergency access (break-glass)</h2>
        <p className="muted">
          For an unconscious or unreachable patient. Every use is recorded on the ledger, the patient is
          notified at once, and it is reviewed.
        </p>
        <label>
          Reason (at least 10 characters)
          <textarea name="reason" minLength={10} maxLength={500} required />
        </label>
        <label>
          Time limit
          <select name="hours" defaultValue="4">
            <option value="1">1 hour</option>
            <option value="4">4 hours</option>
            <option value="12">12 hours</option>
            <option value="24">24 hours (maximum)</option>
          </select>
        </label>
        <button type="submit" className="danger" disabled={busy || !patient}>
          Break the glass
        </button>
      </form>
    </section>
  );
}
