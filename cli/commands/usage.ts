/**
 * `maestro usage report`: estimated and actual cost, placement savings, task-hours, attempts and
 * runs of the attempts started in a window, by namespace, workflow or task, as CSV or JSON; from the local
 * store, or from a server's GET /v1/usage with --server (scope usage:read). The same report
 * either way (engine/usage-report.ts).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError, type ApiBody } from '../../core/index.ts';
import { DEFAULT_PRICE_TABLE, usageCsv, usageReport } from '../../engine/index.ts';
import { priceTableSetting } from '../../runtime/index.ts';
import type { CliContext } from '../context.ts';
import { openCliStore } from '../open-engine.ts';
import { openServerClient } from '../server-client.ts';
import { serverOption } from './server-option.ts';

const EXAMPLES = `
Examples:
  $ maestro usage report --format csv > usage.csv                     # the last 30 days, by namespace
  $ maestro usage report --namespace data --since 2026-11-01 --until 2026-12-01 --group-by task --format json
  $ MAESTRO_TOKEN=mst_... maestro usage report --server https://maestro.example.com --format csv

Actual cost: each attempt's price per hour (the price table when it started) times its measured
duration; estimated: the budget guard's estimate; savings: price-aware placement's against the
on-demand price. See docs/budgets.md.`;

type GroupBy = 'namespace' | 'workflow' | 'task';

function timeOf(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms))
    throw new UsageError(`${flag} expects an ISO date or epoch milliseconds, got ${value}`);
  return ms;
}

export function registerUsage(program: Command, context: CliContext): void {
  const { io } = context;
  const usage = program
    .command('usage')
    .description('Report what namespaces, workflows and tasks cost')
    .addHelpText('after', EXAMPLES);
  usage
    .command('report')
    .description(
      'Estimated and actual cost, placement savings, task-hours and runs of the attempts started in a window',
    )
    .option('--namespace <ns>', 'only this namespace')
    .option(
      '--since <time>',
      'attempts started at or after (ISO date or epoch ms; default: 30 days before --until)',
    )
    .option('--until <time>', 'attempts started before (default: now)')
    .addOption(
      new Option('--group-by <key>', 'one row per')
        .choices(['namespace', 'workflow', 'task'])
        .default('namespace'),
    )
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .addOption(new Option('--data-dir <dir>', 'where runs are stored (default: MAESTRO_DATA_DIR)'))
    .addOption(serverOption())
    .action(
      async (o: {
        namespace?: string;
        since?: string;
        until?: string;
        groupBy: GroupBy;
        format: 'csv' | 'json';
        dataDir?: string;
        server?: string;
      }) => {
        const since = timeOf(o.since, '--since');
        const until = timeOf(o.until, '--until');
        if (since !== undefined && until !== undefined && since >= until)
          throw new UsageError('--since must be before --until');
        const report: ApiBody.UsageReport = o.server
          ? await openServerClient(o.server, io).request<ApiBody.UsageReport>('GET', '/v1/usage', {
              query: {
                namespace: o.namespace,
                groupBy: o.groupBy,
                ...(since === undefined ? {} : { since: new Date(since).toISOString() }),
                ...(until === undefined ? {} : { until: new Date(until).toISOString() }),
              },
            })
          : await localReport(o, since, until);
        io.stdout(o.format === 'csv' ? usageCsv(report) : `${JSON.stringify(report, null, 2)}\n`);
      },
    );

  async function localReport(
    o: { namespace?: string; groupBy: GroupBy; dataDir?: string },
    since: number | undefined,
    until: number | undefined,
  ): Promise<ApiBody.UsageReport> {
    const prices = priceTableSetting(io.env.MAESTRO_PRICE_TABLE, io.cwd).prices ?? DEFAULT_PRICE_TABLE;
    const store = await openCliStore({ ...(o.dataDir ? { dataDir: o.dataDir } : {}) }, io);
    try {
      return await usageReport(store, {
        now: Date.now(),
        groupBy: o.groupBy,
        currency: prices.currency,
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
        ...(o.namespace ? { namespaces: [o.namespace] } : {}),
      });
    } finally {
      await store.close();
    }
  }
}
