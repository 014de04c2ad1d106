/**
 * `healthledger supply …` — the drug supply chain from the command line: register parties,
 * capture EPCIS documents, verify a product identifier, show a package's timeline with proofs,
 * recall a lot, clear an alert, follow the alert feed.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { HealthLedgerError } from '../../../protocol/errors.js';
import type { CliHelpers } from '../../../cli/helpers.js';
import { identityFromFile } from '../../../sdk/client.js';
import { readIdentity } from '../../../node/home.js';
import { createEpcisValidator, type EpcisEvent } from '../core/epcis.js';
import { epcisEventHash } from '../core/event-hash.js';

const nodeOpt = () => new Option('--node <url>', 'node API base URL (default: from DIR/node.json)');
const jsonOpt = () => new Option('--json', 'machine-readable JSON output');
const readJsonFile = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/** Adds the `supply` command group to `program`. */
export function registerSupplyCommands(program: Command, h: CliHelpers): void {
  const supply = program
    .command('supply')
    .description('drug supply chain (GS1 EPCIS 2.0): capture, verify, history, recall, alerts');

  supply
    .command('register-party')
    .description('a regulator binds GS1 company prefixes and GLNs to an organization')
    .argument('<dir>')
    .requiredOption('--as <memberId>', 'regulator identity (file in DIR/identities)')
    .requiredOption('--org <orgId>')
    .option('--prefix <companyPrefix...>', 'GS1 company prefixes (6–12 digits)', [])
    .option('--gln <gln...>', 'GLNs of the organization’s parties and locations', [])
    .addOption(nodeOpt())
    .addOption(jsonOpt())
    .action(
      async (
        dir: string,
        o: { as: string; org: string; prefix: string[]; gln: string[]; node?: string; json?: boolean },
      ) => {
        const r = await h
          .clientFor(dir, o.node)
          .sendAndVerify(identityFromFile(readIdentity(dir, o.as)), 'supply.register-party', {
            org: o.org,
            companyPrefixes: o.prefix,
            glns: o.gln,
          });
        h.print(
          !!o.json,
          r,
          () => `supply.register-party ${o.org}: ${r.code} (tx ${r.txId}, receipt verified)`,
        );
        if (r.code !== 'VALID') process.exitCode = 1;
      },
    );

  supply
    .command('capture')
    .description('record an EPCIS 2.0 JSON(-LD) document: each event’s hash and public facts, signed by you')
    .argument('<dir>')
    .argument('<file>', 'EPCIS document or single event (JSON)')
    .requiredOption('--as <memberId>', 'signing identity (manufacturer, distributor, dispenser, regulator)')
    .addOption(nodeOpt())
    .addOption(jsonOpt())
    .action(async (dir: string, file: string, o: { as: string; node?: string; json?: boolean }) => {
      const results = await h.clientFor(dir, o.node).supply.captureEpcis(
        identityFromFile(readIdentity(dir, o.as)),
        // Any JSON: the node's EPCIS intake validates the document's shape and says what is wrong.
        readJsonFile(file) as object,
      );
      h.print(!!o.json, results, () =>
        results
          .map(
            (r, i) =>
              `event ${i}: ${r.code}${r.alerts.length ? ` — SUSPECT, alerts ${r.alerts.join(', ')}` : ''} (tx ${r.txId})`,
          )
          .join('\n'),
      );
      if (results.some((r) => r.code !== 'VALID')) process.exitCode = 1;
    });

  supply
    .command('hash')
    .description('the CBV 2.0 event hash of each event in an EPCIS document (offline)')
    .argument('<file>')
    .option('--schema <path>', 'validate against this EPCIS JSON Schema first')
    .addOption(jsonOpt())
    .action((file: string, o: { schema?: string; json?: boolean }) => {
      const doc = readJsonFile(file) as Record<string, unknown>;
      let events: EpcisEvent[];
      if (o.schema !== undefined) {
        const v = createEpcisValidator(readJsonFile(o.schema) as object)(doc);
        if (!v.ok)
          throw new HealthLedgerError(
            'INVALID_EPCIS',
            v.errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; '),
          );
        events = v.events;
      } else {
        const body = doc['epcisBody'] as { eventList?: EpcisEvent[]; event?: EpcisEvent } | undefined;
        events = body?.eventList ?? (body?.event ? [body.event] : [doc as unknown as EpcisEvent]);
      }
      const hashes = events.map((e) => epcisEventHash(e));
      h.print(!!o.json, hashes, () => hashes.join('\n'));
    });

  supply
    .command('verify')
    .description('verify a product identifier (VRS): GTIN, serial, lot, expiry')
    .argument('<dir>')
    .requiredOption('--gtin <gtin>')
    .requiredOption('--serial <serial>')
    .requiredOption('--lot <lot>')
    .requiredOption('--expiry <YYYY-MM-DD>')
    .addOption(nodeOpt())
    .addOption(jsonOpt())
    .action(
      async (
        dir: string,
        o: { gtin: string; serial: string; lot: string; expiry: string; node?: string; json?: boolean },
      ) => {
        const r = await h.clientFor(dir, o.node).supply.verifyProduct(o);
        h.print(!!o.json, r, () =>
          r.data.verified
            ? `verified (status ${r.detail.status}, height ${r.detail.height})`
            : `NOT verified: ${r.data.additionalInfo ?? ''}${r.detail.alert ? ` (alert ${r.detail.alert})` : ''}`,
        );
        if (!r.data.verified) process.exitCode = 1;
      },
    );

  supply
    .command('history')
    .description("a package's timeline, each entry proven by its verified receipt")
    .argument('<dir>')
    .argument('<id>', 'EPC URI, GS1 Digital Link, or sgtin:/sscc: key')
    .addOption(nodeOpt())
    .addOption(jsonOpt())
    .action(async (dir: string, id: string, o: { node?: string; json?: boolean }) => {
      const { timeline } = await h.clientFor(dir, o.node).supply.supplyHistory(id);
      h.print(!!o.json, timeline, () =>
        [
          `${timeline.epc}: ${String(timeline.record['status'] ?? '')}, custodian ${String(timeline.record['custodian'] ?? '—')}`,
          ...timeline.entries.map(
            (e) =>
              `  block ${e.height}  ${e.step.padEnd(12)} ${e.org.padEnd(16)} ${e.via ? `via ${e.via} ` : ''}${e.alerts.length ? `ALERT ${e.alerts.join(',')} ` : ''}tx ${e.txId.slice(0, 16)}… ✓`,
          ),
        ].join('\n'),
      );
    });

  supply
    .command('recall')
    .description('recall a lot (its manufacturer, or a regulator)')
    .argument('<dir>')
    .requiredOption('--as <memberId>')
    .requiredOption('--gtin <gtin>')
    .requiredOption('--lot <lot>')
    .option('--reason <reason>', 'safety | quality | counterfeit | regulatory | other', 'safety')
    .addOption(nodeOpt())
    .addOption(jsonOpt())
    .action(
      async (
        dir: string,
        o: { as: string; gtin: string; lot: string; reason: string; node?: string; json?: boolean },
      ) => {
        const r = await h
          .clientFor(dir, o.node)
          .sendAndVerify(identityFromFile(readIdentity(dir, o.as)), 'supply.recall', {
            gtin: o.gtin,
            lot: o.lot,
            reason: o.reason,
          });
        h.print(
          !!o.json,
          r,
          () => `recall ${o.gtin} lot ${o.lot}: ${r.code} (tx ${r.txId}, receipt verified)`,
        );
        if (r.code !== 'VALID') process.exitCode = 1;
      },
    );

  supply
    .command('clear')
    .description('resolve a suspect alert: cleared | confirmed-counterfeit | confirmed-diverted')
    .argument('<dir>')
    .argument('<alert>')
    .requiredOption('--as <memberId>')
    .option('--resolution <r>', 'cleared | confirmed-counterfeit | confirmed-diverted', 'cleared')
    .addOption(nodeOpt())
    .addOption(jsonOpt())
    .action(
      async (
        dir: string,
        alert: string,
        o: { as: string; resolution: string; node?: string; json?: boolean },
      ) => {
        const r = await h
          .clientFor(dir, o.node)
          .sendAndVerify(identityFromFile(readIdentity(dir, o.as)), 'supply.clear', {
            alert,
            resolution: o.resolution,
          });
        h.print(!!o.json, r, () => `clear ${alert}: ${r.code} (tx ${r.txId}, receipt verified)`);
        if (r.code !== 'VALID') process.exitCode = 1;
      },
    );

  supply
    .command('alerts')
    .description('the supply alert feed (suspect packages, clearances, recalls)')
    .argument('<dir>')
    .requiredOption('--as <memberId>')
    .option('--after <seq>', 'cursor', (v) => parseInt(v, 10), 0)
    .addOption(nodeOpt())
    .addOption(jsonOpt())
    .action(async (dir: string, o: { as: string; after: number; node?: string; json?: boolean }) => {
      const client = h.clientFor(dir, o.node);
      const { token } = await client.supply.supplyAlertsToken(identityFromFile(readIdentity(dir, o.as)));
      const page = await client.supply.supplyAlerts(token, o.after);
      h.print(
        !!o.json,
        page,
        () =>
          page.events
            .map((e) => `#${e.seq} ${e.kind} by ${e.actor} at block ${e.height}: ${JSON.stringify(e.detail)}`)
            .join('\n') || 'no alerts',
      );
    });
}
