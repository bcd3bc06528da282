import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../core/index.ts';
import { runCli } from '../cli/index.ts';
import { captureIo } from './cli-helpers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const examples = [
  'examples/quickstart/.maestro/workflows/hello.yaml',
  'examples/ci-build-test-deploy/.maestro/workflows/build-test-deploy.yaml',
  'examples/data-pipeline/.maestro/workflows/nightly-etl.yaml',
  'examples/http-task/.maestro/workflows/deploy-hook.yaml',
];
const broken = 'examples/quickstart/broken/.maestro/workflows/broken.yaml';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(root);
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

/** Every edge goes from an earlier task to a later one: the order is topological. */
function expectTopological(plan: Plan): void {
  const position = new Map(plan.tasks.map((t, i) => [t.id, i]));
  for (const edge of plan.edges) expect(position.get(edge.from)!).toBeLessThan(position.get(edge.to)!);
  for (const task of plan.tasks)
    for (const need of task.needs) expect(position.get(need)!).toBeLessThan(position.get(task.id)!);
}

describe('maestro compile', () => {
  it.each(examples)('compiles %s into a Plan in topological order', async (file) => {
    const { code, out, err } = await cli(['compile', file]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const plan = JSON.parse(out) as Plan;
    expect(plan.kind).toBe('Plan');
    expect(plan.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(plan.tasks.length).toBeGreaterThan(1);
    expect(plan.edges.length).toBeGreaterThan(0);
    expectTopological(plan);
  });

  it('expands the CI matrix (fan-out) and fans in', async () => {
    const plan = JSON.parse((await cli(['compile', examples[1]!])).out) as Plan;
    const tests = plan.tasks.filter((t) => t.declaredId === 'test');
    expect(tests).toHaveLength(4);
    const deploy = plan.tasks.find((t) => t.id === 'deploy')!;
    for (const t of tests) expect(deploy.needs).toContain(t.id);
    expect(plan.approvals).toEqual({ required: 2, from: ['team:platform-leads', 'codeowners'] });
  });

  it('--format text shows the digest, numbered tasks and edges', async () => {
    const { code, out } = await cli(['compile', examples[0]!, '--format', 'text']);
    expect(code).toBe(0);
    const json = JSON.parse((await cli(['compile', examples[0]!])).out) as Plan;
    expect(out).toContain(`digest ${json.digest}`);
    expect(out).toContain(`Workflow quickstart/hello`);
    json.tasks.forEach((t, i) => expect(out).toContain(`${String(i + 1).padStart(3)}. ${t.id}  [`));
    for (const e of json.edges) expect(out).toContain(`  ${e.from} -> ${e.to}`);
  });

  it('renders errors like validate, on stderr, and exits 1', async () => {
    const { code, out, err } = await cli(['compile', broken]);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/broken\.yaml:\d+:\d+: error\[MS2002\]/);
    expect(err).toContain('^~~~~~');
  });

  it('refuses a folder holding several manifests (exit 2)', async () => {
    const { code, err } = await cli(['compile', 'examples']);
    expect(code).toBe(2);
    expect(err).toContain('pass one manifest file');
  });
});

describe('maestro graph', () => {
  it('draws Mermaid with one node per task and one arrow per edge', async () => {
    const plan = JSON.parse((await cli(['compile', examples[2]!])).out) as Plan;
    const { code, out } = await cli(['graph', examples[2]!]);
    expect(code).toBe(0);
    expect(out.startsWith('flowchart')).toBe(true);
    expect(out.match(/-->/g)).toHaveLength(plan.edges.length);
    for (const t of plan.tasks) expect(out).toContain(`"${t.id}"`);
  });

  it('draws Graphviz dot', async () => {
    const plan = JSON.parse((await cli(['compile', examples[2]!])).out) as Plan;
    const { code, out } = await cli(['graph', examples[2]!, '--format', 'dot']);
    expect(code).toBe(0);
    expect(out).toMatch(/^digraph "nightly-etl" \{/);
    expect(out.match(/ -> /g)).toHaveLength(plan.edges.length);
  });

  it('rejects an unknown format (exit 2) and a broken manifest (exit 1)', async () => {
    expect((await cli(['graph', examples[0]!, '--format', 'png'])).code).toBe(2);
    expect((await cli(['graph', broken])).code).toBe(1);
  });

  it.each(['compile', 'graph'])('%s has --help', async (command) => {
    const { code, out } = await cli([command, '--help']);
    expect(code).toBe(0);
    expect(out).toContain(`Usage: maestro ${command} [options] <file>`);
  });
});
