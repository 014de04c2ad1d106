/**
 * `healthledger` — the command-line interface. Every command that reports data accepts
 * `--json` for scripts. Commands that talk to a node use the SDK (and verify what it returns);
 * `init`, `start` and `verify` work on a node home folder directly.
 * @module
 */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { HealthLedgerError } from '../protocol/errors.js';
import { ROLES, type Role } from '../protocol/x509.js';
import type { JsonObject } from '../protocol/tx.js';
import { HealthLedgerClient, identityFromFile } from '../sdk/client.js';
import { VerifyPool } from '../node/crypto/verify-pool.js';
import { homePaths, loadHomeConfig, readIdentity, readJson, writeSecret } from '../node/home.js';
import { generateEncryptionKeyPair } from '../protocol/envelope.js';
import { fromBase64Url, toBase64Url } from '../protocol/bytes.js';
import { join } from 'node:path';
import { compareStores, verifyChain } from '../node/verify-chain.js';
import type { Genesis } from '../protocol/genesis.js';
import { createIdentity, initHome } from './home-init.js';
import { issueCertificateFor } from '../node/identities.js';
import { serveHome } from './serve.js';
import { runDemo } from './demo.js';
import { DOMAIN_COMMANDS } from './domains.js';
import { networkDown, networkUp } from './network.js';

const program = new Command();
program
  .name('healthledger')
  .description('HealthLedger: a permissioned blockchain for healthcare')
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) });

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : text() + '\n');
}

/** A client for the node of `dir` (or `--node URL`), trusting the genesis file in `dir`. */
function clientFor(dir: string, nodeUrl?: string): HealthLedgerClient {
  const { genesis, config } = loadHomeConfig(dir);
  return new HealthLedgerClient({ baseUrl: nodeUrl ?? `http://${config.host}:${config.port}`, genesis });
}

const nodeOpt = () => new Option('--node <url>', 'node API base URL (default: from DIR/node.json)');
const jsonOpt = () => new Option('--json', 'machine-readable JSON output');

program
  .command('init')
  .description('create a node home: genesis, organization CA(s), admin identities, node key')
  .argument('<dir>', 'folder to create')
  .option('--chain <id>', 'chain id', 'healthledger-dev')
  .option('--org <org...>', 'organization(s) as id or id:Name; the first runs this node', [
    'st-mary:St Mary Hospital',
  ])
  .option('--host <host>', 'API listen address', '127.0.0.1')
  .option('--port <port>', 'API port', (v) => parseInt(v, 10), 7600)
  .addOption(jsonOpt())
  .action((dir: string, o: { chain: string; org: string[]; host: string; port: number; json?: boolean }) => {
    const r = initHome(dir, { chainId: o.chain, orgs: o.org, host: o.host, port: o.port, nowMs: Date.now() });
    print(!!o.json, r, () =>
      [
        `initialized ${dir}`,
        `  chain      ${r.chainId}`,
        `  genesis    ${r.genesisHash}`,
        `  node       ${r.nodeId}`,
        `  admins     ${r.admins.join(', ')}`,
        `start it: healthledger start ${dir}`,
      ].join('\n'),
    );
  });

program
  .command('start')
  .description('start the node of a home folder and serve its API')
  .argument('<dir>')
  .option('--host <host>')
  .option('--port <port>', 'API port', (v) => parseInt(v, 10))
  .action(async (dir: string, o: { host?: string; port?: number }) => {
    const served = await serveHome(dir, {
      ...(o.host ? { host: o.host } : {}),
      ...(o.port !== undefined ? { port: o.port } : {}),
    });
    const stop = async (): Promise<void> => {
      await served.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  });

program
  .command('verify')
  .description(
    're-check every block, signature, validation code, Merkle root and state root from the raw store',
  )
  .argument('<dir>', 'node home folder (or use --store)')
  .option('--store <path>', 'path to a ledger.sqlite (default: DIR/data/ledger.sqlite)')
  .option(
    '--compare <store>',
    "compare with another node's ledger.sqlite: name the first block where they differ",
  )
  .addOption(jsonOpt())
  .action(async (dir: string, o: { store?: string; compare?: string; json?: boolean }) => {
    const storePath = o.store ?? homePaths(dir).store;
    if (o.compare !== undefined) {
      const c = compareStores(storePath, o.compare);
      print(!!o.json, c, () =>
        c.firstDivergent === null
          ? `the stores agree on all ${c.compared} blocks both hold (log and state roots)`
          : `DIFFER: ${c.reason}`,
      );
      process.exitCode = c.firstDivergent === null ? 0 : 1;
      return;
    }
    let expectedGenesis: Genesis | undefined;
    try {
      expectedGenesis = readJson<Genesis>(homePaths(dir).genesis);
    } catch {
      expectedGenesis = undefined;
    }
    const bar = o.json
      ? null
      : new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: 'verifying [{bar}] {percentage}% | block {value}/{total}',
            noTTYOutput: true,
            notTTYSchedule: 2000,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
    const verifier = await VerifyPool.create({});
    let started = false;
    const result = await verifyChain({
      storePath,
      verifier,
      ...(expectedGenesis ? { expectedGenesis } : {}),
      onProgress: (p) => {
        if (!bar) return;
        if (!started) {
          bar.start(p.total, 0);
          started = true;
        }
        bar.update(p.height);
      },
    });
    bar?.stop();
    await verifier.close();
    print(!!o.json, result, () =>
      result.ok
        ? `OK: ${result.height} blocks, ${result.txCount} transactions; log root ${result.logRoot}; state root ${result.stateRoot}`
        : `FAILED at ${result.badHeight === null ? 'the store as a whole' : `block ${result.badHeight}`}: ${result.reason}`,
    );
    process.exitCode = result.ok ? 0 : 1;
  });

program
  .command('demo')
  .description('start an embedded node with a demo consortium and demo data (the Quick start)')
  .option('--dir <dir>', 'home folder for the demo', '.data/demo')
  .option('--port <port>', 'API port', (v) => parseInt(v, 10), 7600)
  .option('--once', 'seed, verify and exit instead of serving')
  .action(async (o: { dir: string; port: number; once?: boolean }) => {
    await runDemo({ dir: o.dir, port: o.port, once: !!o.once });
  });

const identity = program.command('identity').description('member identities: enroll, revoke, show');
identity
  .command('enroll')
  .description(
    'issue a certificate from the org CA in DIR and enroll it on the ledger (signed by an org-admin)',
  )
  .argument('<dir>')
  .requiredOption('--id <memberId>', 'member id within the organization, e.g. dr-alice')
  .addOption(new Option('--role <role>', 'role').choices([...ROLES]).makeOptionMandatory())
  .option('--org <orgId>', 'organization (default: this node’s)')
  .option('--attr <key=value...>', 'certificate attributes, e.g. licence=MD-123 specialty=cardiology', [])
  .option('--as <adminId>', 'org-admin identity that signs the enrollment (default: <org>/admin)')
  .option(
    '--public-key <base64url>',
    'enroll a key the member generated (e.g. in the portal); prints the certificate to give back',
  )
  .addOption(nodeOpt())
  .addOption(jsonOpt())
  .action(
    async (
      dir: string,
      o: {
        id: string;
        role: Role;
        org?: string;
        attr: string[];
        as?: string;
        publicKey?: string;
        node?: string;
        json?: boolean;
      },
    ) => {
      const { config } = loadHomeConfig(dir);
      const org = o.org ?? config.orgId;
      const attributes: Record<string, string> = {};
      for (const a of o.attr) {
        const i = a.indexOf('=');
        if (i <= 0) throw new Error(`--attr ${a}: expected key=value`);
        attributes[a.slice(0, i)] = a.slice(i + 1);
      }
      const file =
        o.publicKey === undefined
          ? createIdentity(dir, { orgId: org, memberId: o.id, role: o.role, attributes, nowMs: Date.now() })
          : {
              memberId: `${org}/${o.id}`,
              certificate: issueCertificateFor(dir, {
                orgId: org,
                memberId: o.id,
                role: o.role,
                attributes,
                publicKey: fromBase64Url(o.publicKey),
                nowMs: Date.now(),
              }),
            };
      const client = clientFor(dir, o.node);
      const admin = identityFromFile(readIdentity(dir, o.as ?? `${org}/admin`));
      const receipt = await client.sendAndVerify(admin, 'member.enroll', { certificate: file.certificate });
      print(
        !!o.json,
        {
          memberId: file.memberId,
          txId: receipt.txId,
          height: receipt.height,
          code: receipt.code,
          ...(o.publicKey !== undefined ? { certificate: file.certificate } : {}),
        },
        () =>
          `${file.memberId} (${o.role}): ${receipt.code} in block ${receipt.height}, tx ${receipt.txId} (receipt verified)` +
          (o.publicKey !== undefined ? `\n${file.certificate}` : ''),
      );
      if (receipt.code !== 'VALID') process.exitCode = 1;
    },
  );
identity
  .command('revoke')
  .description('revoke a member (effective from the next block)')
  .argument('<dir>')
  .argument('<memberId>', 'e.g. st-mary/dr-alice')
  .requiredOption('--reason <text>')
  .option('--as <adminId>', 'signing org-admin (default: <org>/admin)')
  .addOption(nodeOpt())
  .addOption(jsonOpt())
  .action(
    async (
      dir: string,
      memberId: string,
      o: { reason: string; as?: string; node?: string; json?: boolean },
    ) => {
      const client = clientFor(dir, o.node);
      const admin = identityFromFile(readIdentity(dir, o.as ?? `${memberId.split('/')[0]}/admin`));
      const receipt = await client.sendAndVerify(admin, 'member.revoke', { memberId, reason: o.reason });
      print(
        !!o.json,
        { memberId, txId: receipt.txId, height: receipt.height, code: receipt.code },
        () => `revoke ${memberId}: ${receipt.code} in block ${receipt.height} (receipt verified)`,
      );
      if (receipt.code !== 'VALID') process.exitCode = 1;
    },
  );
identity
  .command('encryption-key')
  .description(
    'create an X25519 key pair for records released to a member (kept in DIR/identities) and publish the public key',
  )
  .argument('<dir>')
  .requiredOption('--as <memberId>', 'the member (identity in DIR)')
  .addOption(nodeOpt())
  .addOption(jsonOpt())
  .action(async (dir: string, o: { as: string; node?: string; json?: boolean }) => {
    const kp = await generateEncryptionKeyPair();
    writeSecret(
      join(dir, 'identities', `${o.as}.enc.json`),
      JSON.stringify({ privateKey: toBase64Url(kp.privateKey), publicKey: toBase64Url(kp.publicKey) }) + '\n',
    );
    const r = await clientFor(dir, o.node).sendAndVerify(
      identityFromFile(readIdentity(dir, o.as)),
      'member.set-encryption-key',
      { publicKey: toBase64Url(kp.publicKey) },
    );
    print(
      !!o.json,
      { memberId: o.as, txId: r.txId, code: r.code },
      () => `${o.as}: encryption key published (${r.code}, block ${r.height})`,
    );
    if (r.code !== 'VALID') process.exitCode = 1;
  });
identity
  .command('show')
  .description("a member's record on the ledger")
  .argument('<dir>')
  .argument('<memberId>')
  .addOption(nodeOpt())
  .addOption(jsonOpt())
  .action(async (dir: string, memberId: string, o: { node?: string; json?: boolean }) => {
    const m = await clientFor(dir, o.node).member(memberId);
    print(!!o.json, m, () => JSON.stringify({ ...m, certificate: '…' }, null, 2));
  });

const tx = program.command('tx').description('transactions: submit, anchor, receipt');
tx.command('submit')
  .description('sign a transaction with a local identity and submit it (waits for commit)')
  .argument('<dir>')
  .requiredOption('--as <memberId>', 'signing identity (file in DIR/identities)')
  .requiredOption('--type <type>', 'transaction type, e.g. anchor.put')
  .requiredOption('--payload <json>', 'payload as JSON, or @file')
  .addOption(nodeOpt())
  .addOption(jsonOpt())
  .action(
    async (dir: string, o: { as: string; type: string; payload: string; node?: string; json?: boolean }) => {
      const payload = JSON.parse(
        o.payload.startsWith('@') ? readFileSync(o.payload.slice(1), 'utf8') : o.payload,
      ) as JsonObject;
      const client = clientFor(dir, o.node);
      const receipt = await client.sendAndVerify(identityFromFile(readIdentity(dir, o.as)), o.type, payload);
      print(
        !!o.json,
        receipt,
        () => `${o.type}: ${receipt.code} in block ${receipt.height}, tx ${receipt.txId} (receipt verified)`,
      );
      if (receipt.code !== 'VALID') process.exitCode = 1;
    },
  );
tx.command('anchor')
  .description('anchor a 32-byte keyed commitment (hex) under a key')
  .argument('<dir>')
  .requiredOption('--as <memberId>')
  .requiredOption('--key <key>')
  .requiredOption('--commitment <hex>')
  .addOption(nodeOpt())
  .addOption(jsonOpt())
  .action(
    async (
      dir: string,
      o: { as: string; key: string; commitment: string; node?: string; json?: boolean },
    ) => {
      const client = clientFor(dir, o.node);
      const receipt = await client.sendAndVerify(identityFromFile(readIdentity(dir, o.as)), 'anchor.put', {
        key: o.key,
        commitment: o.commitment,
      });
      print(
        !!o.json,
        receipt,
        () =>
          `anchor ${o.key}: ${receipt.code} in block ${receipt.height}, tx ${receipt.txId} (receipt verified)`,
      );
      if (receipt.code !== 'VALID') process.exitCode = 1;
    },
  );
tx.command('receipt')
  .description("a transaction's receipt, verified locally (checkpoint signature + inclusion proof)")
  .argument('<dir>')
  .argument('<txId>')
  .option('--tree-size <n>', 'prove against the checkpoint of this log size', (v) => parseInt(v, 10))
  .addOption(nodeOpt())
  .addOption(jsonOpt())
  .action(async (dir: string, txId: string, o: { treeSize?: number; node?: string; json?: boolean }) => {
    const r = await clientFor(dir, o.node).verifiedReceipt(txId, o.treeSize);
    print(!!o.json, r, () =>
      [
        `tx ${r.txId}`,
        `  type       ${r.tx.body.type}`,
        `  signer     ${r.tx.body.signer}`,
        `  block      ${r.height} (position ${r.index}, leaf ${r.seq})`,
        `  code       ${r.code}`,
        `  proven in  checkpoint of log size ${r.checkpoint.checkpoint.logSize}, signed by ${r.checkpoint.checkpoint.nodeId}`,
        `  verified   yes`,
      ].join('\n'),
    );
  });

const proof = program.command('proof').description('Merkle log proofs, verified locally');
proof
  .command('consistency')
  .description('prove that the checkpoint of log size FROM is a prefix of that of size TO (RFC 9162 §2.1.4)')
  .argument('<dir>')
  .requiredOption('--from <n>', 'older log size', (v) => parseInt(v, 10))
  .requiredOption('--to <n>', 'newer log size', (v) => parseInt(v, 10))
  .addOption(nodeOpt())
  .addOption(jsonOpt())
  .action(async (dir: string, o: { from: number; to: number; node?: string; json?: boolean }) => {
    const r = await clientFor(dir, o.node).verifiedConsistency(o.from, o.to);
    print(
      !!o.json,
      r,
      () =>
        `consistent: log size ${o.from} (root ${r.from.checkpoint.logRoot}) is a prefix of ${o.to} (root ${r.to.checkpoint.logRoot}); ${r.proof.length} proof hashes verified`,
    );
  });
proof
  .command('checkpoint')
  .description("the node's latest checkpoint, signature verified")
  .argument('<dir>')
  .addOption(nodeOpt())
  .addOption(jsonOpt())
  .action(async (dir: string, o: { node?: string; json?: boolean }) => {
    const c = await clientFor(dir, o.node).latestCheckpoint();
    print(
      !!o.json,
      c,
      () =>
        `checkpoint: height ${c.checkpoint.height}, log size ${c.checkpoint.logSize}, root ${c.checkpoint.logRoot}, signed by ${c.checkpoint.nodeId} (verified)`,
    );
  });

// Each domain's commands, from the CLI manifest.
for (const register of Object.values(DOMAIN_COMMANDS)) register(program, { clientFor, print });

const network = program
  .command('network')
  .description('a local multi-organization network: one etcd member and one node per organization');
network
  .command('up')
  .description('start (creating on first use) etcd members and nodes on loopback; prints the endpoints')
  .option('--dir <dir>', 'network folder', '.data/network')
  .option('--orgs <n>', 'organizations', (v) => parseInt(v, 10), 3)
  .option(
    '--base-port <port>',
    'API port of the first node (etcd from base+100)',
    (v) => parseInt(v, 10),
    7700,
  )
  .option('--detach', 'leave the network running and return (stop it with network down)')
  .addOption(jsonOpt())
  .action(async (o: { dir: string; orgs: number; basePort: number; detach?: boolean; json?: boolean }) => {
    const net = await networkUp(o.dir, { orgs: o.orgs, basePort: o.basePort, detached: !!o.detach });
    print(!!o.json, net.layout, () =>
      [
        `HealthLedger network in ${o.dir}: ${net.layout.orgs.length} organizations ordering through etcd`,
        ...net.layout.nodes.map((n) => `  node ${n.org.padEnd(16)} ${n.url}   (home ${n.home})`),
        ...net.layout.etcd.map((e) => `  etcd ${e.name.padEnd(16)} ${e.client}`),
        o.detach ? 'Stop it with: healthledger network down' : 'Press Ctrl-C to stop.',
      ].join('\n'),
    );
    if (o.detach) return;
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await net.stop();
  });
network
  .command('down')
  .description('stop a network started with network up --detach')
  .option('--dir <dir>', 'network folder', '.data/network')
  .action(async (o: { dir: string }) => {
    const n = await networkDown(o.dir);
    process.stdout.write(n > 0 ? `stopped ${n} processes\n` : 'no running network\n');
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof HealthLedgerError) process.stderr.write(`error ${e.code}: ${e.message}\n`);
  else process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exitCode = process.exitCode || 2;
});
