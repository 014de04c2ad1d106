/**
 * The route table is the API: every route Fastify registers (seen through `onRoute`, not read off
 * the tables) comes from a definition with a response schema and an auth kind, every definition is
 * served, and the OpenAPI document says exactly what the table says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { AUTH_KINDS, Routes, type RouteDef } from '../protocol/api.js';
import { DOMAIN_ROUTES } from '../core/domains.js';
import type { LedgerNode } from '../node/ledger-node.js';
import type { EventsService } from '../node/events/events-service.js';
import type { RecordService } from '../domains/health/node/record-service.js';
import type { SupplyService } from '../domains/supply/node/supply-service.js';
import type { ValidatedGenesis } from '../protocol/genesis.js';
import { composeApp } from './server.js';
import { createApiBase } from './base.js';
import { registerPortal } from './routes/portal.js';

/** The shared table and each domain's, by name (`Routes`, `health`, `supply`, …). */
const TABLES: Record<string, Record<string, RouteDef>> = { Routes, ...DOMAIN_ROUTES };
const ALL_DEFS = Object.values(TABLES).flatMap((t) => Object.values(t));
const nameOf = (r: RouteOptions) => `${String(r.method)} ${r.url}`;

/** Every registered route has a definition from the tables, a 2xx/3xx response schema and an auth kind. */
function checkRegistered(routes: RouteOptions[]): void {
  for (const r of routes) {
    const def = r.config?.route;
    assert.ok(def, `${nameOf(r)} was not registered from a route definition`);
    assert.ok(
      ALL_DEFS.includes(def),
      `${nameOf(r)}: its definition is in neither Routes nor a domain's table (src/core/domains.ts)`,
    );
    assert.ok(AUTH_KINDS.includes(def.auth), `${nameOf(r)} declares no known auth kind`);
    const schema = r.schema as { response?: Record<string, unknown>; 'x-auth'?: string } | undefined;
    const codes = Object.keys(schema?.response ?? {});
    assert.ok(
      codes.some((c) => /^[23]/.test(c)),
      `${nameOf(r)} has no success response schema (has: ${codes.join(', ') || 'none'})`,
    );
    assert.equal(schema?.['x-auth'], def.auth, `${nameOf(r)}: x-auth differs from its definition`);
    assert.equal(r.url, def.url, `${nameOf(r)}: url differs from its definition`);
  }
}

const openapiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');
const normCodes = (codes: string[]) => codes.map((c) => c.toUpperCase()).sort();

test('every route registered on the node app has a definition, a response schema and an auth kind; OpenAPI agrees', async () => {
  const routes: RouteOptions[] = [];
  const stub = {} as never;
  const app: FastifyInstance = await composeApp(
    stub as LedgerNode,
    {
      records: stub as RecordService,
      events: { closeStreams: () => {} } as unknown as EventsService,
      supply: stub as SupplyService,
      peer: {
        genesis: stub as ValidatedGenesis,
        ownOrg: 'st-mary',
        nodeId: 'st-mary/node-1',
        sign: () => new Uint8Array(64),
        snapshot: async () => new Uint8Array(),
      },
    },
    (r) => routes.push(r),
  );
  try {
    checkRegistered(routes);

    // Every definition is served (the portal's only when it was built: checked below).
    const served = new Set(routes.map((r) => r.config!.route!));
    const portal = [Routes.portalRoot, Routes.portalHome, Routes.portalFile] as RouteDef[];
    for (const [table, defs] of Object.entries(TABLES))
      for (const [key, def] of Object.entries(defs))
        if (!portal.includes(def))
          assert.ok(served.has(def), `${table}.${key} is defined but not registered`);

    // The OpenAPI document lists exactly the visible routes, with their auth and response codes.
    const doc = (await app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { 'x-auth'?: string; summary?: string; responses?: object }>>;
    };
    const visible = routes.filter((r) => r.method !== 'HEAD' && !r.config!.route!.hide);
    for (const r of visible) {
      const def = r.config!.route!;
      const op = doc.paths[openapiPath(def.url)]?.[def.method.toLowerCase()];
      assert.ok(op, `${nameOf(r)} is missing from the OpenAPI document`);
      assert.equal(op['x-auth'], def.auth, `${nameOf(r)}: OpenAPI x-auth`);
      assert.equal(op.summary, def.summary, `${nameOf(r)}: OpenAPI summary`);
      assert.deepEqual(
        normCodes(Object.keys(op.responses ?? {})),
        normCodes(Object.keys(def.response)),
        `${nameOf(r)}: OpenAPI responses`,
      );
    }
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    assert.deepEqual(
      documented.sort(),
      visible.map((r) => `${String(r.method)} ${openapiPath(r.url)}`).sort(),
      'the OpenAPI document and the route table list different operations',
    );
  } finally {
    await app.close();
  }
});

test('the portal routes are registered from their definitions too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hl-portal-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html>');
  const routes: RouteOptions[] = [];
  const { app } = await createApiBase({ observeRoutes: (r) => routes.push(r) });
  try {
    assert.equal(registerPortal(app, dir), true);
    checkRegistered(routes);
    assert.deepEqual(
      new Set(routes.map((r) => r.config!.route!)),
      new Set([Routes.portalRoot, Routes.portalHome, Routes.portalFile]),
    );
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
