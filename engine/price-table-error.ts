/** The one error of a bad price table file, naming the file and the field (price-table.ts). */
import { InputError } from '../core/index.ts';

export const PRICE_TABLE_CODE = 'price_table_invalid';

export function priceTableError(file: string, field: string, message: string, hint?: string): InputError {
  return new InputError(PRICE_TABLE_CODE, `${file}: ${field}: ${message}`, {
    hint: hint ?? 'see docs/budgets.md (the operator price table) for the format',
  });
}
