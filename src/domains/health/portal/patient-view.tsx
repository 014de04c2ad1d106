/**
 * The patient's view: records by category and custodian (decrypted here, with the patient's own
 * key), consents (grant, see, revoke in one click), who accessed the data — each entry's inclusion
 * proof verified in this browser — with live notifications, and erasure.
 * @module
 */
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import type { Consent, Resource } from '@medplum/fhirtypes';
import { fromBase64Url } from '../../../protocol/bytes.js';
import { PURPOSES } from '../core/vocabulary.js';
import type { PatientEventWire } from '../../../protocol/api.js';
import { classify } from '../core/fhir/classify.js';
import { consentFromFhir } from '../core/fhir/consent.js';
import { openReleased } from '../sdk/index.js';
import { BarChart, LineChart, type Point } from '../../../portal/charts.js';
import { errorText, explain, fmtTime, orgName, useSession } from '../../../portal/session.js';

/** Every event kind the trail stream can carry (SSE event names). */
const EVENT_KINDS = [
  'access.granted',
  'access.denied',
  'break-glass',
  'break-glass.denied',
  'consent.granted',
  'consent.grant.refused',
  'consent.revoked',
  'consent.revoke.refused',
  'record.registered',
  'record.register.refused',
  'erasure.requested',
  'erasure.request.refused',
  'erasure.completed',
  'erasure.complete.refused',
  'proxies.set',
  'proxies.set.refused',
  'break-glass-exclusions.set',
  'break-glass-exclusions.set.refused',
  'access.ended',
  'access.end.refused',
  'disclosure',
  'disclosure.refused',
];

const KIND_TEXT: Record<string, string> = {
  'access.granted': 'Access granted',
  'access.denied': 'Access denied',
  'break-glass': 'Emergency access (break-glass)',
  'break-glass.denied': 'Emergency access refused',
  'access.ended': 'Access ended',
  disclosure: 'Records disclosed',
  'consent.granted': 'Consent granted',
  'consent.revoked': 'Consent revoked',
  'record.registered': 'Record added',
  'erasure.requested': 'Erasure requested',
  'erasure.completed': 'Records erased',
};

type Verified = 'pending' | 'verified' | 'failed';
const GLUCOSE_CODES = new Set(['2339-0', '15074-8', '2345-7']);

export function PatientView() {
  const s = useSession();
  const patient = s.identity!.memberId;
  const [records, setRecords] = useState<Resource[] | null>(null);
  const [consents, setConsents] = useState<Consent[]>([]);
  const [events, setEvents] = useState<PatientEventWire[]>([]);
  const [verified, setVerified] = useState<Record<string, Verified>>({});
  const [toasts, setToasts] = useState<string[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const act = async (f: () => Promise<string | void>) => {
    setBusy(true);
    setMessage(null);
    try {
      const m = await f();
      if (m) setMessage(m);
    } catch (e) {
      setMessage(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const loadConsents = useCallback(async () => {
    const b = await s.client.health.consents(s.identity!, patient);
    setConsents((b.entry ?? []).map((e) => e.resource!).filter(Boolean));
  }, [s, patient]);

  const verify = useCallback(
    async (txIds: string[]) => {
      for (const txId of txIds) {
        setVerified((v) => ({ ...v, [txId]: v[txId] ?? 'pending' }));
        try {
          await s.client.verifiedReceipt(txId);
          setVerified((v) => ({ ...v, [txId]: 'verified' }));
        } catch {
          setVerified((v) => ({ ...v, [txId]: 'failed' }));
        }
      }
    },
    [s],
  );

  // The trail, then live: an events token, one page, then Server-Sent Events from its cursor.
  useEffect(() => {
    let source: EventSource | null = null;
    let closed = false;
    void (async () => {
      try {
        await loadConsents();
        const { token } = await s.client.health.eventsToken(s.identity!, patient);
        const page = await s.client.health.events(patient, token, 0, 1000);
        if (closed) return;
        setEvents(page.events);
        void verify(page.events.map((e) => e.txId));
        source = new EventSource(s.client.health.eventStreamUrl(patient, token, page.next));
        const onEvent = (m: MessageEvent<string>) => {
          const e = JSON.parse(m.data) as PatientEventWire;
          setEvents((list) => (list.some((x) => x.seq === e.seq) ? list : [...list, e]));
          setToasts((t) => [...t, `${KIND_TEXT[e.kind] ?? e.kind} — ${e.actor}`]);
          void verify([e.txId]);
          if (e.type.startsWith('consent.')) void loadConsents();
        };
        for (const k of EVENT_KINDS) source.addEventListener(k, onEvent as EventListener);
      } catch (e) {
        setMessage(errorText(e));
      }
    })();
    return () => {
      closed = true;
      source?.close();
    };
  }, [s, patient, verify, loadConsents]);

  const loadRecords = () =>
    act(async () => {
      if (!s.vault?.encryption)
        throw new Error('Your record key is not in this vault: import your .enc.json file.');
      const c = await s.client.submitAndWait(
        s.client.sign(s.identity!, 'access.request', { patient, purpose: 'treatment' }),
      );
      if (c.code !== 'VALID') return `Could not open your records: ${explain(c.code)}`;
      const rel = await s.client.health.releaseRecords(s.identity!, c.txId);
      const key = fromBase64Url(s.vault.encryption.privateKey);
      // Every custodian's records: this node's, then other organizations' (fetched by this node).
      const resources: Resource[] = [];
      for (const b of [rel.release, ...(rel.others ?? []).map((o) => o.release)])
        resources.push(...((await openReleased(b, patient, key)) as unknown as Resource[]));
      setRecords(resources);
      return undefined;
    });

  const grant = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    void act(async () => {
      const kind = String(f.get('actorKind'));
      const who = String(f.get('actor')).trim();
      const specialty = String(f.get('specialty') ?? '').trim();
      const actor =
        kind === 'member'
          ? { kind: 'member', id: who }
          : kind === 'org'
            ? { kind: 'org', org: who }
            : {
                kind: 'role',
                role: String(f.get('role')),
                ...(who ? { org: who } : {}),
                ...(specialty ? { attributes: { specialty } } : {}),
              };
      const categories = String(f.get('categories'))
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const hours = Number(f.get('hours'));
      const now = Date.now();
      const r = await s.client.sendAndVerify(s.identity!, 'consent.grant', {
        id: `c-${now.toString(36)}`,
        patient,
        actor,
        categories: categories.length ? categories : ['*'],
        purposes: f.getAll('purposes').map(String),
        validFromMs: now - 60_000,
        validUntilMs: now + hours * 3600_000,
      });
      await loadConsents();
      return r.code === 'VALID' ? 'Consent granted.' : `Consent refused: ${explain(r.code)}`;
    });
  };

  const revoke = (id: string) =>
    act(async () => {
      const r = await s.client.sendAndVerify(s.identity!, 'consent.revoke', { patient, id });
      await loadConsents();
      return r.code === 'VALID'
        ? `Consent ${id} revoked: it stops working from the next block.`
        : explain(r.code);
    });

  const erase = () =>
    act(async () => {
      if (!confirm('Erase all your records at every custodian? This cannot be undone.')) return undefined;
      const r = await s.client.sendAndVerify(s.identity!, 'erasure.request', { patient });
      return r.code === 'VALID'
        ? 'Erasure requested: custodians are destroying your record keys.'
        : explain(r.code);
    });

  const byCategory = useMemo(() => {
    const groups = new Map<string, Resource[]>();
    for (const r of records ?? [])
      for (const c of classify(r).categories) groups.set(c, [...(groups.get(c) ?? []), r]);
    return [...groups].sort((a, b) => a[0].localeCompare(b[0]));
  }, [records]);

  const glucose: Point[] = useMemo(
    () =>
      (records ?? [])
        .filter(
          (r) =>
            r.resourceType === 'Observation' &&
            r.code.coding?.some((c) => c.code !== undefined && GLUCOSE_CODES.has(c.code)) &&
            r.valueQuantity?.value !== undefined,
        )
        .map((r) => {
          const o = r as Extract<Resource, { resourceType: 'Observation' }>;
          return { at: o.effectiveDateTime ?? '', value: o.valueQuantity!.value! };
        })
        .sort((a, b) => a.at.localeCompare(b.at))
        .map((p) => ({ label: p.at.slice(5, 10) || '—', value: p.value })),
    [records],
  );

  const accessesPerDay: Point[] = useMemo(() => {
    const days = new Map<string, number>();
    for (const e of events)
      if (e.type === 'access.request' || e.type === 'access.break-glass') {
        const d = new Date(e.atMs).toISOString().slice(5, 10);
        days.set(d, (days.get(d) ?? 0) + 1);
      }
    return [...days].map(([label, value]) => ({ label, value }));
  }, [events]);

  const custodian = orgName(s.genesis, s.member?.org ?? patient.split('/')[0]!);
  const accesses = events
    .filter((e) => e.type === 'access.request' || e.type === 'access.break-glass')
    .reverse();

  return (
    <section aria-labelledby="patient-title" className="stack">
      <h1 id="patient-title">My health</h1>
      <div aria-live="polite" className="toasts">
        {toasts.slice(-3).map((t, i) => (
          <div key={i} className="toast" role="status">
            <strong>New:</strong> {t}
          </div>
        ))}
      </div>
      {message && (
        <p role="alert" className="notice">
          {message}
        </p>
      )}

      <article className="card" aria-labelledby="records-title">
        <h2 id="records-title">My records</h2>
        {records === null ? (
          <button onClick={() => void loadRecords()} disabled={busy}>
            Open my records
          </button>
        ) : (
          <>
            {glucose.length > 0 && (
              <LineChart title="Blood glucose" points={glucose} unit="mg/dL" band={[70, 180]} />
            )}
            <ol className="timeline">
              {byCategory.map(([category, rs]) => (
                <li key={category}>
                  <h3>
                    {category} <span className="muted">· {custodian}</span>
                  </h3>
                  <ul>
                    {rs.map((r, i) => (
                      <li key={i}>{describe(r)}</li>
                    ))}
                  </ul>
                </li>
              ))}
            </ol>
          </>
        )}
      </article>

      <article className="card" aria-labelledby="consents-title">
        <h2 id="consents-title">Who may see my records</h2>
        <ul className="list" aria-label="Consents">
          {consents.map((c) => {
            const l = consentFromFhir(c);
            const active = c.status === 'active' && l.validUntilMs > Date.now();
            return (
              <li key={l.id} className={active ? '' : 'inactive'}>
                <div>
                  <strong>{actorText(l.actor)}</strong> — {l.categories.join(', ') || 'all'} for{' '}
                  {l.purposes.join(', ')}
                  <div className="muted">
                    {active
                      ? `until ${fmtTime(l.validUntilMs)}`
                      : c.status === 'active'
                        ? 'expired'
                        : 'revoked'}{' '}
                    · id {l.id}
                  </div>
                </div>
                {active && (
                  <button
                    className="danger"
                    onClick={() => void revoke(l.id)}
                    disabled={busy}
                    aria-label={`Revoke consent ${l.id}`}
                  >
                    Revoke
                  </button>
                )}
              </li>
            );
          })}
          {consents.length === 0 && <li className="muted">No consents yet.</li>}
        </ul>
        <form onSubmit={grant} className="grid" aria-label="Grant a consent">
          <label>
            Who
            <select name="actorKind" defaultValue="role">
              <option value="role">Everyone with a role</option>
              <option value="member">One person (member id)</option>
              <option value="org">An organization</option>
            </select>
          </label>
          <label>
            Role
            <select name="role" defaultValue="practitioner">
              <option value="practitioner">Practitioners</option>
              <option value="dispenser">Pharmacists</option>
              <option value="payer">Insurers</option>
              <option value="sponsor">Research sponsors</option>
            </select>
          </label>
          <label>
            Member id, or organization (empty = anywhere)
            <input name="actor" placeholder="city-clinic/dr-erin" />
          </label>
          <label>
            Specialty (optional)
            <input name="specialty" placeholder="emergency-medicine" />
          </label>
          <label>
            Categories (comma-separated, empty = all non-sensitive)
            <input name="categories" placeholder="diabetes, medications" />
          </label>
          <fieldset>
            <legend>Purposes</legend>
            {PURPOSES.map((p) => (
              <label key={p} className="inline">
                <input type="checkbox" name="purposes" value={p} defaultChecked={p === 'treatment'} /> {p}
              </label>
            ))}
          </fieldset>
          <label>
            For how long
            <select name="hours" defaultValue="48">
              <option value="24">24 hours</option>
              <option value="48">48 hours</option>
              <option value="168">1 week</option>
              <option value="720">30 days</option>
            </select>
          </label>
          <button type="submit" disabled={busy}>
            Grant consent
          </button>
        </form>
      </article>

      <article className="card" aria-labelledby="trail-title">
        <h2 id="trail-title">Who accessed my data</h2>
        {accessesPerDay.length > 0 && (
          <BarChart title="Accesses per day" points={accessesPerDay} unit="accesses" />
        )}
        <ul className="list" aria-label="Access trail">
          {accesses.map((e) => (
            <li key={e.seq} data-kind={e.kind}>
              <div>
                <strong>{KIND_TEXT[e.kind] ?? e.kind}</strong> — {e.actor}
                {e.detail['purpose'] ? ` for ${String(e.detail['purpose'])}` : ''}
                <div className="muted">
                  {fmtTime(e.atMs)} · block {e.height}
                  {e.code !== 'VALID' ? ` · ${explain(e.code)}` : ''}
                </div>
              </div>
              <ProofBadge state={verified[e.txId] ?? 'pending'} />
            </li>
          ))}
          {accesses.length === 0 && <li className="muted">Nobody has accessed your records.</li>}
        </ul>
      </article>

      <article className="card danger-zone" aria-labelledby="erase-title">
        <h2 id="erase-title">Erase my records</h2>
        <p>
          Every organization holding your records destroys the keys that encrypt them, so the records can
          never be read again, by anyone. The ledger keeps only that this happened: it never held your health
          data. Copies someone already opened under your consent are outside the ledger's reach — the list
          above shows who.
        </p>
        <button className="danger" onClick={() => void erase()} disabled={busy}>
          Request erasure
        </button>
      </article>
    </section>
  );
}

function ProofBadge(props: { state: Verified }) {
  const text = { pending: 'Checking proof…', verified: '✓ Proof verified', failed: '✗ Proof failed' }[
    props.state
  ];
  return (
    <span
      className={`badge ${props.state}`}
      title="Inclusion proof checked in your browser against a checkpoint signed by a consortium node"
    >
      {text}
    </span>
  );
}

function actorText(a: {
  kind: string;
  id?: string;
  org?: string;
  role?: string;
  attributes?: Record<string, string>;
}): string {
  if (a.kind === 'member') return a.id ?? '';
  if (a.kind === 'org') return `Everyone at ${a.org ?? ''}`;
  const attrs = a.attributes ? Object.values(a.attributes).join(', ') : '';
  return `${attrs ? `${attrs} ` : ''}${a.role ?? ''}s${a.org ? ` at ${a.org}` : ' anywhere'}`;
}

/** One line about a resource: its type and the most telling field. */
export function describe(r: Resource): string {
  const x = r as unknown as Record<string, unknown>;
  const concept = (x['code'] ?? x['medicationCodeableConcept']) as
    { text?: string; coding?: { display?: string; code?: string }[] } | undefined;
  const name = concept?.text ?? concept?.coding?.[0]?.display ?? concept?.coding?.[0]?.code ?? '';
  const q = x['valueQuantity'] as { value?: number; unit?: string } | undefined;
  return `${r.resourceType}${name ? `: ${name}` : ''}${q?.value !== undefined ? ` — ${q.value} ${q.unit ?? ''}` : ''}`;
}
