/**
 * Starts a node from its home folder and serves the API: the body of `healthledger start`.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/server.js';
import { homePaths, loadHome } from '../node/home.js';
import { startEmbeddedNode, type RunningNode } from '../node/wiring.js';

export interface Served {
  running: RunningNode;
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** JSON-lines event log on stdout: events and counts only, never payloads (no PHI in logs). */
export function jsonLog(event: string, fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + '\n');
}

export async function serveHome(
  dir: string,
  overrides: { host?: string; port?: number; log?: (e: string, f: Record<string, unknown>) => void } = {},
): Promise<Served> {
  const { genesis, config, nodeKey } = loadHome(dir);
  const log = overrides.log ?? jsonLog;
  const running = await startEmbeddedNode({
    storePath: homePaths(dir).store,
    genesis,
    nodeId: config.nodeId,
    nodeKey,
    log,
    ...(config.verifyThreads !== undefined ? { verifyThreads: config.verifyThreads } : {}),
  });
  const app = await buildApp(running.node);
  const host = overrides.host ?? config.host;
  const port = overrides.port ?? config.port;
  let address: string;
  try {
    address = await app.listen({ host, port });
  } catch (e) {
    await running.close();
    throw e;
  }
  log('api.listening', { url: address });
  return {
    running,
    app,
    url: address,
    async close() {
      await app.close();
      await running.close();
    },
  };
}
