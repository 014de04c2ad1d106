// Compiles the node's native Ed25519 verifier (native/ed25519/verify.c) into
// build/native/hl_ed25519.node with the machine's C compiler against Node's own headers (no
// download). Optional at run time: without it the node verifies with libsodium (same rules,
// slower) and says so at start. `--required` (tests, CI) makes a failed build an error.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const required = process.argv.includes('--required');
const source = 'native/ed25519/verify.c';
const output = 'build/native/hl_ed25519.node';
const headers = [
  join(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].find((dir) => existsSync(join(dir, 'node_api.h')));

function fail(reason) {
  const message = `healthledger: native Ed25519 verifier not built (${reason}); the node will use libsodium`;
  if (required) {
    console.error(message);
    process.exit(1);
  }
  console.warn(message);
  process.exit(0);
}

if (!headers) fail("Node's headers (node_api.h) not found");
if (existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) process.exit(0);
mkdirSync(dirname(output), { recursive: true });
const compiler = process.env.CC ?? 'cc';
try {
  execFileSync(
    compiler,
    [
      '-O3',
      '-std=c11',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-fPIC',
      '-shared',
      `-I${headers}`,
      source,
      '-o',
      output,
    ],
    { stdio: 'inherit' },
  );
} catch (error) {
  rmSync(output, { force: true }); // never leave an older build in place of a failed one
  fail(`${compiler} failed: ${error.message.split('\n')[0]}`);
}
