/**
 * The benchmarks' load generator: JSON POSTs over kept-alive `node:http` connections. The client
 * shares the machine with what it measures, so it should cost little — hence not `fetch`, whose
 * web-stream machinery cost more CPU per small request than the requests' own work.
 * @module
 */
import { Agent, request } from 'node:http';

/** Posts JSON bodies; `close()` when done. @example await new LoadClient().postJson(url, '{}') */
export class LoadClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });

  /** POSTs `body` (JSON text) and parses the JSON answer; rejects on a non-2xx status or a network error. */
  postJson<T>(url: string, body: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) reject(new Error(`HTTP ${status}: ${text.slice(0, 200)}`));
            else {
              try {
                resolve(JSON.parse(text) as T);
              } catch (e) {
                reject(e as Error);
              }
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Closes idle connections. */
  close(): void {
    this.agent.destroy();
  }
}
