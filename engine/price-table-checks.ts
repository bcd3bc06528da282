/**
 * What every section of a price table file is checked with (price-table.ts, placement/): the one
 * error, naming the file and the field, and the check of a row of per-class prices.
 */
import { InputError } from '../core/index.ts';
import { RESOURCE_CLASSES } from './cost.ts';

export const PRICE_TABLE_CODE = 'price_table_invalid';

export function priceTableError(file: string, field: string, message: string, hint?: string): InputError {
  return new InputError(PRICE_TABLE_CODE, `${file}: ${field}: ${message}`, {
    hint: hint ?? 'see docs/budgets.md (the operator price table) for the format',
  });
}

export const isMapping = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A mapping of resource class to a price per hour, each class known and each price above 0: a
 * free class or flavor would let the budget guard wave every task through, and always win a
 * placement.
 */
export function checkClassPrices(
  row: Record<string, unknown>,
  file: string,
  at: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [cls, price] of Object.entries(row)) {
    if (!(cls in RESOURCE_CLASSES))
      throw priceTableError(
        file,
        `${at}.${cls}`,
        'unknown resource class',
        `the classes are ${Object.keys(RESOURCE_CLASSES).join(', ')}`,
      );
    if (typeof price !== 'number' || !Number.isFinite(price) || price <= 0)
      throw priceTableError(
        file,
        `${at}.${cls}`,
        `expected a price per hour above 0, got ${JSON.stringify(price)}`,
      );
    out[cls] = price;
  }
  return out;
}
