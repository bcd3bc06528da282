/* eslint-disable @typescript-eslint/no-explicit-any -- each case edits a contract document by hand: loosely typed on purpose */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkContracts } from '../../cli/sig-contract-check.ts';
import { runCaptured } from '../cli-helpers.ts';
import { repoRoot } from '../helpers/action-step.ts';

/**
 * SM-214's breaking-change check, on a real git repository holding a copy of schemas/sig tagged
 * as a release, with real oasdiff (built by scripts/setup/oasdiff.sh). Each deliberately broken
 * contract must fail; the same change as a new major, and compatible additions, must pass.
 */
const oasdiff = process.env.MAESTRO_OASDIFF ?? join(homedir(), '.cache/maestro/bin/oasdiff');
let repo: string;

const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
const edit = (file: string, change: (doc: any) => void) => {
  const path = join(repo, 'schemas/sig', file);
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  change(doc);
  writeFileSync(path, JSON.stringify(doc, null, 2));
};
const check = () => checkContracts({ repoDir: repo, oasdiff });
const rules = async () => (await check()).breaking.map((b) => `${b.document} ${b.rule}`);

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), 'maestro-contract-check-'));
  cpSync(join(repoRoot, 'schemas/sig'), join(repo, 'schemas/sig'), { recursive: true });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'release');
  git('tag', 'v1.0.0');
});
afterEach(() => rmSync(repo, { recursive: true, force: true }));

describe('the SIG contract check (oasdiff + the JSON Schema check)', () => {
  it('compares with the last release tag and passes an unchanged tree', async () => {
    const result = await check();
    expect(result.base).toBe('v1.0.0');
    expect(result.compared).toHaveLength(9);
    expect(result.breaking).toEqual([]);
  });

  it('passes compatible changes: an optional field, a new enum value of a request', async () => {
    edit('ingest/v3/ingest.schema.json', (d) => {
      d.$defs.Record.properties.priority = { type: 'integer' };
      d.$defs.Record.properties.kind.enum.push('span');
    });
    expect(await rules()).toEqual([]);
  });

  it.each([
    ['a removed field', (d: any) => delete d.$defs.Record.properties.labels, 'request-property-removed'],
    [
      'a new required field',
      (d: any) => d.$defs.Record.required.push('labels'),
      'request-property-became-required',
    ],
    [
      'a removed enum value',
      (d: any) => d.$defs.Record.properties.kind.enum.pop(),
      'request-property-enum-value-removed',
    ],
    [
      'a narrowed type',
      (d: any) => (d.$defs.Record.properties.producer.properties.name.maxLength = 20),
      'request-property-max-length-decreased',
    ],
    [
      'a renamed field',
      (d: any) => {
        d.$defs.Record.properties.occurred = d.$defs.Record.properties.occurredAt;
        delete d.$defs.Record.properties.occurredAt;
        d.$defs.Record.required = d.$defs.Record.required.map((r: string) =>
          r === 'occurredAt' ? 'occurred' : r,
        );
      },
      'new-required-request-property',
    ],
  ])('fails on %s in a released major', async (_what, change, rule) => {
    edit('ingest/v3/ingest.schema.json', change);
    const found = await rules();
    expect(found).toContain(`ingest/v3/openapi.json ${rule}`);
    expect(found).toContain(`ingest/v3/ingest.schema.json ${rule}`);
  });

  it('the JSON Schema check catches a break in a definition no operation uses', async () => {
    edit('claims/v3/claims.schema.json', (d) => {
      d.$defs.Unused = { type: 'object', properties: { a: { type: 'string' } } };
    });
    git('commit', '-qam', 'unused def');
    git('tag', 'v1.1.0');
    edit('claims/v3/claims.schema.json', (d) => (d.$defs.Unused.properties.a.type = 'integer'));
    const result = await check();
    expect(result.base).toBe('v1.1.0');
    expect(result.breaking.map((b) => b.document)).toEqual(['claims/v3/claims.schema.json']);
  });

  it('the same break as a new major passes; removing a released major fails', async () => {
    cpSync(join(repo, 'schemas/sig/ingest/v3'), join(repo, 'schemas/sig/ingest/v4'), { recursive: true });
    edit('ingest/v4/ingest.schema.json', (d) => delete d.$defs.Record.properties.labels);
    const added = await check();
    expect(added.added).toEqual(['ingest/v4']);
    expect(added.breaking).toEqual([]);
    renameSync(join(repo, 'schemas/sig/ingest/v1'), join(repo, 'ingest-v1-gone'));
    expect(await rules()).toEqual(['ingest/v1/openapi.json major-removed']);
  });

  it('maestro sig-contract-check exits 1 on a broken contract and names it', async () => {
    edit('runbook-trigger/v3/runbook-trigger.schema.json', (d) =>
      d.$defs.TriggerRequest.required.push('reason'),
    );
    const { code, stdout } = await runCaptured(['sig-contract-check', '--base', 'main'], repo, {
      MAESTRO_OASDIFF: oasdiff,
    });
    expect(code).toBe(1);
    expect(stdout).toContain('breaking runbook-trigger/v3/openapi.json [request-property-became-required]');
    git('checkout', '--', '.');
    expect((await runCaptured(['sig-contract-check'], repo, { MAESTRO_OASDIFF: oasdiff })).code).toBe(0);
  });
});

it("this repository's contracts have no breaking change against main", async () => {
  const result = await checkContracts({ repoDir: repoRoot, oasdiff, base: 'main' });
  expect(result.breaking).toEqual([]);
});
