/**
 * `healthledger import` — the health domain's commands: FHIR Bundles into a patient's records.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { identityFromFile } from '../../../sdk/client.js';
import { readIdentity } from '../../../node/home.js';
import type { CliHelpers } from '../../../cli/helpers.js';

const nodeOpt = () => new Option('--node <url>', 'node API base URL (default: from DIR/node.json)');
const jsonOpt = () => new Option('--json', 'machine-readable JSON output');

/** Adds the health commands (`import`) to `program`. */
export function registerHealthCommands(program: Command, { clientFor, print }: CliHelpers): void {
  program
    .command('import')
    .description('import FHIR Bundles (transaction, batch, collection) for a patient, with a progress bar')
    .argument('<dir>')
    .argument('<files...>', 'Bundle JSON files')
    .requiredOption('--as <memberId>', 'importing practitioner (identity in DIR)')
    .requiredOption('--patient <memberId>', 'the patient the bundles belong to')
    .addOption(nodeOpt())
    .addOption(jsonOpt())
    .action(
      async (
        dir: string,
        files: string[],
        o: { as: string; patient: string; node?: string; json?: boolean },
      ) => {
        const client = clientFor(dir, o.node);
        const who = identityFromFile(readIdentity(dir, o.as));
        const bar = o.json
          ? null
          : new cliProgress.SingleBar(
              {
                stream: process.stderr,
                format: 'importing [{bar}] {value}/{total} bundles | {resources} resources',
                noTTYOutput: true,
                notTTYSchedule: 2000,
              },
              cliProgress.Presets.shades_classic,
            );
        bar?.start(files.length, 0, { resources: 0 });
        const results: { file: string; records: number }[] = [];
        let resources = 0;
        for (const file of files) {
          const bundle = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
          const r = await client.health.importBundle(who, o.patient, bundle);
          resources += r.records.length;
          results.push({ file, records: r.records.length });
          bar?.increment(1, { resources });
        }
        bar?.stop();
        print(
          !!o.json,
          { patient: o.patient, bundles: results, resources },
          () => `imported ${resources} resources from ${files.length} bundle(s) for ${o.patient}`,
        );
      },
    );
}
