/**
 * JSON POSTs over kept-alive `node:http`/`node:https` connections: the transport of the etcd
 * client and of the benchmarks' load generator. Plain `node:http` rather than `fetch`: for many
 * small requests, fetch's web-stream machinery cost more CPU than the requests' own work.
 * @module
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** One pool of kept-alive connections per scheme; `close()` when done. */
export class KeepAliveAgents {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  constructor(maxSockets: number) {
    this.http = new HttpAgent({ keepAlive: true, maxSockets });
    this.https = new HttpsAgent({ keepAlive: true, maxSockets });
  }

  /**
   * Starts a POST of `payload` (JSON text) to `url` and hands the response to `onResponse`.
   * @example agents.open(new URL('/v3/watch', endpoint), body, (res) => res.on('data', wake))
   */
  open(
    url: URL,
    payload: string,
    onResponse: (res: IncomingMessage) => void,
    signal?: AbortSignal,
  ): ClientRequest {
    const secure = url.protocol === 'https:';
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        agent: secure ? this.https : this.http,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        ...(signal === undefined ? {} : { signal }),
      },
      onResponse,
    );
    req.end(payload);
    return req;
  }

  /**
   * POSTs `payload` and resolves to the body of a 2xx answer; rejects on another status, a
   * network error, or (with `timeoutMs`) no whole answer in time.
   * @example JSON.parse(await agents.post(new URL('/v3/kv/range', endpoint), body, 3000))
   */
  post(url: URL, payload: string, timeoutMs?: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const fail = (e: Error): void => {
        clearTimeout(timer);
        reject(e);
      };
      const req = this.open(url, payload, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) reject(new Error(`HTTP ${status}: ${text.slice(0, 200)}`));
          else resolve(text);
        });
      });
      if (timeoutMs !== undefined)
        timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', fail);
    });
  }

  /** Closes idle connections (calls in flight finish or fail on their own). */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
