/**
 * An operator's price table (MAESTRO_PRICE_TABLE, docs/budgets.md), checked and laid over the
 * default one: every price an operator does not give stays the default, so no runner or class
 * becomes free by being left out. Pure (the file is read by runtime/): a bad table is an
 * InputError `price_table_invalid` naming the file and the field (`perHour.kubernetes.large`).
 *
 * Additive by design: `PRICE_TABLE_SECTIONS` is the table of top-level keys and their checkers;
 * a module that prices more (flavors, time-of-day windows: ADR-051) adds its section there and
 * reads its part from `PriceTable.sections`, without this file's two sections changing.
 */
import { DEFAULT_PRICE_TABLE, RESOURCE_CLASSES, type PriceTable } from './cost.ts';
import { checkPlacementSection } from './placement/price-section.ts';
import { checkClassPrices, isMapping, priceTableError } from './price-table-checks.ts';

export { PRICE_TABLE_CODE, priceTableError } from './price-table-checks.ts';

/** A checker of one top-level section: throws priceTableError, returns the section's value. */
export type SectionChecker = (value: unknown, file: string, field: string) => unknown;

function checkCurrency(value: unknown, file: string, field: string): string {
  if (typeof value === 'string' && /^[A-Z]{3}$/.test(value)) return value;
  throw priceTableError(file, field, `expected an ISO 4217 code such as USD, got ${JSON.stringify(value)}`);
}

function checkPerHour(value: unknown, file: string, field: string): Record<string, Record<string, number>> {
  if (!isMapping(value))
    throw priceTableError(file, field, 'expected a mapping of runner kind (or `*`) to resource class prices');
  const out: Record<string, Record<string, number>> = {};
  for (const [runner, row] of Object.entries(value)) {
    const at = `${field}.${runner}`;
    if (!isMapping(row))
      throw priceTableError(file, at, 'expected a mapping of resource class to a price per hour');
    out[runner] = checkClassPrices(row, file, at);
  }
  return out;
}

/** The top-level keys of a price table file and their checkers (other modules add theirs). */
export const PRICE_TABLE_SECTIONS: Record<string, SectionChecker> = {
  currency: checkCurrency,
  perHour: checkPerHour,
  // Flavors and time-of-day windows (ADR-051): engine/placement/.
  placement: checkPlacementSection,
};

/**
 * The parsed document as a price table over the defaults. A currency other than the default's
 * needs a `*` row pricing every class: default prices in another currency would be wrong.
 */
export function parsePriceTable(doc: unknown, file: string): PriceTable {
  if (!isMapping(doc))
    throw priceTableError(file, '(top level)', 'expected a mapping with `currency` and `perHour`');
  const sections: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    const check = PRICE_TABLE_SECTIONS[key];
    if (!check)
      throw priceTableError(
        file,
        key,
        'unknown key',
        `the keys are ${Object.keys(PRICE_TABLE_SECTIONS).join(', ')}`,
      );
    sections[key] = check(value, file, key);
  }
  const currency = (sections.currency as string | undefined) ?? DEFAULT_PRICE_TABLE.currency;
  const given = (sections.perHour as Record<string, Record<string, number>> | undefined) ?? {};
  const foreign = currency !== DEFAULT_PRICE_TABLE.currency;
  const star = { ...(foreign ? {} : DEFAULT_PRICE_TABLE.perHour['*']), ...given['*'] };
  if (foreign)
    for (const cls of Object.keys(RESOURCE_CLASSES))
      if (star[cls] === undefined)
        throw priceTableError(
          file,
          `perHour.*.${cls}`,
          `missing: a table in ${currency} prices every class in its \`*\` row`,
        );
  const perHour: Record<string, Record<string, number>> = { '*': star };
  for (const [runner, row] of Object.entries(given))
    if (runner !== '*') perHour[runner] = { ...star, ...row };
  const { currency: _c, perHour: _p, ...rest } = sections;
  return { currency, perHour, ...(Object.keys(rest).length ? { sections: rest } : {}) };
}
