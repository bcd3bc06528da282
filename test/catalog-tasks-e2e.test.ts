/**
 * Shared catalogs (`uses: <catalog>/<path>@<range>`), end to end through `maestro` with real git:
 * a catalog is a bare repository made by the test (read by a file:// URL, as the CLI may),
 * `.maestro/catalogs.yaml` names it at a tag, `maestro tasks lock` pins the task to a commit and
 * a digest with its spec, `validate` type-checks `with:` from the lock alone (the catalog
 * deleted), and `maestro run` fetches the locked commit into the task's workspace and runs it.
 *
 * The attacks: the tag moved after locking (the run still runs the locked code); the lock edited
 * by hand to name the new commit (the digest no longer matches: refused, nothing of the new code
 * runs); the lock edited to name another catalog URL, or left behind by a new ref (MS4013 at the
 * uses: line); a `uses:` path escaping the catalog with `..` (MS4010, and `tasks lock` refuses);
 * a catalog folder that is a symbolic link (`tasks lock` refuses).
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from './github-standin/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { runCaptured } from './cli-helpers.ts';

const GREET_JSON = {
  name: 'greet',
  version: '1.2.0',
  description: 'Greets someone.',
  support: 'community',
  inputs: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: { name: { type: 'string', description: 'Who to greet' } },
  },
  outputs: ['greeting'],
};

const greetTs = (word: string) => `import { defineTask, runMain } from '@summit-maestro/sdk';

export const greet = defineTask({
  name: 'greet',
  version: '1.2.0',
  spec: {
    inputs: ${JSON.stringify(GREET_JSON.inputs)},
    outputs: { type: 'object', required: ['greeting'], properties: { greeting: { type: 'string' } } },
  },
  async execute(inputs, ctx) {
    ctx.emit.log('${word} from the catalog');
    return { greeting: '${word} ' + inputs.name };
  },
} as const);

if (import.meta.main) await runMain(greet, process.env);
`;

function write(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

function commitAll(dir: string): string {
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'c']);
  return git(dir, ['rev-parse', 'HEAD']).trim();
}

/** A catalog's working copy and the bare repository it is pushed to (what catalogs.yaml names). */
function makeCatalog(): { work: string; bare: string; push: () => void } {
  const root = tempDir('maestro-catalog-');
  const work = join(root, 'work');
  const bare = join(root, 'catalog.git');
  mkdirSync(work);
  git(work, ['init', '-q', '--initial-branch', 'main']);
  write(work, {
    'greet/task.json': JSON.stringify(GREET_JSON, null, 2),
    'greet/index.ts': greetTs('hello'),
    'outside/secret.txt': 'not a task\n',
  });
  symlinkSync('../outside', join(work, 'linked'));
  commitAll(work);
  git(work, ['tag', 'v1']);
  git(root, ['init', '-q', '--bare', bare]);
  const push = () => git(work, ['push', '-q', '--force', bare, 'main', '+refs/tags/v1:refs/tags/v1']);
  push();
  return { work, bare, push };
}

const workflow = (uses: string, withValue = '{ name: Ada }') => `apiVersion: maestro/v1
kind: Workflow
metadata: { name: greet, namespace: demo }
spec:
  defaults: { runner: local, retry: { limit: 0 } }
  tasks:
    - id: hello
      uses: ${uses}
      with: ${withValue}
    - id: show
      run: echo "got \${tasks.hello.outputs.greeting}"
`;

function makeRepo(catalogUrl: string, uses = 'acme/greet@1', withValue?: string): string {
  const dir = tempDir('maestro-catalog-user-');
  git(dir, ['init', '-q', '--initial-branch', 'main']);
  write(dir, {
    '.maestro/catalogs.yaml': `catalogs:\n  acme: { url: "${catalogUrl}", ref: v1 }\n`,
    '.maestro/workflows/greet.yaml': workflow(uses, withValue),
  });
  commitAll(dir);
  return dir;
}

const env = (dir: string) => ({ PATH: process.env.PATH, HOME: dir, MAESTRO_PROVENANCE: 'off' });

function cli(dir: string, args: string[]) {
  return runCaptured(args, dir, env(dir));
}

async function validate(dir: string) {
  const result = await cli(dir, ['validate', '.', '--format', 'json']);
  const report = JSON.parse(result.stdout) as {
    files: { diagnostics: { code: string; line: number; message: string; hint?: string }[] }[];
  };
  return { code: result.code, diagnostics: report.files.flatMap((f) => f.diagnostics) };
}

const dataDirOf = (dir: string) => join(dir, '..', `data-${Math.random().toString(36).slice(2)}`);

async function lock(dir: string, dataDir: string) {
  return cli(dir, ['tasks', 'lock', '--data-dir', dataDir]);
}

async function run(dir: string, dataDir: string) {
  const result = await cli(dir, ['run', '.maestro/workflows/greet.yaml', '--data-dir', dataDir]);
  const runId = /run (r-\S+) /.exec(result.stdout)?.[1];
  const logs = runId ? (await cli(dir, ['runs', 'logs', runId, '--data-dir', dataDir])).stdout : '';
  return { ...result, logs };
}

const readLock = (dir: string) =>
  JSON.parse(readFileSync(join(dir, '.maestro/tasks.lock'), 'utf8')) as {
    catalogs: Record<string, { url: string; ref: string; commit: string }>;
    tasks: Record<string, { commit: string; digest: string; version: string; inputs: unknown }>;
  };

describe('uses: <catalog>/<path>@<range> with .maestro/tasks.lock', () => {
  it('locks, type-checks from the lock alone, and runs the locked task', async () => {
    const catalog = makeCatalog();
    const dir = makeRepo(`file://${catalog.bare}`);
    const dataDir = dataDirOf(dir);

    // No lock yet: a diagnostic at the uses: line, naming the command.
    const before = await validate(dir);
    expect(before.code).toBe(1);
    // CI's check, with no lock committed: fails, says what to run, and writes nothing.
    const unlocked = await cli(dir, ['tasks', 'lock', '--check', '--data-dir', dataDir]);
    expect(unlocked.code).toBe(1);
    expect(unlocked.stderr).toContain('tasks.lock is missing or stale');
    expect(unlocked.stderr).toContain('run maestro tasks lock');
    expect(() => readFileSync(join(dir, '.maestro/tasks.lock'))).toThrow();
    expect(before.diagnostics.filter((d) => d.code.startsWith('MS40'))).toMatchObject([
      { code: 'MS4012', line: 8 },
    ]);
    expect(before.diagnostics[0]!.hint).toContain('maestro tasks lock');

    const locked = await lock(dir, dataDir);
    expect(locked.stderr).toBe('');
    expect(locked.code).toBe(0);
    const file = readLock(dir);
    const head = git(catalog.bare, ['rev-parse', 'v1^{commit}']).trim();
    expect(file.catalogs.acme).toEqual({ url: catalog.bare, ref: 'v1', commit: head });
    expect(file.tasks['acme/greet']).toMatchObject({
      commit: head,
      version: '1.2.0',
      inputs: GREET_JSON.inputs,
    });
    expect(file.tasks['acme/greet']!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Locking again with nothing changed leaves the file as it was.
    const text = readFileSync(join(dir, '.maestro/tasks.lock'), 'utf8');
    await lock(dir, dataDir);
    expect(readFileSync(join(dir, '.maestro/tasks.lock'), 'utf8')).toBe(text);
    const fresh = await cli(dir, ['tasks', 'lock', '--check', '--data-dir', dataDir]);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain('is up to date');
    commitAll(dir);

    expect((await validate(dir)).diagnostics).toEqual([]);
    const ran = await run(dir, dataDir);
    expect(ran.stderr).not.toMatch(/error/i);
    expect(ran.code).toBe(0);
    expect(ran.logs).toContain('hello from the catalog');
    expect(ran.logs).toContain('got hello Ada');

    // Compiling needs the lock only: with the catalog gone, `with:` is still checked against it.
    rmSync(catalog.bare, { recursive: true, force: true });
    write(dir, { '.maestro/workflows/greet.yaml': workflow('acme/greet@1', '{ name: 7 }') });
    const typed = await validate(dir);
    expect(typed.diagnostics).toMatchObject([{ code: 'MS4004', line: 9 }]);

    // tasks list / show describe the locked task with its spec.
    const listed = JSON.parse((await cli(dir, ['tasks', 'list', '--format', 'json'])).stdout) as {
      tasks: { uses: string; support: string; source: string }[];
    };
    expect(listed.tasks).toContainEqual(
      expect.objectContaining({ uses: 'acme/greet@1', support: 'community', source: 'catalog' }),
    );
    const shown = JSON.parse((await cli(dir, ['tasks', 'show', 'acme/greet@1', '--format', 'json'])).stdout);
    expect(shown).toMatchObject({
      uses: 'acme/greet@1',
      version: '1.2.0',
      inputs: [{ name: 'name', type: 'string', required: true, description: 'Who to greet' }],
      outputs: ['greeting'],
      locked: { url: catalog.bare, commit: head, path: 'greet' },
      example: { uses: 'acme/greet@1', with: { name: expect.any(String) } },
    });
  }, 120_000);

  it('a tag moved after locking changes nothing; a lock edited to the new commit is refused by digest', async () => {
    const catalog = makeCatalog();
    const dir = makeRepo(catalog.bare);
    const dataDir = dataDirOf(dir);
    expect((await lock(dir, dataDir)).code).toBe(0);
    commitAll(dir);
    const lockedCommit = readLock(dir).catalogs.acme!.commit;

    // The catalog's owner (or an attacker with push access) moves v1 to other code.
    write(catalog.work, { 'greet/index.ts': greetTs('PWNED') });
    const moved = commitAll(catalog.work);
    git(catalog.work, ['tag', '-f', 'v1']);
    catalog.push();
    expect(moved).not.toBe(lockedCommit);
    // CI's check sees the lock is behind the tag, and leaves the lock alone.
    const lockText = readFileSync(join(dir, '.maestro/tasks.lock'), 'utf8');
    const check = await cli(dir, ['tasks', 'lock', '--check', '--data-dir', dataDir]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('stale');
    expect(readFileSync(join(dir, '.maestro/tasks.lock'), 'utf8')).toBe(lockText);

    const still = await run(dir, dataDir);
    expect(still.code).toBe(0);
    expect(still.logs).toContain('got hello Ada');
    expect(still.logs).not.toContain('PWNED');

    // The lock edited by hand to the moved commit, its digest left as it was.
    const edited = readLock(dir);
    edited.catalogs.acme!.commit = moved;
    edited.tasks['acme/greet']!.commit = moved;
    writeFileSync(join(dir, '.maestro/tasks.lock'), JSON.stringify(edited, null, 2));
    commitAll(dir);
    const refused = await run(dir, dataDir);
    expect(refused.code).toBe(1);
    expect(refused.logs).toContain('catalog_digest_mismatch');
    expect(refused.logs).not.toContain('PWNED');
    expect(refused.logs).not.toContain('got ');
  }, 120_000);

  it('a lock that no longer matches catalogs.yaml is MS4013 at the uses: line', async () => {
    const catalog = makeCatalog();
    const dir = makeRepo(catalog.bare);
    expect((await lock(dir, dataDirOf(dir))).code).toBe(0);

    // Edited by hand to point at another repository.
    const edited = readLock(dir);
    edited.catalogs.acme!.url = '/srv/elsewhere.git';
    writeFileSync(join(dir, '.maestro/tasks.lock'), JSON.stringify(edited));
    const elsewhere = await validate(dir);
    expect(elsewhere.diagnostics.filter((d) => d.code.startsWith('MS40'))).toMatchObject([
      { code: 'MS4013', line: 8 },
    ]);
    expect(elsewhere.diagnostics[0]!.message).toContain('/srv/elsewhere.git');

    // A task pinned at a commit other than its catalog's.
    const other = readLock(dir);
    other.catalogs.acme!.url = catalog.bare;
    other.tasks['acme/greet']!.commit = '0'.repeat(40);
    writeFileSync(join(dir, '.maestro/tasks.lock'), JSON.stringify(other));
    expect((await validate(dir)).diagnostics.filter((d) => d.code.startsWith('MS40'))).toMatchObject([
      { code: 'MS4013', line: 8 },
    ]);

    // catalogs.yaml moved to another ref without locking again.
    expect((await lock(dir, dataDirOf(dir))).code).toBe(0);
    write(dir, { '.maestro/catalogs.yaml': `catalogs:\n  acme: { url: "${catalog.bare}", ref: main }\n` });
    const stale = await validate(dir);
    expect(stale.diagnostics.filter((d) => d.code.startsWith('MS40'))).toMatchObject([
      { code: 'MS4013', line: 8 },
    ]);
    expect(stale.diagnostics[0]!.hint).toContain('maestro tasks lock');
  }, 120_000);

  it('refuses a uses: path that escapes the catalog, and a catalog folder that is a symbolic link', async () => {
    const catalog = makeCatalog();
    const escaping = makeRepo(catalog.bare, 'acme/../../etc@1');
    expect((await validate(escaping)).diagnostics.filter((d) => d.code.startsWith('MS40'))).toMatchObject([
      { code: 'MS4010', line: 8 },
    ]);
    const lockEscaping = await lock(escaping, dataDirOf(escaping));
    expect(lockEscaping.code).toBe(1);
    expect(lockEscaping.stderr).toContain('does not name a task folder inside the catalog');

    const linked = makeRepo(catalog.bare, 'acme/linked@1');
    const lockLinked = await lock(linked, dataDirOf(linked));
    expect(lockLinked.code).toBe(1);
    expect(lockLinked.stderr).toContain('symbolic link');
    expect(() => readFileSync(join(linked, '.maestro/tasks.lock'))).toThrow();

    // An undeclared catalog is MS4011, naming the declared ones.
    const undeclared = makeRepo(catalog.bare, 'other/greet@1');
    const d = (await validate(undeclared)).diagnostics;
    expect(d.filter((x) => x.code.startsWith('MS40'))).toMatchObject([{ code: 'MS4011', line: 8 }]);
    expect(d[0]!.hint).toContain('acme');
  }, 120_000);
});
