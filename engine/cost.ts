/**
 * The cost model of a task attempt (docs/budgets.md): its runner and resource class priced by the
 * price table, times a duration. The default table prices every runner from the class's CPU and
 * memory at a public on-demand rate (AWS Fargate, Linux/x86, us-east-1: USD 0.04048 per vCPU-hour
 * and 0.004445 per GB-hour), so no runner or class is free out of the box; operators override it.
 */
export interface ClassSize {
  vcpu: number;
  memoryGb: number;
}

/** The resource classes of the manifest schema (`resources:`), as CPU and memory. */
export const RESOURCE_CLASSES: Record<string, ClassSize> = {
  small: { vcpu: 1, memoryGb: 2 },
  medium: { vcpu: 2, memoryGb: 4 },
  large: { vcpu: 4, memoryGb: 8 },
  xlarge: { vcpu: 8, memoryGb: 16 },
};

export interface PriceTable {
  currency: string;
  /** Per hour, by runner kind then resource class; `*` is any runner kind. */
  perHour: Record<string, Record<string, number>>;
  /**
   * The operator file's other sections, checked by their modules (price-table.ts
   * PRICE_TABLE_SECTIONS): room for flavors and time-of-day prices without changing this shape.
   */
  sections?: Record<string, unknown>;
}

const VCPU_HOUR = 0.04048;
const GB_HOUR = 0.004445;

function onDemand(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, size] of Object.entries(RESOURCE_CLASSES))
    out[name] = Math.round((size.vcpu * VCPU_HOUR + size.memoryGb * GB_HOUR) * 1e6) / 1e6;
  return out;
}

export const DEFAULT_PRICE_TABLE: PriceTable = { currency: 'USD', perHour: { '*': onDemand() } };

/** The hourly price of a runner and class; the small class's when the class is unknown (never 0). */
export function pricePerHour(table: PriceTable, runner: string, resources: string): number {
  const row = table.perHour[runner] ?? table.perHour['*'] ?? {};
  return row[resources] ?? row.small ?? onDemand().small!;
}

/** Cost of `ms` on a runner and class, in the table's currency. */
export function costOf(table: PriceTable, runner: string, resources: string, ms: number): number {
  return (pricePerHour(table, runner, resources) * ms) / 3_600_000;
}

/**
 * What an attempt actually cost: its price per hour when it started times its measured duration
 * (the receipt's `cost.actual`, and the cost metric's increment).
 */
export function attemptCost(perHour: number, startedAt: number, finishedAt: number): number {
  return (perHour * Math.max(0, finishedAt - startedAt)) / 3_600_000;
}

/** Money as a person reads it: at least 4 significant digits for small sums. */
export function formatMoney(amount: number, currency: string): string {
  return `${amount < 1 ? amount.toPrecision(4) : amount.toFixed(2)} ${currency}`;
}

/** What the budget guard lets an attempt start with: its price, its estimate, a soft warning. */
export interface BudgetPass {
  pricePerHour: number;
  estimatedCost: number;
  warning?: string;
}
