/**
 * Serves the web portal (built by Vite into `dist/portal`) at `/portal/`, with a Content Security
 * Policy that lets the page talk only to this node: no third-party scripts, fonts or beacons, so
 * no health data or key can leave through the page. `/` redirects to the portal.
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { HealthLedgerError } from '../../protocol/errors.js';
import { Routes } from '../../protocol/api.js';
import { addRoute } from '../base.js';
import type { RoutePlugin } from './context.js';

/** Where the built portal is, beside the compiled API (`dist/portal`). */
export const PORTAL_DIR = fileURLToPath(new URL('../../portal', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** Registers the portal routes if the portal was built; returns whether it was. */
export function registerPortal(app: FastifyInstance, dir = PORTAL_DIR): boolean {
  if (!existsSync(join(dir, 'index.html'))) return false;
  const root = normalize(dir + sep);
  addRoute(app, Routes.portalRoot, (_req, reply) => reply.redirect('/portal/'));
  addRoute(app, Routes.portalHome, (_req, reply) => reply.redirect('/portal/'));
  addRoute(app, Routes.portalFile, (req, reply) => {
    const rel = (req.params as { '*': string })['*'] || 'index.html';
    const path = normalize(join(root, rel));
    // Never outside the portal folder, whatever the path says.
    if (!path.startsWith(root)) throw new HealthLedgerError('ROUTE_NOT_FOUND');
    const file = existsSync(path) && statSync(path).isFile() ? path : join(root, 'index.html');
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    return reply
      .header('content-type', type)
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header(
        'cache-control',
        file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
      .send(readFileSync(file));
  });
  return true;
}

/** The portal, when it was built. */
export const portalRoutes: RoutePlugin = async (app) => {
  registerPortal(app);
};
