/**
 * The operator's price table file (MAESTRO_PRICE_TABLE, docs/budgets.md): YAML or JSON, read
 * once at start-up and checked by the engine's parsePriceTable, so a misspelt class or a zero
 * price stops the process with the file and the field named instead of pricing a task at nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { yamlLibrary } from '../compiler/index.ts';
import { UsageError } from '../core/index.ts';
import { parsePriceTable, priceTableError, type PriceTable } from '../engine/index.ts';

export function readPriceTableFile(file: string): PriceTable {
  if (!existsSync(file))
    throw new UsageError(`the price table ${file} does not exist`, { hint: 'check MAESTRO_PRICE_TABLE' });
  let doc: unknown;
  try {
    doc = yamlLibrary().parse(readFileSync(file, 'utf8')); // yaml loads only when the file exists
  } catch (error) {
    throw priceTableError(
      file,
      '(file)',
      `not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  return parsePriceTable(doc, file);
}

/** MAESTRO_PRICE_TABLE, relative to the working directory; unset or empty: the default table. */
export function priceTableSetting(value: string | undefined, cwd: string): { prices?: PriceTable } {
  if (value === undefined || value === '') return {};
  return { prices: readPriceTableFile(resolve(cwd, value)) };
}
