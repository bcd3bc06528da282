/**
 * Secrets at rest and in logs, end to end through `maestro run`: a three-line PEM-like secret with
 * `"` and `\` in it reaches tasks as an environment variable, inline in a script, as a catalog
 * task's input (serialised into MAESTRO_INPUTS) and as an output; the tasks print it. Afterwards no
 * line of it, raw or JSON-escaped, is anywhere under the data directory: every file is scanned as
 * bytes, the SQLite databases and their -wal/-shm files included. The data directory is 0700 and
 * every database file in it 0600. The same check runs with every task on the container runner
 * (real Podman), whose logs take the container path through the shared redactor.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { captureIo } from './cli-helpers.ts';
import { ensurePodmanService, TEST_IMAGE, type PodmanService } from './setup/podman-service.ts';

const PEM = [
  '-----BEGIN MAESTRO TEST KEY 7f3a-----',
  'MIIEvQ"quoted"\\back\\slash+AbCdEf0123/ZyXw',
  '-----END MAESTRO TEST KEY 7f3a-----',
].join('\n');
const LINES = PEM.split('\n');
/** Each line as written, and as JSON writes it (how the old code stored inputs). */
const NEEDLES = [...new Set(LINES.flatMap((line) => [line, JSON.stringify(line).slice(1, -1)]))];

const root = join(import.meta.dirname, '..');
let podman: PodmanService;
let base: string;

beforeAll(async () => {
  podman = await ensurePodmanService();
  base = mkdtempSync(join(tmpdir(), 'maestro-secrets-at-rest-'));
}, 60_000);
afterAll(async () => {
  await podman?.stop();
});

function workflow(dir: string, withCatalog: boolean): string {
  const folder = join(dir, 'wf', '.maestro', 'workflows');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, 'leak.yaml');
  const catalog = withCatalog
    ? `
    - id: as-input
      uses: tasks/echo@1
      with: { message: "\${secrets.PEM}" }
`
    : '';
  writeFileSync(
    file,
    `apiVersion: maestro/v1
kind: Workflow
metadata: { name: leak, namespace: secrets }
spec:
  defaults: { runner: local }
  tasks:
    - id: as-env
      run: |
        echo "$KEY"
        printf '%s\\n' "$KEY" >&2
        printf 'as json: {"key": "%s"}\\n' "$KEY"
        printf 'token<<EOF\\n%s\\nEOF\\n' "$KEY" >> "$MAESTRO_OUTPUT"
      env: { KEY: "\${secrets.PEM}" }
      outputs: [token]
    - id: inline
      run: echo "\${secrets.PEM}"
${catalog}`,
  );
  return file;
}

/** Every file under `dir` (links not followed), as bytes. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

function leaksUnder(dir: string): string[] {
  const leaks: string[] = [];
  for (const file of filesUnder(dir)) {
    if (!lstatSync(file).isFile()) continue;
    const bytes = readFileSync(file);
    for (const needle of NEEDLES) if (bytes.includes(Buffer.from(needle))) leaks.push(`${file}: ${needle}`);
  }
  return leaks;
}

async function runLeak(dataDir: string, extra: string[], catalog: boolean) {
  const io = captureIo(root, {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MAESTRO_DATA_DIR: dataDir,
    MAESTRO_SECRET_PEM: PEM,
  });
  const code = await runCli(['run', workflow(dataDir, catalog), ...extra], io);
  return { code, io };
}

function storedLogs(dataDir: string): string[] {
  const db = new DatabaseSync(join(dataDir, 'maestro.db'), { readOnly: true });
  try {
    return (db.prepare('SELECT * FROM logs').all() as Record<string, unknown>[]).map((r) => String(r.text));
  } finally {
    db.close();
  }
}

describe('secrets at rest after maestro run', () => {
  it('local runner: no line of a PEM secret anywhere under the data dir; dir 0700, databases 0600', async () => {
    const dataDir = join(base, 'local');
    const { code, io } = await runLeak(dataDir, [], true);
    // The echo catalog task prints its message, then refuses a multi-line output (exit 1).
    expect(code, io.err()).toBe(1);
    expect(io.out()).toContain('as-env | ***');
    const logs = storedLogs(dataDir);
    expect(logs.filter((t) => t === '***').length).toBeGreaterThanOrEqual(9);
    expect(logs).toContain('as json: {"key": "***');
    expect(leaksUnder(dataDir)).toEqual([]);
    for (const needle of NEEDLES) expect(io.out() + io.err()).not.toContain(needle);
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
    const databases = filesUnder(dataDir).filter((f) => /\.(db|sqlite)(-wal|-shm|-journal)?$/.test(f));
    // The decision log is in maestro.db (engine/store/sqlite/sqlite-decision-log.ts).
    expect(databases.map((f) => f.slice(dataDir.length))).toEqual(expect.arrayContaining(['/maestro.db']));
    for (const file of databases) expect([file, lstatSync(file).mode & 0o777]).toEqual([file, 0o600]);
  }, 120_000);

  it('container runner: the same run on Podman leaves no line of the secret in its logs or the data dir', async () => {
    const dataDir = join(base, 'container');
    mkdirSync(dataDir);
    const config = join(base, 'runners.yaml');
    writeFileSync(
      config,
      `container:\n  socketPath: ${podman.socketPath}\n  defaultImage: ${TEST_IMAGE}\n  resourceClasses:\n    small: { memoryBytes: 268435456, pids: 256 }\n`,
    );
    const { code, io } = await runLeak(dataDir, ['--runner', 'container', '--runners', config], false);
    expect(code, io.err()).toBe(0);
    expect(leaksUnder(dataDir)).toEqual([]);
    const logs = storedLogs(dataDir);
    expect(logs.filter((t) => t === '***').length).toBeGreaterThanOrEqual(9);
    for (const needle of NEEDLES) expect(io.out() + io.err()).not.toContain(needle);
  }, 120_000);
});
