import { describe, expect, it } from 'vitest';
import { digestOf } from '../core/index.ts';
import { compileManifest } from './index.ts';
import { testCatalog } from './test-catalog.ts';

const compile = (triggers: string) =>
  compileManifest(
    `apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: demo }\nspec:\n  triggers:\n${triggers}  tasks:\n    - id: a\n      run: echo a\n`,
    { catalog: testCatalog, file: 'm.yaml' },
  );
const errors = (triggers: string) =>
  compile(triggers)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => ({ code: d.code, line: d.line, pointer: d.pointer }));

describe('triggers.schedule', () => {
  it('normalises a string, a list and objects into the plan (UTC and catch-up `latest` by default)', () => {
    const result = compile(
      `    schedule:\n      - "0  3 * * *"\n      - { cron: "@DAILY", timezone: Europe/Paris, catchUp: 6h }\n      - { cron: "*/15 * * * 1-5", catchUp: none }\n      - { cron: "0 0 1 * *", catchUp: all }\n`,
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.plan?.triggers.schedule).toEqual([
      { cron: '0 3 * * *', timezone: 'UTC', catchUp: 'latest' },
      { cron: '@daily', timezone: 'Europe/Paris', catchUp: { withinMs: 6 * 3_600_000 } },
      { cron: '*/15 * * * 1-5', timezone: 'UTC', catchUp: 'none' },
      { cron: '0 0 1 * *', timezone: 'UTC', catchUp: 'all' },
    ]);
    expect(compile('    schedule: "0 3 * * *"\n').plan?.triggers.schedule).toEqual([
      { cron: '0 3 * * *', timezone: 'UTC', catchUp: 'latest' },
    ]);
  });

  it('keeps the digest canonical (the fast path produces canonicalJson bytes)', () => {
    const plan = compile('    schedule: [{ cron: "5 4 * * *", timezone: Asia/Tokyo, catchUp: 2h }]\n').plan!;
    const { digest, ...rest } = plan;
    expect(digest).toBe(digestOf(rest));
  });

  it('reports an invalid cron expression at its line, each problem of a list', () => {
    expect(errors('    schedule:\n      - "0 3 * * *"\n      - "61 * * * *"\n      - "* * *"\n')).toEqual([
      { code: 'MS1013', line: 8, pointer: '/spec/triggers/schedule/1' },
      { code: 'MS1013', line: 9, pointer: '/spec/triggers/schedule/2' },
    ]);
    expect(errors('    schedule: "0 0 31 2 *"\n')).toEqual([
      { code: 'MS1013', line: 6, pointer: '/spec/triggers/schedule' },
    ]);
  });

  it('refuses seconds fields, @secondly and hashed values (minute resolution, deterministic slots)', () => {
    for (const cron of ['*/5 * * * * *', '@secondly', 'H * * * *'])
      expect(errors(`    schedule: "${cron}"\n`).map((e) => e.code)).toEqual(['MS1013']);
    expect(errors('    schedule: "0 3 * * thu"\n')).toEqual([]);
  });

  it('reports an unknown time zone and a bad catchUp on their own lines', () => {
    const found = errors(
      '    schedule:\n      - cron: "0 3 * * *"\n        timezone: Nowhere/Bogus\n        catchUp: sometimes\n',
    );
    expect(found).toEqual([
      { code: 'MS1014', line: 8, pointer: '/spec/triggers/schedule/0/timezone' },
      { code: 'MS1015', line: 9, pointer: '/spec/triggers/schedule/0/catchUp' },
    ]);
    expect(errors('    schedule: [{ cron: "0 3 * * *", timezone: "+01:00" }]\n').map((e) => e.code)).toEqual([
      'MS1014',
    ]);
  });

  it('leaves wrong shapes to the schema', () => {
    expect(errors('    schedule: [{ cron: 5 }]\n').map((e) => e.code)).not.toContain('MS1013');
    expect(errors('    schedule: [{ cron: "0 3 * * *", every: 1 }]\n').length).toBeGreaterThan(0);
  });
});
