/**
 * Locates a worker thread's entry file beside the calling module: the compiled `.js` in dist/,
 * or, when running from source under tsx (`node --import tsx`, as tests may), the `.ts` file
 * loaded through tsx's `tsImport` API from a tiny eval'd bootstrap. (`execArgv: ['--import',
 * 'tsx']` is not enough on Node 20: loader hooks registered by `--import` inside a worker do
 * not apply to the worker's own entry module.)
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What to pass to `new Worker(entry, { eval })`. */
export interface WorkerEntry {
  readonly entry: URL | string;
  readonly eval: boolean;
}

/**
 * @param callerUrl `import.meta.url` of the module that owns the worker
 * @param basename the worker file's name without extension, e.g. `verify-pool.worker`
 */
export function resolveWorkerEntry(callerUrl: string, basename: string): WorkerEntry {
  const js = new URL(`./${basename}.js`, callerUrl);
  if (existsSync(fileURLToPath(js))) return { entry: js, eval: false };
  const ts = new URL(`./${basename}.ts`, callerUrl);
  if (!existsSync(fileURLToPath(ts)))
    throw new Error(`worker entry not found: ${fileURLToPath(js)} (or .ts beside it)`);
  // Resolved here (absolute), so the worker finds tsx whatever the current directory is.
  const api = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(api)})` +
    `.then((tsx) => tsx.tsImport(${JSON.stringify(ts.href)}, ${JSON.stringify(callerUrl)}))`;
  return { entry: bootstrap, eval: true };
}
