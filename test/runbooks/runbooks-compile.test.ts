/**
 * Every runbook in blueprints/runbooks/ compiles to a plan with no errors, is a `kind: Runbook` of
 * the `ops` namespace named as its file, and has its page in docs/runbooks/ with the five parts
 * an operator needs (what it is for, inputs, what it changes, how to verify, how to roll back).
 * A runbook's secrets are named, never inlined: every `${secrets.X}` stays an expression.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import planSchema from '../../schemas/plan.schema.json' with { type: 'json' };
import { compileManifest } from '../../compiler/index.ts';
import { loadBuiltinCatalog } from '../../tasks/index.ts';

const root = join(import.meta.dirname, '..', '..');
const folder = join(root, 'blueprints', 'runbooks');
const catalog = await loadBuiltinCatalog();
const validatePlan = new Ajv2020({ allErrors: true, strict: false }).compile(planSchema);
/** The eight runbooks of issue 16 (SM-182). */
export const RUNBOOKS = [
  'chaos-drill',
  'demo-seed',
  'deploy-promote',
  'dev-bootstrap',
  'disclosure-packager',
  'ingest-backfill',
  'rollback',
  'schema-replay',
];
const files = readdirSync(folder)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const HEADINGS = ['## For', '## Inputs', '## What it changes', '## How to verify', '## How to roll back'];

describe('blueprints/runbooks', () => {
  it('holds the eight runbooks, and nothing else', () => {
    expect(files.map((f) => f.replace(/\.yaml$/, ''))).toEqual(RUNBOOKS);
  });

  for (const file of files) {
    const name = file.replace(/\.yaml$/, '');
    it(`${name} compiles to a Runbook plan, and its page says what an operator needs`, () => {
      const result = compileManifest(readFileSync(join(folder, file)), { catalog, file });
      expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const plan = result.plan!;
      expect(plan.workflow).toMatchObject({ kind: 'Runbook', name, namespace: 'ops' });
      expect(validatePlan(plan), JSON.stringify(validatePlan.errors)).toBe(true);
      for (const task of plan.tasks)
        for (const value of Object.values(task.env))
          if (value.includes('secrets.')) expect(value).toMatch(/^\$\{secrets\.[A-Z_]+\}$/);
      const page = join(root, 'docs', 'runbooks', `${name}.md`);
      expect(existsSync(page), page).toBe(true);
      const text = readFileSync(page, 'utf8');
      for (const heading of HEADINGS) expect(text, `${name}.md`).toContain(`\n${heading}\n`);
      expect(readFileSync(join(root, 'docs', 'runbooks', 'README.md'), 'utf8')).toContain(`(${name}.md)`);
    });
  }
});
