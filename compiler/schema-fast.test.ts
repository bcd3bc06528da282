// The typed walk (schema-fast.ts) may only say "valid" where ajv says so: checked against the
// generated validator on generated tasks, and the schema fragments it restates are pinned.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ValidateFunction } from 'ajv';
import { validate as generated } from './generated/manifest-validator.ts';
import { plainTaskValid } from './schema-fast.ts';
import { ajvErrorsToFindings, maxTasks, validateManifestSchema } from './validate-schema.ts';

const schema = JSON.parse(
  readFileSync(new URL('../schemas/manifest.schema.json', import.meta.url), 'utf8'),
) as {
  $defs: Record<string, Record<string, unknown>>;
};
/** The schema without its annotations (a `description` text; not the task member so named). */
const strip = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, (k, v: unknown) =>
      (k === 'description' && typeof v === 'string') || k === 'examples' ? undefined : v,
    ),
  );

const manifest = (tasks: unknown[]) => ({
  apiVersion: 'maestro/v1',
  kind: 'Workflow',
  metadata: { name: 'fast' },
  spec: { tasks },
});
const validate = generated as unknown as ValidateFunction;
const ajvValid = (tasks: unknown[]): boolean => validate(manifest(tasks)) as boolean;

describe('schema-fast: the schema it restates', () => {
  it('pins the Task rules and the definitions the walk decides by', () => {
    const task = strip(schema.$defs.Task) as Record<string, unknown>;
    const properties = task.properties as Record<string, unknown>;
    expect({ ...task, properties: undefined, title: undefined }).toEqual({
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      not: { not: { anyOf: [{ required: ['run'] }, { required: ['uses'] }, { required: ['image'] }] } },
      dependentSchemas: {
        run: { not: { anyOf: [{ required: ['uses'] }, { required: ['image'] }] } },
        uses: { not: { required: ['image'] } },
        command: { required: ['image'] },
        args: { required: ['image'] },
      },
    });
    expect(
      Object.fromEntries(
        ['id', 'description', 'run', 'env', 'needs', 'when', 'outputs', 'timeout', 'runner', 'resources']
          .concat(['ifSkipped', 'onInterrupt', 'network'])
          .map((k) => [k, properties[k]]),
      ),
    ).toEqual({
      id: { $ref: '#/$defs/Identifier' },
      description: { type: 'string', maxLength: 1024 },
      run: {
        oneOf: [
          { type: 'string', minLength: 1, maxLength: 65536 },
          { type: 'array', minItems: 1, maxItems: 1024, items: { type: 'string', maxLength: 65536 } },
        ],
      },
      env: { $ref: '#/$defs/Env' },
      needs: { type: 'array', maxItems: 1024, items: { type: 'string', maxLength: 64 } },
      when: { type: 'string', minLength: 1, maxLength: 4096 },
      outputs: { type: 'array', maxItems: 256, uniqueItems: true, items: { $ref: '#/$defs/Identifier' } },
      timeout: { $ref: '#/$defs/Duration' },
      runner: { $ref: '#/$defs/Runner' },
      resources: { $ref: '#/$defs/Resources' },
      ifSkipped: { enum: ['skip', 'run'] },
      onInterrupt: { enum: ['retry', 'fail'] },
      network: { enum: ['none'] },
    });
    const defs = Object.fromEntries(
      ['Identifier', 'Env', 'Duration', 'Runner', 'Resources'].map((k) => [k, strip(schema.$defs[k])]),
    );
    expect(defs).toEqual({
      Identifier: { title: 'ManifestIdentifier', type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_-]{0,63}$' },
      Env: {
        title: 'ManifestEnv',
        type: 'object',
        maxProperties: 256,
        propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' },
        additionalProperties: { type: ['string', 'number', 'boolean'] },
      },
      Duration: {
        title: 'ManifestDuration',
        type: 'string',
        pattern: '^([0-9]{1,9}(ms|s|m|h|d))+$',
        maxLength: 64,
      },
      Runner: { title: 'ManifestRunner', enum: ['local', 'container', 'kubernetes', 'serverless'] },
      Resources: { title: 'ManifestResources', enum: ['small', 'medium', 'large', 'xlarge'] },
    });
    const tasks = (strip(schema.$defs.Spec) as { properties: { tasks: unknown } }).properties.tasks;
    expect(tasks).toEqual({
      type: 'array',
      minItems: 1,
      maxItems: maxTasks,
      items: { $ref: '#/$defs/Task' },
    });
  });
});

// Values near each rule's edges, valid and not, per member; plus members the walk leaves to ajv.
const long = (n: number, c = 'a') => c.repeat(n);
const pools: Record<string, unknown[]> = {
  id: [
    'a',
    'task_1',
    'A-b',
    '_',
    'a-',
    'Z9',
    long(64),
    long(65),
    '1a',
    '-a',
    '',
    'a b',
    'a.b',
    '@',
    '[',
    '`',
    '{',
    'é',
    'ſ',
    7,
    null,
  ],
  description: ['', 'x', long(1024), long(1025), '😀'.repeat(600), 3],
  run: ['echo hi', '', long(65536), long(65537), ['echo'], [], 5, null, { a: 1 }],
  env: [
    {},
    { A: '1', _b: 2, C: true },
    { 'A-B': '1' },
    { '1A': 'x' },
    { A: null },
    { A: [] },
    { A: {} },
    [],
    { A: Number.NaN },
    { A: Number.POSITIVE_INFINITY },
    Object.fromEntries([...Array(257)].map((_, i) => [`K${i}`, 'v'])),
    { [long(128, 'A')]: 'v' },
    { [long(129, 'A')]: 'v' },
    { _: 'v', a_9: 'v', Z: 'v' },
    { '9': 'v' },
    { '@': 'v' },
    'A=1',
  ] as unknown[],
  needs: [
    [],
    ['a', 'b'],
    [long(64)],
    [long(65)],
    [3],
    'a',
    null,
    [...Array(1025)].map(() => 'a'),
    ['😀'.repeat(40)],
  ],
  when: ['true', '', long(4096), long(4097), 1],
  outputs: [
    [],
    ['result'],
    ['a', 'a'],
    ['a', 'b', 'a'],
    ['1x'],
    'result',
    [3],
    [...Array(17)].map((_, i) => `o${i}`),
  ],
  timeout: [
    '10m',
    '1h30m',
    '500ms',
    '10',
    'm',
    '',
    '1234567890s',
    long(30, '1s'.repeat(1)),
    '1s'.repeat(33),
    10,
  ],
  runner: ['local', 'kubernetes', 'Local', 'docker', 1],
  resources: ['small', 'xlarge', 'huge', null],
  ifSkipped: ['skip', 'run', 'never'],
  onInterrupt: ['retry', 'fail', 'stop'],
  network: ['none', 'host'],
  uses: ['tasks/http@1', 'bad'],
  image: ['busybox', ''],
  command: [['sh']],
  args: [['-c']],
  retry: [{ limit: 1 }, { limit: -1 }],
  cache: [{ enabled: true }],
  hostAccess: [true, false],
  with: [{}],
  matrix: [{ os: ['linux'] }],
  artifacts: [['dist/']],
  placement: [{ deferrable: true, deadline: '1h' }],
  unknown: [1],
};
const keys = Object.keys(pools);
const usual = {
  id: 'build',
  description: 'compile',
  run: 'echo "${params.region}"',
  env: { SHARD: '1', N: 2, ON: true },
  needs: ['a', 'b'],
  when: 'params.shards > 2',
  outputs: ['result', 'digest'],
  timeout: '10m',
  runner: 'local',
  resources: 'small',
};
/** A member set to one of its pool's values (an index past the pool deletes it). */
const change = fc.record({ key: fc.constantFrom(...keys), pick: fc.nat() });
const apply = (base: Record<string, unknown>, changes: { key: string; pick: number }[]) => {
  const t: Record<string, unknown> = { ...base };
  for (const { key, pick } of changes) {
    const pool = pools[key] as unknown[];
    const at = pick % (pool.length + 1);
    if (at === pool.length) delete t[key];
    else t[key] = pool[at];
  }
  return t;
};
// Near the usual task (one to three members changed: each rule's edges one at a time), or any
// mix of members from scratch.
const task = fc.oneof(
  fc.array(change, { minLength: 1, maxLength: 3 }).map((c) => apply(usual, c)),
  fc.array(change, { maxLength: 8 }).map((c) => apply({}, c)),
);

describe('schema-fast: the walk against ajv', () => {
  it('says valid only where ajv says valid, and decides the plain tasks', () => {
    let decided = 0;
    fc.assert(
      fc.property(task, (t) => {
        if (plainTaskValid(t)) {
          decided++;
          expect(ajvValid([t])).toBe(true);
        }
      }),
      { numRuns: 4000, seed: 18 },
    );
    // Not vacuous: a good share of the generated tasks are plain and valid.
    expect(decided).toBeGreaterThan(400);
  });

  it('accepts the usual task and leaves every other shape to ajv', () => {
    expect(plainTaskValid(usual)).toBe(true);
    for (const extra of [
      { uses: 'tasks/http@1' },
      { retry: { limit: 1 } },
      { run: ['echo'] },
      { unknown: 1 },
    ])
      expect(plainTaskValid({ ...usual, ...extra })).toBe(false);
    expect(plainTaskValid({ run: 'echo' })).toBe(false);
    expect(plainTaskValid(Object.assign(Object.create({ inherited: 1 }) as object, usual))).toBe(false);
  });

  it('reports exactly what ajv reports for the whole manifest, whichever tasks are plain', () => {
    fc.assert(
      fc.property(fc.array(task, { minLength: 1, maxLength: 6 }), (tasks) => {
        const value = manifest(tasks);
        const before = validate(value) ? [] : ajvErrorsToFindings(validate.errors ?? []);
        expect(validateManifestSchema(value)).toEqual(before);
      }),
      { numRuns: 1500, seed: 7 },
    );
  });
});
