import { describe, expect, it } from 'vitest';
import type { PlanSchedule } from '../../compiler/index.ts';
import { dueSlots, nextSlot, slotsBetween } from './due-slots.ts';

const at = (iso: string) => Date.parse(iso);
const hourly = (catchUp: PlanSchedule['catchUp'], timezone = 'UTC'): PlanSchedule => ({
  cron: '0 * * * *',
  timezone,
  catchUp,
});
// Down from 00:30 to 05:10: slots 01:00 … 05:00 were missed.
const window = { afterMs: at('2026-03-01T00:30:00Z'), nowMs: at('2026-03-01T05:10:00Z'), graceMs: 60_000 };
const iso = (slots: number[]) => slots.map((s) => new Date(s).toISOString().slice(11, 16));

describe('dueSlots', () => {
  it('latest (the default) runs the latest missed slot only', () => {
    expect(iso(dueSlots(hourly('latest'), window))).toEqual(['05:00']);
  });

  it('none skips missed slots but keeps an on-time one', () => {
    expect(dueSlots(hourly('none'), window)).toEqual([]);
    const onTime = { ...window, nowMs: at('2026-03-01T05:00:30Z') };
    expect(iso(dueSlots(hourly('none'), onTime))).toEqual(['05:00']);
  });

  it('a duration runs each missed slot no older than it; all runs every one', () => {
    expect(iso(dueSlots(hourly({ withinMs: 2 * 3_600_000 }), window))).toEqual(['04:00', '05:00']);
    expect(iso(dueSlots(hourly('all'), window))).toEqual(['01:00', '02:00', '03:00', '04:00', '05:00']);
  });

  it('caps `all` at the latest 100 slots, however long the downtime', () => {
    const year = { afterMs: at('2025-01-01T00:00:00Z'), nowMs: at('2026-01-01T00:00:00Z'), graceMs: 60_000 };
    const slots = dueSlots({ cron: '* * * * *', timezone: 'UTC', catchUp: 'all' }, year);
    expect(slots).toHaveLength(100);
    expect(slots.at(-1)).toBe(at('2026-01-01T00:00:00Z'));
  });

  it('reads the cron fields in the time zone, across a daylight-saving change', () => {
    const paris: PlanSchedule = { cron: '0 3 * * *', timezone: 'Europe/Paris', catchUp: 'all' };
    const slots = slotsBetween(paris, at('2026-03-27T00:00:00Z'), at('2026-03-31T00:00:00Z'), 10);
    // 03:00 in Paris is 02:00Z in winter (CET) and 01:00Z from 29 March (CEST).
    expect(slots.map((s) => new Date(s).toISOString())).toEqual([
      '2026-03-27T02:00:00.000Z',
      '2026-03-28T02:00:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T01:00:00.000Z',
    ]);
    expect(nextSlot(paris, at('2026-03-30T01:00:00Z'))).toBe(at('2026-03-31T01:00:00Z'));
  });

  it('a slot exactly at the watermark is not due again; one exactly now is', () => {
    const exact = { afterMs: at('2026-03-01T04:00:00Z'), nowMs: at('2026-03-01T05:00:00Z'), graceMs: 0 };
    expect(iso(dueSlots(hourly('all'), exact))).toEqual(['05:00']);
  });
});
