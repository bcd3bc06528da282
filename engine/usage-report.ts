/**
 * The usage report (`maestro usage report`, GET /v1/usage): the store's rows for the attempts
 * started in a window, as the API's UsageReport, and as CSV. One function for both surfaces, so
 * the CLI on a local store and the server answer alike.
 */
import type { ApiBody } from '../core/index.ts';
import type { AsyncStore } from './store/async-store.ts';
import type { UsageQuery } from './store/store.ts';

/** Without `since`: the 30 days before `until`. */
export const DEFAULT_USAGE_WINDOW_MS = 30 * 86_400_000;

export interface UsageOptions {
  now: number;
  since?: number;
  until?: number;
  groupBy: UsageQuery['groupBy'];
  namespaces?: readonly string[];
  currency: string;
}

export async function usageReport(store: AsyncStore, o: UsageOptions): Promise<ApiBody.UsageReport> {
  const until = o.until ?? o.now;
  const since = o.since ?? until - DEFAULT_USAGE_WINDOW_MS;
  const rows = await store.usage({
    since,
    until,
    now: o.now,
    groupBy: o.groupBy,
    ...(o.namespaces ? { namespaces: o.namespaces } : {}),
  });
  return {
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    groupBy: o.groupBy,
    currency: o.currency,
    items: rows.map(({ taskId, ...row }) => ({ ...row, task: taskId })),
  };
}

const CSV_COLUMNS = [
  'namespace',
  'workflow',
  'task',
  'runs',
  'attempts',
  'taskHours',
  'estimatedCost',
  'actualCost',
  'savings',
] as const;

/** A CSV field as RFC 4180 has it: quoted when it holds a comma, a quote or a line break. */
function field(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The report as CSV: a header, one line per row, and the currency as a column. */
export function usageCsv(report: ApiBody.UsageReport): string {
  const lines = [[...CSV_COLUMNS, 'currency'].join(',')];
  for (const row of report.items)
    lines.push([...CSV_COLUMNS.map((c) => field(row[c])), field(report.currency)].join(','));
  return `${lines.join('\n')}\n`;
}
