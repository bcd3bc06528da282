/**
 * `maestro budgets set|list|show`: a namespace's budget (a limit per calendar period, a soft
 * threshold) and quotas (runs and tasks at once), in the store the server uses (as `maestro
 * tokens` writes its tokens there: the operator needs no token on the server's machine), or
 * through a server's API with --server (scope budgets:write to set, usage:read to read).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { NotFoundError, UsageError, type ApiBody } from '../../core/index.ts';
import { budgetOf, budgetView, formatMoney } from '../../engine/index.ts';
import type { CliContext } from '../context.ts';
import type { CliIo } from '../io.ts';
import { openCliStore } from '../open-engine.ts';
import { openServerClient } from '../server-client.ts';
import { serverOption } from './server-option.ts';

const EXAMPLES = `
Examples:
  $ maestro budgets set data --limit 50 --currency USD --period month --soft 80%
  $ maestro budgets set ci --max-runs 4                         # a quota only: no money limit
  $ maestro budgets set ci --max-runs 4 --max-tasks 8           # and at most 8 tasks running at once
  $ maestro budgets list
  $ maestro budgets show data --format json
  $ MAESTRO_TOKEN=mst_... maestro budgets set data --limit 50 --server https://maestro.example.com

Without --server: the store the server uses (MAESTRO_DATABASE_URL, else the data directory).
The guard refuses a task whose estimate would take the namespace past its limit this period;
past --soft it runs with a warning. See docs/budgets.md.`;

type Format = 'text' | 'json';
const formatOption = () =>
  new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');
const dataDirOption = () =>
  new Option('--data-dir <dir>', 'the server’s data directory (default: MAESTRO_DATA_DIR)');

function positive(flag: string, whole: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < (whole ? 1 : 0) || (whole && !Number.isInteger(n)))
      throw new UsageError(
        `${flag} expects ${whole ? 'a whole number of at least 1' : 'a number of at least 0'}, got ${value}`,
      );
    return n;
  };
}

/** `--soft 80%` or `--soft 0.8`: a share of the limit between 0 and 1 (exclusive). */
export function parseSoft(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(value.trim());
  const share = match ? Number(match[1]) / (match[2] ? 100 : 1) : NaN;
  if (!(share > 0 && share < 1))
    throw new UsageError(
      `--soft expects a share of the limit such as 80% or 0.8 (above 0, below 100%), got ${value}`,
    );
  return share;
}

function printBudgets(io: CliIo, budgets: ApiBody.Budget[], format: Format, one = false): void {
  if (format === 'json')
    return io.stdout(`${JSON.stringify(one ? budgets[0] : { items: budgets }, null, 2)}\n`);
  if (budgets.length === 0) return io.stdout('no namespace budgets\n');
  for (const b of budgets) {
    const limit = b.limit === null ? 'no limit' : `${formatMoney(b.limit, b.currency)} per ${b.period}`;
    const soft = b.soft === null ? '' : `, warns past ${Math.round(b.soft * 100)}%`;
    const quotas = [
      ...(b.maxRuns === null ? [] : [`${b.maxRuns} runs`]),
      ...(b.maxTasks === null ? [] : [`${b.maxTasks} tasks`]),
    ].join(', ');
    io.stdout(
      `${b.namespace}: ${limit}${soft}; spent ${formatMoney(b.spent, b.currency)} since ${b.periodStart}${quotas ? `; at once: ${quotas}` : ''}\n`,
    );
  }
}

interface Where {
  server?: string;
  dataDir?: string;
}

/** Runs `fn` on the local store, closing it afterwards. */
async function onStore<T>(
  io: CliIo,
  o: Where,
  fn: (store: Awaited<ReturnType<typeof openCliStore>>) => Promise<T>,
) {
  const store = await openCliStore({ ...(o.dataDir ? { dataDir: o.dataDir } : {}) }, io);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerBudgets(program: Command, context: CliContext): void {
  const { io } = context;
  const budgets = program
    .command('budgets')
    .description("Set and show namespaces' budgets and quotas")
    .addHelpText('after', EXAMPLES);
  const path = (ns: string) => `/v1/budgets/${encodeURIComponent(ns)}`;

  budgets
    .command('set <namespace>')
    .description("Set a namespace's budget and quotas (replacing what it had)")
    .option('--limit <amount>', 'the limit per period, in --currency', positive('--limit', false))
    .option('--currency <code>', "ISO 4217 code (the price table's)", 'USD')
    .addOption(
      new Option('--period <period>', 'calendar period, UTC')
        .choices(['day', 'week', 'month'])
        .default('month'),
    )
    .option('--soft <share>', 'warn past this share of the limit (80% or 0.8)', parseSoft)
    .option(
      '--max-runs <n>',
      'runs of the namespace executing at once (more wait queued, in order)',
      positive('--max-runs', true),
    )
    .option(
      '--max-tasks <n>',
      'attempts of the namespace running at once, across workers (more wait ready, in turn)',
      positive('--max-tasks', true),
    )
    .addOption(formatOption())
    .addOption(dataDirOption())
    .addOption(serverOption())
    .action(
      async (
        namespace: string,
        o: Where & {
          limit?: number;
          currency: string;
          period: 'day' | 'week' | 'month';
          soft?: number;
          maxRuns?: number;
          maxTasks?: number;
          format: Format;
        },
      ) => {
        if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(namespace))
          throw new UsageError(`${namespace} is not a namespace name (lower-case letters, digits and -)`);
        if (!/^[A-Z]{3}$/.test(o.currency))
          throw new UsageError(`--currency expects an ISO 4217 code such as USD, got ${o.currency}`);
        if (o.soft !== undefined && o.limit === undefined) throw new UsageError('--soft needs --limit');
        const set: ApiBody.BudgetSet = {
          currency: o.currency,
          period: o.period,
          limit: o.limit ?? null,
          soft: o.soft ?? null,
          maxRuns: o.maxRuns ?? null,
          maxTasks: o.maxTasks ?? null,
        };
        const shown = o.server
          ? await openServerClient(o.server, io).request<ApiBody.Budget>('PUT', path(namespace), {
              json: set,
            })
          : await onStore(io, o, async (store) => {
              const budget = budgetOf(namespace, set, `cli:${io.env.USER ?? 'operator'}`, Date.now());
              await store.putBudget(budget);
              return budgetView(store, budget, Date.now());
            });
        printBudgets(io, [shown], o.format, true);
      },
    );

  budgets
    .command('list')
    .description("Every namespace's budget and what it spent this period")
    .addOption(formatOption())
    .addOption(dataDirOption())
    .addOption(serverOption())
    .action(async (o: Where & { format: Format }) => {
      const items = o.server
        ? (await openServerClient(o.server, io).request<ApiBody.BudgetList>('GET', '/v1/budgets')).items
        : await onStore(io, o, async (store) =>
            Promise.all((await store.listBudgets()).map((b) => budgetView(store, b, Date.now()))),
          );
      printBudgets(io, items, o.format);
    });

  budgets
    .command('show <namespace>')
    .description("One namespace's budget and what it spent this period")
    .addOption(formatOption())
    .addOption(dataDirOption())
    .addOption(serverOption())
    .action(async (namespace: string, o: Where & { format: Format }) => {
      const shown = o.server
        ? await openServerClient(o.server, io).request<ApiBody.Budget>('GET', path(namespace))
        : await onStore(io, o, async (store) => {
            const budget = await store.getBudget(namespace);
            if (!budget)
              throw new NotFoundError('namespace budget', namespace, {
                hint: `set one with maestro budgets set ${namespace} --limit 50`,
              });
            return budgetView(store, budget, Date.now());
          });
      printBudgets(io, [shown], o.format, true);
    });
}
