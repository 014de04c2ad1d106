/**
 * The benchmarks' load generator: JSON POSTs over kept-alive connections ({@link KeepAliveAgents}).
 * The client shares the machine with what it measures, so it should cost little.
 * @module
 */
import { KeepAliveAgents } from '../node/http-post.js';

/** Posts JSON bodies; `close()` when done. @example await new LoadClient().postJson(url, '{}') */
export class LoadClient {
  private readonly agents = new KeepAliveAgents(256);

  /** POSTs `body` (JSON text) and parses the JSON answer; rejects on a non-2xx status. */
  async postJson<T>(url: string, body: string): Promise<T> {
    return JSON.parse(await this.agents.post(new URL(url), body)) as T;
  }

  close(): void {
    this.agents.close();
  }
}
