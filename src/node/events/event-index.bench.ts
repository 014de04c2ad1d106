/**
 * Page-read latency of the patient event index at scale. Not run by the tests (millions of rows
 * take a while to write): run it directly,
 *
 *     node --import tsx src/node/events/event-index.bench.ts [entries] [patients]
 *
 * or import {@link benchTrail}. The target is p99 < 20 ms for a page read with 10M entries.
 * @module
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { PAGE_SQL, openEventsDb } from './event-index.js';

const TYPES = [
  [
    'access.request',
    'VALID',
    '{"purpose":"treatment","grant":"consent","consentId":"travel","expiresAtMs":1767225600000}',
  ],
  ['access.request', 'NO_CONSENT', '{"purpose":"treatment"}'],
  ['consent.grant', 'VALID', '{"consentId":"care-2026","purposes":["treatment","emergency"]}'],
  ['record.register', 'VALID', '{"recordId":"3f1c2a9e-5b7d-4e21-9a0b-6c4d8e2f1a37","version":1}'],
  [
    'access.break-glass',
    'VALID',
    '{"purpose":"emergency","durationMs":14400000,"expiresAtMs":1767225600000}',
  ],
] as const;

export interface TrailBenchResult {
  entries: number;
  patients: number;
  /** Rows written per second while filling (one SQLite transaction per 20k rows). */
  insert_per_s: number;
  /** Page reads measured (limit 100; half from the start of a trail, half from its middle). */
  reads: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  file_mb: number;
}

/**
 * Fills a fresh index with `entries` synthetic events spread uniformly over `patients`
 * (realistic ids and detail sizes, increasing seq as the ledger assigns it), then times
 * `reads` page queries (`patient = ? AND seq > ? ORDER BY seq LIMIT 100`) for random patients.
 *
 * @example const r = benchTrail({ entries: 1_000_000, patients: 50_000 })
 */
export function benchTrail(opts: { entries: number; patients: number; reads?: number }): TrailBenchResult {
  const { entries, patients } = opts;
  const reads = opts.reads ?? 2000;
  const dir = mkdtempSync(join(tmpdir(), 'hl-events-bench-'));
  const path = join(dir, 'events.sqlite');
  const db = openEventsDb(path);
  try {
    const patient = (i: number) => `org-${i % 7}/p-${(i * 2654435761) % 4294967296}`;
    const insert = db.prepare(
      'INSERT INTO events (seq, patient, height, tx_id, type, code, actor, at_ms, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const hex = (n: number) => n.toString(16).padStart(16, '0');
    const t0 = performance.now();
    const CHUNK = 20_000;
    for (let start = 0; start < entries; start += CHUNK) {
      db.transaction(() => {
        for (let i = start; i < Math.min(entries, start + CHUNK); i++) {
          const [type, code, detail] = TYPES[i % TYPES.length]!;
          const seq = i * 3 + 1;
          insert.run(
            seq,
            patient(Math.floor(rand() * patients)),
            Math.floor(i / 50) + 1,
            hex(i).repeat(4),
            type,
            code,
            `org-${i % 5}/dr-${i % 997}`,
            1_767_225_600_000 + i * 10,
            detail,
          );
        }
      })();
    }
    const insertSeconds = (performance.now() - t0) / 1000;
    const page = db.prepare(PAGE_SQL);
    const perPatient = entries / patients;
    // Warm-up, as a long-running node would be.
    for (let i = 0; i < 200; i++) page.all(patient(i % patients), 0, 100);
    const times: number[] = [];
    for (let i = 0; i < reads; i++) {
      const p = patient(Math.floor(rand() * patients));
      // Half from the start of the trail, half from a cursor in the middle of the seq range.
      const after = i % 2 === 0 ? 0 : Math.floor(rand() * entries * 3);
      const t = performance.now();
      const rows = page.all(p, after, 100);
      times.push(performance.now() - t);
      if (i % 2 === 0 && perPatient >= 200 && rows.length === 0) throw new Error('bench: empty page');
    }
    times.sort((a, b) => a - b);
    const q = (f: number) =>
      Math.round(times[Math.min(times.length - 1, Math.floor(f * times.length))]! * 1000) / 1000;
    db.pragma('wal_checkpoint(TRUNCATE)');
    return {
      entries,
      patients,
      insert_per_s: Math.round(entries / insertSeconds),
      reads,
      p50_ms: q(0.5),
      p99_ms: q(0.99),
      max_ms: q(1),
      file_mb: Math.round(statSync(path).size / 1e5) / 10,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const entries = Number(process.argv[2] ?? 1_000_000);
  const patients = Number(process.argv[3] ?? Math.max(1, Math.round(entries / 200)));
  console.log(JSON.stringify(benchTrail({ entries, patients })));
}
