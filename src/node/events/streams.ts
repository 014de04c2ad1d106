/**
 * Server-Sent Events streams of a patient's trail. Each stream has a cursor (a `seq`): it
 * sends every indexed event after the cursor (the backlog), then — woken by the index when new
 * events are durable — whatever followed, so backlog and live events are one ordered sequence
 * with no gap and no repeat. Frames:
 *
 *     id: <seq>
 *     event: <kind>
 *     data: <PatientEvent as JSON>
 *
 * A comment line (`: heartbeat`) goes out every 15 s so proxies keep the connection; the stream
 * ends when the token it was opened with expires (the client reconnects with a fresh token and
 * `Last-Event-ID`), when the node shuts down, or when the client goes away. Writes respect
 * back-pressure (a slow client is never buffered without bound: it waits for `drain`).
 *
 * Works on a plain `ServerResponse` (the API hijacks Fastify's reply and hands over `reply.raw`).
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { Clock } from '../ordering/orderer.js';
import type { EventIndex, PatientEvent } from './event-index.js';

const PAGE = 256;

export interface EventStreamsOptions {
  /** Interval of heartbeat comments (default 15 s). */
  heartbeatMs?: number;
  clock: Clock;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

interface Session {
  res: ServerResponse;
  patient: string;
  cursor: number;
  pumping: boolean;
  again: boolean;
  closed: boolean;
  stillAllowed: () => boolean;
  heartbeat: NodeJS.Timeout;
  expiry: NodeJS.Timeout;
}

/** One SSE frame for an event. */
export function sseFrame(e: PatientEvent): string {
  return `id: ${e.seq}\nevent: ${e.kind}\ndata: ${JSON.stringify(e)}\n\n`;
}

export class EventStreams {
  private readonly byPatient = new Map<string, Set<Session>>();
  private readonly unsubscribe: () => void;
  private readonly heartbeatMs: number;

  constructor(
    private readonly index: Pick<EventIndex, 'page' | 'onEvents'>,
    private readonly opts: EventStreamsOptions,
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.unsubscribe = index.onEvents((events) => {
      const patients = new Set(events.map((e) => e.patient));
      for (const p of patients) for (const s of this.byPatient.get(p) ?? []) void this.pump(s);
    });
  }

  /** Open streams (for metrics and tests). */
  get size(): number {
    let n = 0;
    for (const set of this.byPatient.values()) n += set.size;
    return n;
  }

  /**
   * Starts streaming `patient`'s events after `after` on `res` (already authorized), until the
   * token expires at `expiresAtMs`, or until `stillAllowed` says no (checked on every heartbeat
   * and before every batch of events: a revoked member's stream ends).
   */
  open(
    res: ServerResponse,
    patient: string,
    after: number,
    expiresAtMs: number,
    stillAllowed: () => boolean = () => true,
  ): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      // A stream is never followed by another request: let its end close the connection.
      connection: 'close',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    res.write(': healthledger event stream\nretry: 2000\n\n');
    const session: Session = {
      res,
      patient,
      cursor: after,
      stillAllowed,
      pumping: false,
      again: false,
      closed: false,
      heartbeat: setInterval(() => {
        if (session.closed) return;
        if (!stillAllowed()) res.end(': token revoked\n\n');
        else res.write(': heartbeat\n\n');
      }, this.heartbeatMs),
      expiry: setTimeout(
        () => {
          if (!session.closed) res.end(': token expired\n\n');
        },
        Math.min(Math.max(0, expiresAtMs - this.opts.clock.now()), 2 ** 31 - 1),
      ),
    };
    let set = this.byPatient.get(patient);
    if (!set) this.byPatient.set(patient, (set = new Set()));
    set.add(session);
    res.on('close', () => this.drop(session));
    void this.pump(session);
  }

  private drop(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    clearInterval(s.heartbeat);
    clearTimeout(s.expiry);
    const set = this.byPatient.get(s.patient);
    set?.delete(s);
    if (set?.size === 0) this.byPatient.delete(s.patient);
  }

  private async pump(s: Session): Promise<void> {
    if (s.pumping) {
      s.again = true;
      return;
    }
    s.pumping = true;
    try {
      do {
        s.again = false;
        if (!s.stillAllowed()) {
          s.res.end(': token revoked\n\n');
          return;
        }
        for (;;) {
          const page = this.index.page(s.patient, s.cursor, PAGE);
          for (const e of page) {
            if (s.closed) return;
            const ok = s.res.write(sseFrame(e));
            s.cursor = e.seq;
            if (!ok) await this.drained(s);
          }
          if (page.length < PAGE) break;
        }
      } while (s.again && !s.closed);
    } catch (e) {
      this.opts.log?.('events.stream.failed', { error: (e as Error).message });
      s.res.destroy();
    } finally {
      s.pumping = false;
    }
  }

  private drained(s: Session): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        s.res.off('drain', done);
        s.res.off('close', done);
        resolve();
      };
      s.res.on('drain', done);
      s.res.on('close', done);
    });
  }

  /** Ends every stream (node shutdown); clients reconnect with `Last-Event-ID`. */
  closeAll(): void {
    for (const set of [...this.byPatient.values()])
      for (const s of [...set]) {
        s.res.end();
        this.drop(s);
      }
  }

  close(): void {
    this.closeAll();
    this.unsubscribe();
  }
}
