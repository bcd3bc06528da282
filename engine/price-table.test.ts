import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_TABLE, pricePerHour } from './cost.ts';
import { PRICE_TABLE_CODE, PRICE_TABLE_SECTIONS, parsePriceTable } from './price-table.ts';

const F = '/etc/maestro/prices.yaml';

function refusal(doc: unknown): { code: string; message: string } {
  try {
    parsePriceTable(doc, F);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('the table was accepted');
}

describe('the operator price table', () => {
  it('lays the operator prices over the default table: what is not given stays the default', () => {
    const table = parsePriceTable({ perHour: { kubernetes: { large: 1.5 }, '*': { small: 0.07 } } }, F);
    expect(pricePerHour(table, 'kubernetes', 'large')).toBe(1.5);
    // kubernetes' other classes come from the operator's `*` row, then the default.
    expect(pricePerHour(table, 'kubernetes', 'small')).toBe(0.07);
    expect(pricePerHour(table, 'kubernetes', 'medium')).toBe(DEFAULT_PRICE_TABLE.perHour['*']!.medium);
    expect(pricePerHour(table, 'local', 'large')).toBe(DEFAULT_PRICE_TABLE.perHour['*']!.large);
    expect(table.currency).toBe('USD');
  });

  it('names the file and the field of every mistake', () => {
    const zero = refusal({ perHour: { kubernetes: { large: 0 } } });
    expect(zero.code).toBe(PRICE_TABLE_CODE);
    expect(zero.message).toBe(`${F}: perHour.kubernetes.large: expected a price per hour above 0, got 0`);
    expect(refusal({ perHour: { local: { huge: 1 } } }).message).toContain(
      'perHour.local.huge: unknown resource class',
    );
    expect(refusal({ perhour: {} }).message).toContain(`${F}: perhour: unknown key`);
    expect(refusal({ currency: 'dollars' }).message).toContain('currency: expected an ISO 4217 code');
    expect(refusal({ perHour: { local: 3 } }).message).toContain('perHour.local: expected a mapping');
    expect(refusal('prices').message).toContain('(top level)');
  });

  it('a table in another currency must price every class itself', () => {
    expect(refusal({ currency: 'EUR', perHour: { '*': { small: 1 } } }).message).toContain(
      'perHour.*.medium: missing',
    );
    const eur = parsePriceTable(
      { currency: 'EUR', perHour: { '*': { small: 1, medium: 2, large: 3, xlarge: 4 } } },
      F,
    );
    expect(pricePerHour(eur, 'serverless', 'xlarge')).toBe(4);
  });

  it('takes sections other modules register, and keeps them apart from the two of its own', () => {
    PRICE_TABLE_SECTIONS.extra = (value) => value;
    try {
      const table = parsePriceTable({ extra: { spot: 0.3 } }, F);
      expect(table.sections).toEqual({ extra: { spot: 0.3 } });
    } finally {
      delete PRICE_TABLE_SECTIONS.extra;
    }
  });
});
